package io.dmtree.workloads.lockbench;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.nic.NicModelConfig;
import io.dmtree.workloads.ycsb.ZipfianGenerator;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One measured run of one design at one contention level. Every thread loops (at least once, then
 * until the deadline): pick a lock (uniformly, or
 * zipfian) and a mode (seeded), acquire (timed), READ the lock's node, and for an exclusive hold bump a counter
 * in it and write 64 bytes back in the release batch. A warm-up phase runs first on the same
 * cluster; verb counters are read around the measured phase only, after all threads joined, so
 * per-operation figures are exact. After the run every node counter must equal the exclusive
 * holds of its lock, or the run fails (mutual exclusion check).
 */
public final class LockBenchRun {
    private LockBenchRun() {
    }

    /**
     * @param locks       locks per memory node
     * @param zipfTheta   0: locks are picked uniformly; else by a zipfian distribution of this skew over
     *                    a memory node's locks (slot 0 hottest)
     * @param nic         null, or the modelled NIC every verb and message goes through
     * @param memoryNodes memory nodes, each with {@code locks} locks
     * @param colocated   compute node i shares memory node i's host for i below this
     * @param localRatio  negative: a lock is picked over all memory nodes alike; else a thread on a
     *                    memory node's host picks one of that node's locks with this probability and
     *                    one of another memory node's otherwise (threads on no host pick any node)
     */
    public record Settings(int cns, int threads, int locks, double sharedRatio, long warmupNanos, long durationNanos,
                           long modelledRttNanos, int nodeBytes, long seed, double zipfTheta, NicModelConfig nic,
                           int memoryNodes, int colocated, double localRatio) {
        public Settings(int cns, int threads, int locks, double sharedRatio, long warmupNanos, long durationNanos,
                        long modelledRttNanos, int nodeBytes, long seed) {
            this(cns, threads, locks, sharedRatio, warmupNanos, durationNanos, modelledRttNanos, nodeBytes, seed, 0, null);
        }

        /** One memory node, compute node 0 on its host. */
        public Settings(int cns, int threads, int locks, double sharedRatio, long warmupNanos, long durationNanos,
                        long modelledRttNanos, int nodeBytes, long seed, double zipfTheta, NicModelConfig nic) {
            this(cns, threads, locks, sharedRatio, warmupNanos, durationNanos, modelledRttNanos, nodeBytes, seed, zipfTheta,
                    nic, 1, 1, -1);
        }

        public Settings {
            if (localRatio > 1) {
                throw new IllegalArgumentException("local ratio must be at most 1: " + localRatio);
            }
        }

        int totalLocks() {
            return locks * memoryNodes;
        }
    }

    public static LockBenchResult run(LockDesign design, Settings s) throws InterruptedException {
        try (LockBenchCluster cluster = new LockBenchCluster(design, s.cns(), s.threads(), s.modelledRttNanos(),
                s.nodeBytes(), s.locks(), s.nic(), s.memoryNodes(), s.colocated())) {
            long[] exclusive = new long[s.totalLocks()];
            phase(design, cluster, s, s.warmupNanos(), s.seed() ^ 0x5EED, null, exclusive);
            VerbCounts before = cluster.traffic();
            Histogram latency = new Histogram(60_000_000_000L, 3);
            long[] counts = new long[3]; // operations, node reads, node writes
            long start = System.nanoTime();
            phase(design, cluster, s, s.durationNanos(), s.seed(), latency, exclusive, counts);
            double seconds = (System.nanoTime() - start) / 1e9;
            VerbCounts lockTraffic = cluster.traffic().minus(before);
            for (int i = 0; i < s.totalLocks(); i++) {
                long found = cluster.peek(cluster.data(i, s.nodeBytes()));
                if (found != exclusive[i]) {
                    throw new IllegalStateException(design.name() + ": node of lock " + i + " counts " + found
                            + " exclusive holds, expected " + exclusive[i] + ": mutual exclusion broken");
                }
            }
            long ops = counts[0];
            double verbs = ops == 0 ? 0 : (double) (lockTraffic.verbs() - counts[1] - counts[2]) / ops;
            double trips = ops == 0 ? 0 : (double) (lockTraffic.roundTrips() - counts[1]) / ops;
            return new LockBenchResult(design.name(), s.cns(), s.threads(), s.locks(),
                    (double) s.cns() * s.threads() / s.totalLocks(), ops, seconds, ops / seconds,
                    latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(99) / 1e3,
                    latency.getValueAtPercentile(99.9) / 1e3, verbs, trips);
        }
    }

    /** The next lock of a thread on compute node whose host is memory node {@code host} (or -1). */
    private static int pick(Settings s, SplittableRandom rnd, ZipfianGenerator zipf, int host) {
        int m = s.memoryNodes();
        int mn;
        if (s.localRatio() < 0 || host < 0) {
            mn = m == 1 ? 0 : rnd.nextInt(m);
        } else if (m == 1 || rnd.nextDouble() < s.localRatio()) {
            mn = host;
        } else {
            mn = rnd.nextInt(m - 1);
            if (mn >= host) {
                mn++; // one of the other memory nodes, uniformly
            }
        }
        int slot = zipf == null ? rnd.nextInt(s.locks()) : (int) zipf.next(rnd);
        return mn * s.locks() + slot;
    }

    private static void phase(LockDesign design, LockBenchCluster cluster, Settings s, long nanos, long seed,
                              Histogram latency, long[] exclusive) throws InterruptedException {
        phase(design, cluster, s, nanos, seed, latency, exclusive, new long[3]);
    }

    private static void phase(LockDesign design, LockBenchCluster cluster, Settings s, long nanos, long seed,
                              Histogram latency, long[] exclusive, long[] counts) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        List<Histogram> histograms = new ArrayList<>();
        List<long[]> perThread = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        SplittableRandom root = new SplittableRandom(seed);
        long[][] exclusivePerThread = new long[s.cns() * s.threads()][s.totalLocks()];
        long deadline = System.nanoTime() + nanos;
        ZipfianGenerator zipf = s.zipfTheta() > 0 && s.locks() > 1 ? new ZipfianGenerator(s.locks(), s.zipfTheta()) : null;
        int index = 0;
        for (int cn = 0; cn < s.cns(); cn++) {
            LockClient client = cluster.client(cn);
            int host = cluster.hostMemoryNode(cn);
            Verbs verbs = cluster.verbs(cn);
            for (int t = 0; t < s.threads(); t++) {
                SplittableRandom rnd = root.split();
                Histogram h = new Histogram(60_000_000_000L, 3);
                long[] c = new long[3];
                long[] mine = exclusivePerThread[index++];
                histograms.add(h);
                perThread.add(c);
                Thread th = new Thread(() -> {
                    try {
                        UnsafeBuffer node = new UnsafeBuffer(new byte[Math.max(s.nodeBytes(), 64)]);
                        VerbBatch writeBack = new VerbBatch();
                        // every thread completes at least one operation, so a starved host still yields figures
                        for (boolean first = true; (first || System.nanoTime() < deadline) && failure.get() == null;
                             first = false) {
                            int li = pick(s, rnd, zipf, host);
                            LockMode mode = rnd.nextDouble() < s.sharedRatio() ? LockMode.SHARED : LockMode.EXCLUSIVE;
                            long lock = cluster.lock(li);
                            long data = cluster.data(li, s.nodeBytes());
                            long t0 = System.nanoTime();
                            client.acquire(lock, mode);
                            h.recordValue(Math.max(1, System.nanoTime() - t0));
                            verbs.read(data, node, 0, node.capacity());
                            c[1]++;
                            writeBack.clear();
                            if (mode == LockMode.EXCLUSIVE) {
                                node.putLong(0, node.getLong(0) + 1);
                                writeBack.write(data, node, 0, 64);
                                c[2]++;
                                mine[li]++;
                            }
                            client.release(lock, mode, writeBack);
                            c[0]++;
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "lockbench-cn" + cn + "-t" + t);
                th.setDaemon(true);
                threads.add(th);
            }
        }
        for (Thread th : threads) {
            th.start();
        }
        for (Thread th : threads) {
            th.join(nanos / 1_000_000 + Long.getLong("dmtree.lockbench.hangMillis", 120_000));
            if (th.isAlive()) {
                StringBuilder dump = new StringBuilder();
                for (Thread other : threads) {
                    if (other.isAlive()) {
                        dump.append("\n").append(other.getName()).append(":");
                        for (StackTraceElement e : other.getStackTrace()) {
                            dump.append("\n    at ").append(e);
                        }
                    }
                }
                throw new IllegalStateException(design.name() + ": " + th.getName()
                        + " still running 2 minutes after the deadline (deadlock or lost grant)" + dump);
            }
        }
        if (failure.get() != null) {
            throw new IllegalStateException(design.name() + " failed: " + failure.get(), failure.get());
        }
        for (int i = 0; i < histograms.size(); i++) {
            if (latency != null) {
                latency.add(histograms.get(i));
            }
            for (int k = 0; k < 3; k++) {
                counts[k] += perThread.get(i)[k];
            }
        }
        for (long[] mine : exclusivePerThread) {
            for (int i = 0; i < mine.length; i++) {
                exclusive[i] += mine[i];
            }
        }
    }
}
