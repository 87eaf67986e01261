package io.dmtree.cn.e2e;

import io.dmtree.cn.DmIndex;
import io.dmtree.cn.LockedCounter;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.cn.control.RemoteComputeNode;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.core.wire.HostPort;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A compute-node process for the end-to-end tests (run by {@link MultiProcessClusterTest}).
 * Modes:
 * <ul>
 *   <li>{@code mixed MN PARTIES OPS KEYS INCREMENTS SEED}: after a start barrier, two threads run
 *   puts, gets and deletes on keys shared with the other compute nodes and on keys of its own,
 *   and increment a counter guarded by a lock of the cluster's lock design; then the compute nodes
 *   exchange their acknowledged writes at a barrier and each checks that the index shows them
 *   (shared keys: one of the last acknowledged writes; own keys of every node: exactly), compute
 *   node with the lowest id runs the tree checker and checks the counter. Prints {@code E2E OK} or
 *   {@code E2E FAIL reason} and exits 0 or 1.</li>
 *   <li>{@code victim MN KEYS}: writes KEYS keys of its own, prints {@code VICTIM-READING}, then
 *   reads (gets and scans, no locks) until killed.</li>
 *   <li>{@code verify MN KEYS}: checks the victim's keys and runs the tree checker; prints
 *   {@code VERIFY OK} or {@code VERIFY FAIL reason}.</li>
 *   <li>{@code faa MN}: runs FAA on the cluster until a verb fails, then prints
 *   {@code FAILED-CLEANLY message} and exits 3 (used to kill the memory node under it).</li>
 * </ul>
 */
public final class EndToEndComputeNode {
    private static final long SHARED_BASE = 0;
    private static final long OWN_BASE = 1_000_000_000L;
    private static final long VICTIM_BASE = 100_000_000_000L;

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        ClusterClient.Options options = ClusterClient.Options.of(List.of(HostPort.parse("memory node", args[1])))
                .withTimeoutMillis(10_000);
        String secret = System.getProperty("dmtree.e2e.secret"); // the memory node's cluster secret file
        if (secret != null) {
            options = options.withSecret(io.dmtree.core.wire.ClusterSecret.load(java.nio.file.Path.of(secret)));
        }
        if (mode.equals("faa")) {
            faaUntilFailure(options);
            return;
        }
        if (mode.equals("victim") || mode.equals("verify")) {
            int keys = Integer.parseInt(args[2]);
            String lock = args.length > 3 ? args[3] : "cas-spin";
            try (RemoteComputeNode cn = RemoteComputeNode.join(options, TreeConfig.defaults().withNodeBytes(512), lock,
                    RemoteComputeNode.DEFAULT_MAX_COMPUTE_NODES, 16)) {
                if (mode.equals("victim")) {
                    victim(cn, keys); // never returns: killed by the test
                }
                String problem = verifyVictim(cn, keys);
                System.out.println(problem == null ? "VERIFY OK cn=" + cn.id() : "VERIFY FAIL " + problem);
                System.out.flush();
                System.exit(problem == null ? 0 : 1);
            }
        }
        int parties = Integer.parseInt(args[2]);
        int ops = Integer.parseInt(args[3]);
        int keys = Integer.parseInt(args[4]);
        int increments = Integer.parseInt(args[5]);
        long seed = Long.parseLong(args[6]);
        String lock = args.length > 7 ? args[7] : "cas-spin";
        int code;
        try (RemoteComputeNode cn = RemoteComputeNode.join(options, TreeConfig.defaults().withNodeBytes(512), lock,
                    RemoteComputeNode.DEFAULT_MAX_COMPUTE_NODES, 16)) {
            String failure = mixed(cn, parties, ops, keys, increments, seed);
            System.out.println(failure == null ? "E2E OK cn=" + cn.id() : "E2E FAIL cn=" + cn.id() + " " + failure);
            code = failure == null ? 0 : 1;
        }
        System.out.flush();
        System.exit(code);
    }

    private static void faaUntilFailure(ClusterClient.Options options) {
        try (ClusterClient c = ClusterClient.join(options)) {
            long word = c.chunkSource().allocateChunk(0);
            System.out.println("READY-LOOP cn=" + c.computeNodeId());
            System.out.flush();
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (System.nanoTime() < deadline) {
                try {
                    c.verbs().faa(word, 1);
                } catch (RemoteAccessException e) {
                    System.out.println("FAILED-CLEANLY " + e.getMessage());
                    System.out.flush();
                    System.exit(3);
                }
            }
            System.out.println("NO FAILURE within 60 s");
        }
        System.exit(4);
    }

    private static String mixed(RemoteComputeNode cn, int parties, int ops, int keys, int increments, long seed) throws Exception {
        DmIndex index = cn.index();
        int me = cn.id();
        // every node offers a counter word; the leader's (lowest id at the start barrier) is used
        long counter = LockedCounter.allocateWord(cn.cluster().chunkSource(), 0);
        Map<Integer, byte[]> start = cn.cluster().barrier("start", parties, 60_000, ByteBuffer.allocate(8).putLong(counter).array());
        int leader = start.keySet().stream().min(Integer::compare).orElseThrow();
        counter = ByteBuffer.wrap(start.get(leader)).getLong();
        System.out.println("E2E STARTED cn=" + me);
        System.out.flush();
        LockedCounter lockedCounter = new LockedCounter(cn.computeNode(), cn.cluster().chunkSource(), counter);

        Map<Long, Long> lastShared = new ConcurrentHashMap<>();
        Map<Long, Long> own = new ConcurrentHashMap<>();
        String[] failure = new String[1];
        Thread[] threads = new Thread[2];
        for (int t = 0; t < threads.length; t++) {
            int thread = t;
            threads[t] = new Thread(() -> {
                try {
                    Random rnd = new Random(seed * 31 + me * 7 + thread);
                    LockedCounter.Incrementer incrementer = lockedCounter.incrementer();
                    int done = 0;
                    for (int i = 0; i < ops; i++) {
                        int r = rnd.nextInt(100);
                        if (r < 35) {
                            // shared keys: thread t of every node writes keys = t mod 2, so per node one writer per key
                            long k = SHARED_BASE + 2L * rnd.nextInt(keys / 2) + thread;
                            long v = ((long) (me + 1) << 40) | i;
                            index.put(k, v);
                            lastShared.put(k, v);
                        } else if (r < 55) {
                            long k = SHARED_BASE + rnd.nextInt(keys);
                            OptionalLong v = index.get(k);
                            if (v.isPresent() && (v.getAsLong() >>> 40) < 1) {
                                throw new AssertionError("shared key " + k + " holds a value nobody wrote: " + v.getAsLong());
                            }
                        } else if (r < 80) {
                            long k = OWN_BASE * (me + 1) + 2L * rnd.nextInt(keys / 2) + thread;
                            long v = rnd.nextLong();
                            index.put(k, v);
                            own.put(k, v);
                        } else if (r < 88) {
                            long k = OWN_BASE * (me + 1) + 2L * rnd.nextInt(keys / 2) + thread;
                            boolean was = index.delete(k);
                            if (was != own.containsKey(k)) {
                                throw new AssertionError("delete of own key " + k + " returned " + was);
                            }
                            own.remove(k);
                        } else {
                            long k = OWN_BASE * (me + 1) + 2L * rnd.nextInt(keys / 2) + thread;
                            OptionalLong v = index.get(k);
                            Long expected = own.get(k);
                            if (expected == null ? v.isPresent() : (v.isEmpty() || v.getAsLong() != expected)) {
                                throw new AssertionError("own key " + k + " reads " + v + ", last write was " + expected);
                            }
                        }
                        if (done < increments && i % Math.max(1, ops / Math.max(1, increments)) == 0) {
                            incrementer.increment();
                            done++;
                        }
                    }
                    while (done < increments) {
                        incrementer.increment();
                        done++;
                    }
                } catch (Throwable e) {
                    synchronized (failure) {
                        if (failure[0] == null) {
                            failure[0] = "thread " + thread + ": " + e;
                            e.printStackTrace();
                        }
                    }
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        Map<Integer, byte[]> written = cn.cluster().barrier("written", parties, 120_000, encode(failure[0], lastShared, own));
        String problem = failure[0];
        Map<Long, java.util.Set<Long>> allowed = new HashMap<>();
        for (Map.Entry<Integer, byte[]> e : written.entrySet()) {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(e.getValue()));
            String theirFailure = in.readUTF();
            if (!theirFailure.isEmpty() && problem == null) {
                problem = "compute node " + e.getKey() + " failed: " + theirFailure;
            }
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                allowed.computeIfAbsent(in.readLong(), k -> new java.util.HashSet<>()).add(in.readLong());
            }
            int m = in.readInt();
            for (int i = 0; i < m; i++) {
                long k = in.readLong();
                long v = in.readLong();
                OptionalLong got = index.get(k);
                if (problem == null && (got.isEmpty() || got.getAsLong() != v)) {
                    problem = "compute node " + e.getKey() + "'s key " + k + " reads " + got + " here, it wrote " + v;
                }
            }
        }
        for (Map.Entry<Long, java.util.Set<Long>> e : allowed.entrySet()) {
            OptionalLong got = index.get(e.getKey());
            if (problem == null && (got.isEmpty() || !e.getValue().contains(got.getAsLong()))) {
                problem = "shared key " + e.getKey() + " reads " + got + ", last acknowledged writes were " + e.getValue();
            }
        }
        if (me == leader && problem == null) {
            TreeReport report = cn.computeNode().check();
            if (!report.ok()) {
                problem = "tree checker: " + report;
            }
            long value = lockedCounter.read();
            long expected = (long) parties * 2 * increments;
            if (value != expected) {
                problem = "lock-protected counter is " + value + ", expected " + expected;
            }
            System.out.println("E2E counter=" + value + " keys=" + report.keys() + " height=" + report.height());
        }
        // nobody leaves (and frees its id) before everyone checked
        cn.cluster().barrier("checked", parties, 120_000, new byte[0]);
        return problem;
    }

    private static long victimValue(long i) {
        return i * 7919 + 17;
    }

    /**
     * Writes keys {@code VICTIM_BASE + i} (acknowledged), prints {@code VICTIM-READING}, then only
     * reads (gets and scans over everyone's keys): from then on it holds no lock, and the test kills
     * it with SIGKILL in the middle of a read.
     */
    private static void victim(RemoteComputeNode cn, int keys) {
        DmIndex index = cn.index();
        for (int i = 0; i < keys; i++) {
            index.put(VICTIM_BASE + i, victimValue(i));
        }
        System.out.println("VICTIM-READING cn=" + cn.id() + " wrote " + keys);
        System.out.flush();
        Random rnd = new Random(cn.id());
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (System.nanoTime() < deadline) {
            long k = VICTIM_BASE + rnd.nextInt(keys);
            if (index.get(k).orElse(-1) != victimValue(k - VICTIM_BASE)) {
                System.out.println("VICTIM lost its own key " + k);
            }
            index.scan(rnd.nextBoolean() ? SHARED_BASE + rnd.nextInt(100) : OWN_BASE + rnd.nextInt(100), 50);
        }
        System.exit(5);
    }

    /** After the victim was killed: all its acknowledged writes are there and the tree checker passes. */
    private static String verifyVictim(RemoteComputeNode cn, int keys) {
        for (int i = 0; i < keys; i++) {
            OptionalLong v = cn.index().get(VICTIM_BASE + i);
            if (v.isEmpty() || v.getAsLong() != victimValue(i)) {
                return "victim key " + (VICTIM_BASE + i) + " reads " + v + ", it wrote " + victimValue(i);
            }
        }
        TreeReport report = cn.computeNode().check();
        System.out.println("VERIFY tree " + report);
        return report.ok() ? null : "tree checker: " + report;
    }

    private static byte[] encode(String failure, Map<Long, Long> shared, Map<Long, Long> own) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        out.writeUTF(failure == null ? "" : failure.length() > 500 ? failure.substring(0, 500) : failure);
        out.writeInt(shared.size());
        for (Map.Entry<Long, Long> e : shared.entrySet()) {
            out.writeLong(e.getKey());
            out.writeLong(e.getValue());
        }
        out.writeInt(own.size());
        for (Map.Entry<Long, Long> e : own.entrySet()) {
            out.writeLong(e.getKey());
            out.writeLong(e.getValue());
        }
        out.flush();
        return b.toByteArray();
    }
}
