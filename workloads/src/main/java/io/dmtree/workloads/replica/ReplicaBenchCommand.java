package io.dmtree.workloads.replica;

import io.dmtree.cn.DmIndex;
import io.dmtree.cn.EmbeddedCluster;
import io.dmtree.cn.replica.ReplicatingVerbs;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.memory.Verbs;
import io.dmtree.workloads.ycsb.ScrambledZipfianGenerator;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code dmtree replicabench}: the cost of synchronous mirroring, side by side in one run. One
 * embedded cluster per replica count (1, 2, 3; local carrier, measured, not modelled), loaded with
 * the same keys; then rounds in which every cluster runs YCSB A (50% reads, 50% updates) and C
 * (reads only) in turn over zipfian keys, so the three see the same machine state. Prints per
 * replica count and workload: throughput, p50/p99/p99.9 latency, each as a ratio to one replica
 * too; and, from a single-threaded pass of updates with exact counters: memory-node round trips
 * per update over all memory nodes, sequential rounds per update (what latency pays), bytes per
 * update. With {@code --kills N}: failover time, from the kill of a region's primary under a
 * running update workload to the first update completed on the promoted mirror, p50 and p99 over N
 * kills (each on a fresh cluster). In one JVM the failover is started at the kill, so this is the
 * switch and retry time; membership's detection (a ZooKeeper session timeout) comes on top.
 */
@Command(name = "replicabench", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = {"Cost of synchronous mirroring: replicas 1, 2, 3 on YCSB A and C side by side (measured, local carrier)."})
public final class ReplicaBenchCommand implements Callable<Integer> {
    @Option(names = "--replicas", split = ",", defaultValue = "1,2,3", description = "replica counts to compare")
    List<Integer> replicas;

    @Option(names = "--keys", defaultValue = "100000", description = "keys loaded")
    long keys;

    @Option(names = "--threads", defaultValue = "2", description = "worker threads (one compute node)")
    int threads;

    @Option(names = "--seconds", defaultValue = "3", description = "seconds per workload phase")
    double seconds;

    @Option(names = "--rounds", defaultValue = "2", description = "rounds of every (replicas, workload) phase; figures pool them")
    int rounds;

    @Option(names = "--lock", defaultValue = "modular", description = "lock design")
    String lock;

    @Option(names = "--seed", description = "random seed (default: fresh, printed)")
    Long seed;

    @Option(names = "--kills", defaultValue = "0", description = "also measure failover time over this many primary kills (0: skip)")
    int kills;

    @Option(names = "--failover-replicas", defaultValue = "2", description = "replicas of the failover-time clusters (2 or 3)")
    int failoverReplicas;

    @Option(names = "--failover-lock", defaultValue = "cas-spin",
            description = "lock design of the failover-time clusters (failover voids lock words on the memory nodes)")
    String failoverLock;

    private static final String[] WORKLOADS = {"A", "C"};

    @Override
    public Integer call() throws Exception {
        if (replicas.isEmpty() || replicas.stream().anyMatch(r -> r < 1 || r > 3)) {
            throw new IllegalArgumentException("--replicas takes counts of 1, 2 or 3: " + replicas);
        }
        if (keys < 1_000 || threads < 1 || seconds <= 0 || rounds < 1) {
            throw new IllegalArgumentException("--keys at least 1000, --threads, --seconds and --rounds positive");
        }
        long s = seed != null ? seed : System.nanoTime();
        System.out.printf(Locale.ROOT, "replicabench seed=%d keys=%d threads=%d seconds=%.1f rounds=%d lock=%s (measured, local carrier)%n",
                s, keys, threads, seconds, rounds, lock);
        List<EmbeddedCluster> clusters = new ArrayList<>();
        try {
            for (int r : replicas) {
                EmbeddedCluster c = EmbeddedCluster.builder().replicas(r).lock(lock).regionBytes(512L << 20)
                        .chunkBytes(1L << 20).threadsPerComputeNode(Math.max(threads, 4)).start();
                DmIndex index = c.index(0);
                for (long k = 0; k < keys; k++) {
                    index.put(k, k);
                }
                clusters.add(c);
            }
            ScrambledZipfianGenerator keyChooser = new ScrambledZipfianGenerator(keys, 0.99);
            Histogram[][] latency = new Histogram[clusters.size()][WORKLOADS.length];
            long[][] ops = new long[clusters.size()][WORKLOADS.length];
            long[][] nanos = new long[clusters.size()][WORKLOADS.length];
            for (int i = 0; i < clusters.size(); i++) {
                for (int w = 0; w < WORKLOADS.length; w++) {
                    latency[i][w] = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
                }
            }
            for (int round = 0; round < rounds; round++) {
                for (int w = 0; w < WORKLOADS.length; w++) {
                    for (int i = 0; i < clusters.size(); i++) {
                        long seedHere = s + 1_000_003L * (round * 16 + w * 4 + i);
                        long[] done = phase(clusters.get(i).index(0), keyChooser, w == 0 ? 0.5 : 0.0, seedHere, latency[i][w]);
                        ops[i][w] += done[0];
                        nanos[i][w] += done[1];
                    }
                }
            }
            System.out.println();
            System.out.println("workload replicas    ops/s  x(R=1)   p50 us  x(R=1)   p99 us  x(R=1) p99.9 us");
            for (int w = 0; w < WORKLOADS.length; w++) {
                double baseTput = 0;
                double base50 = 0;
                double base99 = 0;
                for (int i = 0; i < clusters.size(); i++) {
                    double tput = ops[i][w] / (nanos[i][w] / 1e9);
                    double p50 = latency[i][w].getValueAtPercentile(50) / 1e3;
                    double p99 = latency[i][w].getValueAtPercentile(99) / 1e3;
                    double p999 = latency[i][w].getValueAtPercentile(99.9) / 1e3;
                    if (i == 0) {
                        baseTput = tput;
                        base50 = p50;
                        base99 = p99;
                    }
                    System.out.printf(Locale.ROOT, "%-8s %8d %8.0f %7.2f %8.2f %7.2f %8.2f %7.2f %8.2f%n", WORKLOADS[w],
                            replicas.get(i), tput, tput / baseTput, p50, p50 / base50, p99, p99 / base99, p999);
                }
            }
            System.out.println();
            System.out.println("per update (exact counters, single thread, zipfian keys)");
            System.out.println("replicas  MN round trips  sequential rounds  bytes  bytes to mirrors");
            for (int i = 0; i < clusters.size(); i++) {
                EmbeddedCluster c = clusters.get(i);
                Verbs verbs = c.computeNode(0).verbs();
                int updates = 20_000;
                SplittableRandom random = new SplittableRandom(s ^ 0x5DEECE66DL);
                DmIndex index = c.index(0);
                for (int u = 0; u < 2_000; u++) {
                    index.get(keyChooser.next(random)); // warm the cache the same way for every cluster
                }
                c.resetCounters();
                for (int u = 0; u < updates; u++) {
                    index.put(keyChooser.next(random), u);
                }
                VerbCounts all = verbs.totalCounts();
                VerbCounts primary = verbs.counters(0).snapshot();
                long sequential = verbs instanceof ReplicatingVerbs rv ? rv.rounds() : primary.roundTrips();
                long bytes = all.readBytes() + all.writeBytes();
                long toMirrors = bytes - primary.readBytes() - primary.writeBytes();
                System.out.printf(Locale.ROOT, "%8d  %14.3f  %17.3f  %5.0f  %16.0f%n", replicas.get(i),
                        all.roundTrips() / (double) updates, sequential / (double) updates, bytes / (double) updates,
                        toMirrors / (double) updates);
            }
        } finally {
            for (EmbeddedCluster c : clusters) {
                c.close();
            }
        }
        if (kills > 0) {
            failoverTimes(s);
        }
        return 0;
    }

    private void failoverTimes(long s) throws InterruptedException {
        if (failoverReplicas < 2 || failoverReplicas > 3) {
            throw new IllegalArgumentException("--failover-replicas must be 2 or 3: " + failoverReplicas);
        }
        Histogram micros = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        for (int kill = 0; kill < kills; kill++) {
            try (EmbeddedCluster c = EmbeddedCluster.builder().replicas(failoverReplicas).lock(failoverLock)
                    .regionBytes(128L << 20).chunkBytes(1L << 20).threadsPerComputeNode(Math.max(threads, 4)).start()) {
                DmIndex index = c.index(0);
                long loaded = Math.min(keys, 20_000);
                for (long k = 0; k < loaded; k++) {
                    index.put(k, k);
                }
                long[] killedAt = {Long.MAX_VALUE};
                java.util.concurrent.atomic.AtomicLong firstAfter = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
                java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
                Thread[] workers = new Thread[threads];
                for (int t = 0; t < threads; t++) {
                    SplittableRandom random = new SplittableRandom(s + 31L * kill + t);
                    workers[t] = new Thread(() -> {
                        long n = 0;
                        while (!stop.get()) {
                            index.put(random.nextLong(loaded), n++);
                            long now = System.nanoTime();
                            long at;
                            synchronized (killedAt) {
                                at = killedAt[0];
                            }
                            if (now > at) {
                                firstAfter.accumulateAndGet(now, Math::min);
                            }
                        }
                    }, "failover-" + t);
                    workers[t].start();
                }
                Thread.sleep(200);
                int victim = c.currentPlacement().primary(0);
                synchronized (killedAt) {
                    killedAt[0] = System.nanoTime();
                }
                c.killMemoryNode(victim);
                c.failOver(victim);
                long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (firstAfter.get() == Long.MAX_VALUE && System.nanoTime() < waitUntil) {
                    Thread.sleep(1);
                }
                stop.set(true);
                for (Thread w : workers) {
                    w.join(TimeUnit.SECONDS.toMillis(60));
                }
                if (firstAfter.get() == Long.MAX_VALUE) {
                    throw new IllegalStateException("no update completed within 30 s of kill " + kill);
                }
                micros.recordValue(Math.max(1, (firstAfter.get() - killedAt[0]) / 1_000));
            }
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "failover time (replicas %d, lock %s, %d kills of the primary; detection excluded):"
                        + " p50 %d us, p99 %d us, max %d us%n", failoverReplicas, failoverLock, kills,
                micros.getValueAtPercentile(50), micros.getValueAtPercentile(99), micros.getMaxValue());
    }

    /** One timed phase on {@code index}: returns {operations, elapsed nanoseconds}. */
    private long[] phase(DmIndex index, ScrambledZipfianGenerator keyChooser, double updateShare, long seed,
                         Histogram into) throws InterruptedException {
        long phaseNanos = (long) (seconds * 1e9);
        Histogram[] mine = new Histogram[threads];
        long[] counts = new long[threads];
        Thread[] workers = new Thread[threads];
        long start = System.nanoTime();
        long end = start + phaseNanos;
        for (int t = 0; t < threads; t++) {
            int id = t;
            mine[t] = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            SplittableRandom random = new SplittableRandom(seed + t);
            workers[t] = new Thread(() -> {
                long n = 0;
                long now = System.nanoTime();
                while (now < end) {
                    long key = keyChooser.next(random);
                    if (random.nextDouble() < updateShare) {
                        index.put(key, n);
                    } else {
                        index.get(key);
                    }
                    long after = System.nanoTime();
                    mine[id].recordValue(Math.min(after - now, mine[id].getHighestTrackableValue()));
                    now = after;
                    n++;
                }
                counts[id] = n;
            }, "replicabench-" + t);
            workers[t].start();
        }
        long total = 0;
        for (int t = 0; t < threads; t++) {
            workers[t].join(TimeUnit.SECONDS.toMillis(60) + phaseNanos / 1_000_000);
            if (workers[t].isAlive()) {
                throw new IllegalStateException("worker " + t + " did not end its phase");
            }
            total += counts[t];
            into.add(mine[t]);
        }
        return new long[]{total, System.nanoTime() - start};
    }
}
