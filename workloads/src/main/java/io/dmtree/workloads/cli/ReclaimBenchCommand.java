package io.dmtree.workloads.cli;

import io.dmtree.cn.DmIndex;
import io.dmtree.cn.DmTree;
import io.dmtree.cn.EmbeddedCluster;
import io.dmtree.core.tree.RegionUse;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.lock.LockDesigns;
import io.dmtree.workloads.ycsb.ScrambledZipfianGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code dmtree reclaimbench}: the memory figures of node reclamation and reuse, measured on an
 * embedded cluster (local carrier): region bytes after each of ten insert/delete-all cycles (reuse
 * on and off), bytes per live record against the record payload at a given size, and throughput
 * with reuse on and off on YCSB A and on a 50% insert / 50% delete mix, alternated in one run.
 */
@Command(name = "reclaimbench", sortOptions = false, mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {
                "Memory figures of node reclamation: region bytes over insert/delete-all cycles, bytes per live record,"
                        + " and throughput with node reuse on vs off (YCSB A, and 50% insert / 50% delete: a sliding window of"
                        + " keys, so one end of the tree drains while the other grows), in one run.",
                "Embedded cluster, local carrier; every figure printed is measured in this run."})
public final class ReclaimBenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--cycle-keys", defaultValue = "20000", description = "keys inserted, then all deleted, per cycle")
    int cycleKeys;

    @Option(names = "--cycles", defaultValue = "10", description = "insert/delete-all cycles")
    int cycles;

    @Option(names = "--records", defaultValue = "1000000", description = "live records for the bytes-per-record figure")
    int records;

    @Option(names = {"-n", "--operations"}, defaultValue = "200000", description = "operations per throughput run")
    int operations;

    @Option(names = "--mix-records", defaultValue = "100000", description = "records loaded before each throughput run")
    int mixRecords;

    @Option(names = "--repeats", defaultValue = "5", description = "throughput runs per workload and mode (alternated; median shown)")
    int repeats;

    @Option(names = {"-t", "--threads"}, defaultValue = "2", description = "threads of the throughput runs")
    int threads;

    @Option(names = "--cns", defaultValue = "2", description = "compute nodes; thread t uses node t mod cns")
    int cns;

    @Option(names = "--node-size", defaultValue = "1024", description = "tree node bytes")
    int nodeBytes;

    @Option(names = "--region-mb", defaultValue = "512", description = "region of each memory node, MiB")
    long regionMb;

    @Option(names = "--lock", paramLabel = "NAME", description = "lock design (default: ${DEFAULT-VALUE})")
    String lock = LockDesigns.defaultName();

    @Option(names = "--seed", defaultValue = "1", description = "seed of keys and operations")
    long seed;

    @Option(names = "--verbose", description = "print every throughput run: restarts, reused nodes met, merges, verbs per operation")
    boolean verbose;

    @Option(names = "--skip", split = ",", paramLabel = "PART", description = "parts to skip: cycles, records, throughput")
    List<String> skip = List.of();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (cycleKeys < 1 || cycles < 1 || records < 1 || operations < 1 || mixRecords < 1 || repeats < 1 || threads < 1
                || cns < 1 || regionMb < 1) {
            throw new ParameterException(spec.commandLine(), "sizes, counts, threads and compute nodes must be at least 1");
        }
        for (String s : skip) {
            if (!List.of("cycles", "records", "throughput").contains(s)) {
                throw new ParameterException(spec.commandLine(), "--skip takes cycles, records, throughput; not '" + s + "'");
            }
        }
        LockDesigns.byName(lock);
        out.printf(Locale.ROOT, "reclaimbench: %d-byte nodes, lock %s, %d compute nodes, seed %d%n", nodeBytes, lock, cns, seed);
        if (!skip.contains("cycles")) {
            for (boolean reuse : new boolean[]{true, false}) {
                cycles(out, reuse);
            }
        }
        if (!skip.contains("records")) {
            records(out);
        }
        if (!skip.contains("throughput")) {
            throughput(out);
        }
        out.flush();
        return 0;
    }

    private EmbeddedCluster cluster() {
        return DmTree.embedded().computeNodes(cns).memoryNodes(1).nodeBytes(nodeBytes).lock(lock)
                .regionBytes(regionMb << 20).start();
    }

    private static void reuse(EmbeddedCluster cluster, boolean on) {
        for (int cn = 0; cn < cluster.computeNodes(); cn++) {
            cluster.computeNode(cn).tree().reusing(on);
        }
    }

    private void cycles(PrintWriter out, boolean reuse) {
        out.printf(Locale.ROOT, "cycles, reuse %s: insert %,d keys (random order), delete all, %d times; bytes in use"
                + " (allocated - free) after each fill and each drain%n", reuse ? "on" : "off", cycleKeys, cycles);
        try (EmbeddedCluster cluster = cluster()) {
            reuse(cluster, reuse);
            DmIndex index = cluster.index(0);
            long[] keys = new long[cycleKeys];
            for (int i = 0; i < cycleKeys; i++) {
                keys[i] = i;
            }
            SplittableRandom r = new SplittableRandom(seed);
            long firstFill = 0;
            long lastFill = 0;
            for (int c = 1; c <= cycles; c++) {
                shuffle(keys, r);
                for (long k : keys) {
                    index.put(k, k);
                }
                TreeReport filled = cluster.check();
                shuffle(keys, r);
                for (long k : keys) {
                    index.delete(k);
                }
                TreeReport drained = cluster.check();
                RegionUse f = filled.region();
                RegionUse d = drained.region();
                if (c == 1) {
                    firstFill = f.used();
                }
                lastFill = f.used();
                out.printf(Locale.ROOT, "  cycle %2d: filled %,11d B in use (%,d reachable, %,d removed), height %d; drained %,11d B"
                                + " in use (%,d removed), height %d, leaked %d%s%n", c, f.used(), f.reachable(), f.removed(),
                        filled.height(), d.used(), d.removed(), drained.height(), d.leaked(),
                        filled.ok() && drained.ok() ? "" : "  TREE BROKEN");
            }
            out.printf(Locale.ROOT, "  after cycle %d: %.3fx the bytes in use after cycle 1's fill%n", cycles,
                    (double) lastFill / firstFill);
        }
    }

    private void records(PrintWriter out) {
        try (EmbeddedCluster cluster = cluster()) {
            DmIndex index = cluster.index(0);
            SplittableRandom r = new SplittableRandom(seed);
            long[] keys = new long[records];
            for (int i = 0; i < records; i++) {
                keys[i] = i;
            }
            shuffle(keys, r);
            for (long k : keys) {
                index.put(k, k);
            }
            TreeReport report = cluster.check();
            RegionUse u = report.region();
            out.printf(Locale.ROOT, "records: %,d live records of %d-byte payload (random insert order): %,d B allocated"
                            + " (%,d reachable), %.1f B allocated per record (%.2fx the payload), %.1f B reachable per"
                            + " record (%.2fx), height %d%n", u.records(), u.recordBytes(), u.allocated(), u.reachable(),
                    u.bytesPerRecord(), u.overhead(), (double) u.reachable() / u.records(),
                    (double) u.reachable() / ((double) u.records() * u.recordBytes()), report.height());
        }
    }

    private void throughput(PrintWriter out) throws Exception {
        out.printf(Locale.ROOT, "throughput: %,d operations per run, %d threads over %d compute nodes, %,d records loaded,"
                + " %d runs per workload and mode alternated, median%n", operations, threads, cns, mixRecords, repeats);
        String[] workloads = {"ycsb-a", "insert-delete"};
        for (String workload : workloads) {
            double[][] rates = new double[2][repeats];
            for (int i = 0; i < repeats; i++) {
                for (int m = 0; m < 2; m++) {
                    boolean on = (i + m) % 2 == 0; // alternate which mode goes first
                    rates[on ? 0 : 1][i] = run(out, workload, on, seed + i);
                }
            }
            double on = median(rates[0]);
            double off = median(rates[1]);
            out.printf(Locale.ROOT, "  %-13s reuse on %,10.0f ops/s, off %,10.0f ops/s: on/off %.3f  (runs on %s, off %s)%n",
                    workload, on, off, on / off, fmt(rates[0]), fmt(rates[1]));
        }
    }

    /** One timed run; ops/s. */
    private double run(PrintWriter out, String workload, boolean reuse, long runSeed) throws Exception {
        try (EmbeddedCluster cluster = cluster()) {
            reuse(cluster, reuse);
            boolean ycsb = workload.equals("ycsb-a");
            long keySpace = mixRecords;
            SplittableRandom load = new SplittableRandom(runSeed);
            DmIndex first = cluster.index(0);
            for (long k = 0; k < mixRecords; k++) {
                first.put(k, k);
            }
            cluster.resetCounters();
            long[] before = treeCounters(cluster);
            CountDownLatch start = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> workers = new ArrayList<>();
            int perThread = operations / threads;
            for (int t = 0; t < threads; t++) {
                DmIndex index = cluster.index(t % cns);
                long threadSeed = load.nextLong();
                int stripe = t;
                Thread th = new Thread(() -> {
                    SplittableRandom r = new SplittableRandom(threadSeed);
                    ScrambledZipfianGenerator zipf = ycsb ? new ScrambledZipfianGenerator(keySpace, 0.99) : null;
                    try {
                        start.await();
                        for (int i = 0; i < perThread; i++) {
                            if (ycsb) {
                                long key = zipf.next(r);
                                if (r.nextBoolean()) {
                                    index.get(key);
                                } else {
                                    index.put(key, i);
                                }
                            } else {
                                // a sliding window over this thread's stripe of keys: insert at the head,
                                // delete the oldest, in random order, so the left end drains (merges,
                                // frees) while the right end grows (splits, reuse)
                                long head = keySpace / threads + i / 2;
                                long tail = i / 2;
                                if (r.nextBoolean()) {
                                    index.put(head * threads + stripe, i);
                                } else {
                                    index.delete(tail * threads + stripe);
                                }
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "reclaimbench-" + t);
                workers.add(th);
                th.start();
            }
            long t0 = System.nanoTime();
            start.countDown();
            for (Thread th : workers) {
                th.join();
            }
            long nanos = System.nanoTime() - t0;
            long[] after = treeCounters(cluster);
            long ops = (long) perThread * threads;
            if (verbose) {
                out.printf(Locale.ROOT, "    %s reuse %s: %,.0f ops/s; per 1,000 operations: %.1f restarts, %.1f reused nodes met,"
                                + " %.1f removed nodes met, %.1f merges, %.1f splits; %.2f verbs per operation%n", workload,
                        reuse ? "on" : "off", ops / (nanos / 1e9), 1e3 * (after[0] - before[0]) / ops,
                        1e3 * (after[1] - before[1]) / ops, 1e3 * (after[2] - before[2]) / ops,
                        1e3 * (after[3] - before[3]) / ops, 1e3 * (after[4] - before[4]) / ops,
                        (double) cluster.memoryNodeTraffic().verbs() / ops);
                out.flush();
            }
            if (failure.get() != null) {
                throw new IllegalStateException(workload + " run failed", failure.get());
            }
            TreeReport report = cluster.check();
            if (!report.ok() || report.region().leaked() != 0) {
                throw new IllegalStateException(workload + " run left a broken tree or leaked bytes: " + report);
            }
            return (double) perThread * threads / (nanos / 1e9);
        }
    }

    /** Restarts, reused and removed nodes met, merges, splits, summed over the compute nodes. */
    private static long[] treeCounters(EmbeddedCluster cluster) {
        long[] c = new long[5];
        for (int cn = 0; cn < cluster.computeNodes(); cn++) {
            io.dmtree.core.tree.TreeStats s = cluster.computeNode(cn).tree().stats();
            c[0] += s.restarts.sum();
            c[1] += s.reusedReached.sum();
            c[2] += s.removedReached.sum();
            c[3] += s.leafMerges.sum() + s.internalMerges.sum();
            c[4] += s.leafSplits.sum() + s.internalSplits.sum();
        }
        return c;
    }

    private static void shuffle(long[] a, SplittableRandom r) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            long t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String fmt(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double x : v) {
            b.append(b.length() == 0 ? "" : "/").append(String.format(Locale.ROOT, "%.0f", x));
        }
        return b.toString();
    }
}
