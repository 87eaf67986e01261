package io.dmtree.workloads.cn;

import io.dmtree.workloads.run.BoundedThreads;

import io.dmtree.cn.DmIndex;
import io.dmtree.cn.control.BarrierRelease;
import io.dmtree.cn.control.RemoteComputeNode;
import io.dmtree.cn.history.HistoryFile;
import io.dmtree.cn.history.HistoryLog;
import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.LockTable;
import io.dmtree.core.memory.FencedException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * The checked round of a multi-process run ({@code dmtree cn --checked-ops N --history FILE}): a
 * round whose outcome is checked afterwards even when compute nodes die or are fenced in it.
 * Every thread of every compute node alternates two things:
 * <ul>
 *   <li>a tree operation (get 50%, put 40%, delete 10%) on one of {@code keys} keys of the round,
 *   recorded in the node's acknowledged history ({@link HistoryLog}) before it starts and after it
 *   returns; every put writes a value unique to its node, thread and sequence number;</li>
 *   <li>an increment of a group of {@code counterLocks} locked counters: it takes one lock per
 *   counter (lock-table slots of memory node 0, in ascending order, so increments never deadlock
 *   each other), reads every word, and releases each lock with its word plus one in the release
 *   batch; then records the acknowledged count. A node killed here holds up to
 *   {@code counterLocks} locks and has others queued behind it.</li>
 * </ul>
 * The lowest-numbered member allocates the words and picks the slots; the others learn them at a
 * barrier. After every member finished or left, the reporting member waits until every departed
 * member is recovered, then writes the final value of every key and the counters' range to its
 * history; {@link io.dmtree.cn.history.HistoryCheck} ({@code dmtree history}) checks the files:
 * each key linearizable, the counters within the acknowledged and in-flight increments.
 *
 * <p>Tree locks and counter locks share the lock table, so a tree operation holding a leaf's
 * lock may wait for a counter's and the other way round; a cycle needs two of a tree operation's
 * slots among the counters' ({@code counterLocks} of {@link LockTable#slots()}), and would end at
 * the lock designs' bounded waits with an error, not a hang.
 */
public final class CheckedRound {
    private final RemoteComputeNode node;
    private final HistoryLog log;
    private final int threads;
    private final int opsPerThread;
    private final int keys;
    private final int counterLocks;
    private final long keyBase;
    private long holdNanos;
    private long[] words;
    private long[] locks;

    /**
     * @param runName the run's name: the round's keys are drawn from a range of its own, so rounds
     *                of different runs on one index do not share keys
     */
    public CheckedRound(RemoteComputeNode node, HistoryLog log, int threads, int opsPerThread, int keys, int counterLocks,
                        String runName) {
        if (threads < 1 || opsPerThread < 1 || keys < 1 || counterLocks < 1) {
            throw new IllegalArgumentException("threads, operations, keys and counter locks must be positive");
        }
        DmIndex index = node.index();
        if (index.keyBytes() != 8 || index.valueBytes() != 8) {
            throw new IllegalArgumentException("the checked round needs an index of 8-byte keys and values; this one has "
                    + index.keyBytes() + "-byte keys and " + index.valueBytes() + "-byte values");
        }
        this.node = node;
        this.log = log;
        this.threads = threads;
        this.opsPerThread = opsPerThread;
        this.keys = keys;
        this.counterLocks = counterLocks;
        long h = 0;
        for (byte b : runName.getBytes(StandardCharsets.UTF_8)) {
            h = h * 31 + b;
        }
        this.keyBase = (1L << 62) | ((h & 0xFFFFFL) << 32);
    }

    /**
     * Makes every increment hold its locks {@code micros} longer, recorded in the history when it
     * holds them all ({@link HistoryLog#holding}): a test kills the node then, so it dies holding
     * every counter lock with the others queued behind it. A timing knob, not part of the round's
     * outcome (partners need not agree on it).
     */
    public CheckedRound holdingFor(long micros) {
        if (micros < 0 || micros > 10_000_000) {
            throw new IllegalArgumentException("hold time must be in [0, 10 s]: " + micros + " us");
        }
        this.holdNanos = micros * 1000;
        return this;
    }

    /** Agrees on the counters with the other members through the run's member barrier {@code meet}. */
    public void share(java.util.Set<Integer> members, Function<byte[], BarrierRelease> meet) {
        int first = members.stream().min(Integer::compare).orElseThrow();
        ByteBuffer offer = ByteBuffer.allocate(16 * counterLocks);
        if (first == node.id()) {
            LockTable table = lockTable();
            if (counterLocks > table.slots() / 2) {
                throw new IllegalArgumentException(counterLocks + " counter locks do not fit a lock table of " + table.slots()
                        + " slots");
            }
            long chunk = node.cluster().chunkSource().allocateChunk(0);
            long firstSlot = new SplittableRandom(keyBase).nextLong(table.slots() - counterLocks);
            for (int i = 0; i < counterLocks; i++) {
                offer.putLong(chunk + 8L * i).putLong(table.lockAt(0, firstSlot + i));
            }
        }
        byte[] got = meet.apply(offer.array()).arrivals().get(first);
        if (got == null || got.length != 16 * counterLocks) {
            throw new IllegalStateException("compute node " + first + ", which allocates the checked round's counters, left"
                    + " before handing them over");
        }
        ByteBuffer b = ByteBuffer.wrap(got);
        words = new long[counterLocks];
        locks = new long[counterLocks];
        for (int i = 0; i < counterLocks; i++) {
            words[i] = b.getLong();
            locks[i] = b.getLong();
        }
    }

    private LockTable lockTable() {
        var chunks = node.cluster().chunkSource();
        return new LockTable(chunks.lockTableOffset(), chunks.lockTableBytes(), node.computeNode().lockDesign().lockBytes());
    }

    /**
     * Runs this node's threads until each made its operations; returns the increments made. A
     * thread that is fenced stops (its operation in flight stays pending in the history) and the
     * fence is thrown once every thread stopped.
     */
    public long run(int timeoutSeconds, long seed) throws InterruptedException {
        if (words == null) {
            throw new IllegalStateException("share the counters first");
        }
        long[] made = new long[threads];
        Throwable f = BoundedThreads.run(threads, "dmtree-cn" + node.id() + "-checked", timeoutSeconds,
                "its " + opsPerThread + " operations",
                thread -> work(thread, new SplittableRandom(seed * 1_000_003L + 97L * node.id() + thread), made));
        if (f instanceof FencedException fe) {
            throw fe;
        }
        if (f != null) {
            throw new IllegalStateException("checked round: an operation failed: " + f.getMessage(), f);
        }
        log.done();
        long sum = 0;
        for (long m : made) {
            sum += m;
        }
        return sum;
    }

    private void work(int thread, SplittableRandom random, long[] made) {
        DmIndex index = node.index();
        LockClient lockClient = node.computeNode().lockClient();
        Verbs verbs = node.computeNode().verbs();
        UnsafeBuffer value = new UnsafeBuffer(new byte[8 * counterLocks]);
        VerbBatch release = new VerbBatch();
        long valuePrefix = ((long) (node.id() + 1) << 48) | ((long) thread << 36);
        log.increments(thread, 0);
        for (int i = 1; i <= opsPerThread; i++) {
            long key = keyBase + random.nextInt(keys);
            int dice = random.nextInt(10);
            if (dice < 5) {
                log.invoke(thread, i, HistoryFile.Kind.GET, key, 0);
                OptionalLong v = index.get(key);
                log.respond(thread, i, v.orElse(0), v.isEmpty());
            } else if (dice < 9) {
                long written = valuePrefix | i;
                log.invoke(thread, i, HistoryFile.Kind.PUT, key, written);
                index.put(key, written);
                log.respond(thread, i, 0, true);
            } else {
                log.invoke(thread, i, HistoryFile.Kind.DELETE, key, 0);
                index.delete(key);
                log.respond(thread, i, 0, true);
            }
            for (long lock : locks) {
                lockClient.acquire(lock, LockMode.EXCLUSIVE);
            }
            if (holdNanos > 0) {
                log.holding(thread);
                // the whole dwell: a park may return early (a stale unpark permit of a lock grant, or spuriously)
                long until = System.nanoTime() + holdNanos;
                for (long left = holdNanos; left > 0; left = until - System.nanoTime()) {
                    java.util.concurrent.locks.LockSupport.parkNanos(left);
                }
            }
            for (int c = 0; c < counterLocks; c++) {
                verbs.read(words[c], value, 8 * c, 8);
            }
            for (int c = 0; c < counterLocks; c++) {
                value.putLong(8 * c, value.getLong(8 * c) + 1);
                release.clear();
                release.write(words[c], value, 8 * c, 8);
                lockClient.release(locks[c], LockMode.EXCLUSIVE, release);
            }
            made[thread]++;
            log.increments(thread, made[thread]);
        }
    }

    /**
     * The reporter's closing lines: the final value of every key of the round and the counters'
     * range, into its history. Call once every member finished or left and was recovered.
     */
    public void writeFinalState(long acknowledgedByFinished) {
        DmIndex index = node.index();
        for (int k = 0; k < keys; k++) {
            OptionalLong v = index.get(keyBase + k);
            log.finalValue(keyBase + k, v.orElse(0), v.isEmpty());
        }
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (long w : words) {
            node.computeNode().verbs().read(w, b, 0, 8);
            min = Math.min(min, b.getLong(0));
            max = Math.max(max, b.getLong(0));
        }
        log.counters(words.length, min, max, acknowledgedByFinished);
    }
}
