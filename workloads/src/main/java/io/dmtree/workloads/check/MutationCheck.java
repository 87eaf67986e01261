package io.dmtree.workloads.check;

import io.dmtree.cn.DmIndex;
import io.dmtree.cn.EmbeddedCluster;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.workloads.run.WorkerCrew;
import io.dmtree.workloads.ycsb.KeySpace;
import io.dmtree.workloads.ycsb.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import java.util.SplittableRandom;

/**
 * A seeded concurrent mix of puts and deletes on an embedded cluster, followed by the tree checker
 * and a comparison of the index's contents with a model.
 *
 * <p>Record {@code r} (key {@link KeySpace#key(long) scrambled}) belongs to worker
 * {@code r mod threads}; only its owner writes it, so each key's final state is known exactly,
 * while neighbouring keys in a leaf belong to different workers, so the workers split and rewrite
 * the same leaves at once. Worker {@code t} uses compute node {@code t mod cns}. The checks:
 * <ul>
 *   <li>every {@code delete} returns whether its key was present, as the owner's model says;</li>
 *   <li>the tree checker finds no broken invariant and counts as many keys as the models hold;</li>
 *   <li>every key's value (or absence), read back through compute node 0, matches its model.</li>
 * </ul>
 */
public final class MutationCheck {
    private static final int MAX_SAMPLES = 10;

    /**
     * @param keys        records (distinct keys) the workers write
     * @param operations  puts and deletes in all
     * @param threads     workers
     * @param deletePercent share of deletes, 0..100
     * @param seed        seed of every worker's generator (worker t uses seed and t)
     */
    public record Settings(long keys, long operations, int threads, int deletePercent, long seed) {
        public Settings {
            if (keys < 1 || operations < 0 || threads < 1 || deletePercent < 0 || deletePercent > 100) {
                throw new IllegalArgumentException("keys and threads must be positive, operations not negative, "
                        + "delete percent in [0, 100]");
            }
            if (keys / threads + 1 > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("too many keys per thread for the model: " + keys);
            }
        }
    }

    /**
     * @param report          the tree checker's report
     * @param expectedKeys    keys present according to the models
     * @param problems        model disagreements, up to ten described
     * @param problemCount    all model disagreements
     * @param mutationNanos   wall time of the concurrent phase
     */
    public record Result(TreeReport report, long expectedKeys, List<String> problems, long problemCount,
                         long mutationNanos) {
        public boolean ok() {
            return report.ok() && problemCount == 0 && report.keys() == expectedKeys && noLeak(report);
        }
    }

    private MutationCheck() {
    }

    /** The region was accounted for and no byte of it leaked. */
    static boolean noLeak(TreeReport report) {
        return report.region() != null && report.region().leaked() == 0;
    }

    public static Result run(EmbeddedCluster cluster, Settings settings) {
        int keyBytes = cluster.config().tree().keyBytes();
        int valueBytes = cluster.config().tree().valueBytes();
        boolean longPath = keyBytes == 8 && valueBytes == 8;
        KeySpace keys = new KeySpace(keyBytes, settings.seed());
        keys.requireCapacity(settings.keys());
        ValueSource values = new ValueSource(valueBytes, settings.seed());
        int threads = settings.threads();
        long[][] models = new long[threads][];
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        long[] problemCounts = new long[threads];

        long nanos;
        try (WorkerCrew crew = new WorkerCrew(threads, "check")) {
            nanos = crew.runPhase("put/delete", settings.operations(), (t, tally) -> {
                DmIndex index = cluster.index(t % cluster.computeNodes());
                long owned = owned(settings.keys(), threads, t);
                long[] model = new long[(int) owned];
                Arrays.fill(model, -1);
                models[t] = model;
                if (owned == 0) {
                    return;
                }
                long mine = settings.operations() * (t + 1) / threads - settings.operations() * t / threads;
                SplittableRandom random = new SplittableRandom(ValueSource.mix(settings.seed()) + t);
                for (long i = 0; i < mine; i++) {
                    int slot = (int) random.nextLong(owned);
                    long record = t + (long) slot * threads;
                    if (random.nextInt(100) < settings.deletePercent()) {
                        boolean removed = longPath ? index.delete(keys.longKey(record)) : index.delete(keys.key(record));
                        boolean expected = model[slot] >= 0;
                        if (removed != expected) {
                            problemCounts[t]++;
                            sample(problems, "delete of record " + record + " returned " + removed + ", expected " + expected);
                        }
                        model[slot] = -1;
                    } else {
                        long stamp = ((long) t << 40) + i;
                        if (longPath) {
                            index.put(keys.longKey(record), values.longValue(stamp));
                        } else {
                            index.put(keys.key(record), values.value(stamp));
                        }
                        model[slot] = stamp;
                    }
                    if ((i & 1023) == 1023 && !tally.report(i + 1)) {
                        return;
                    }
                }
                tally.report(mine);
            });
        }

        TreeReport report = cluster.check();

        long expectedKeys = 0;
        DmIndex reader = cluster.index(0);
        for (int t = 0; t < threads; t++) {
            long[] model = models[t];
            for (int slot = 0; slot < model.length; slot++) {
                long record = t + (long) slot * threads;
                long stamp = model[slot];
                if (stamp >= 0) {
                    expectedKeys++;
                }
                String problem = longPath ? compareLong(reader, keys, values, record, stamp)
                        : compareBytes(reader, keys, values, record, stamp);
                if (problem != null) {
                    problemCounts[t]++;
                    sample(problems, problem);
                }
            }
        }
        long count = 0;
        for (long c : problemCounts) {
            count += c;
        }
        return new Result(report, expectedKeys, List.copyOf(problems), count, nanos);
    }

    /**
     * What a drain found: the tree checker's report after every key was deleted, the nodes the
     * compute nodes removed during the drain, and its wall time. Sound when the checker passes,
     * no key is left and the tree is one leaf again.
     */
    public record Drain(TreeReport report, long nodesRemoved, long nanos) {
        public boolean ok() {
            return report.ok() && report.keys() == 0 && report.height() == 1 && noLeak(report);
        }
    }

    /**
     * Deletes every record of {@code settings} concurrently (worker {@code t} its own records, in
     * a seeded order, through compute node {@code t mod cns}), then runs the tree checker.
     */
    public static Drain drain(EmbeddedCluster cluster, Settings settings) {
        int keyBytes = cluster.config().tree().keyBytes();
        boolean longPath = keyBytes == 8 && cluster.config().tree().valueBytes() == 8;
        KeySpace keys = new KeySpace(keyBytes, settings.seed());
        int threads = settings.threads();
        long removedBefore = removedNodes(cluster);
        long nanos;
        try (WorkerCrew crew = new WorkerCrew(threads, "drain")) {
            nanos = crew.runPhase("drain", settings.keys(), (t, tally) -> {
                DmIndex index = cluster.index(t % cluster.computeNodes());
                long owned = owned(settings.keys(), threads, t);
                SplittableRandom random = new SplittableRandom(ValueSource.mix(settings.seed()) ^ (t + 1) * 0x9E3779B97F4A7C15L);
                long stride = owned < 2 ? 1 : coprimeStride(owned, random);
                long start = owned < 1 ? 0 : random.nextLong(owned);
                for (long i = 0; i < owned; i++) {
                    long record = t + ((start + i * stride) % owned) * threads; // every owned record once, scrambled
                    if (longPath) {
                        index.delete(keys.longKey(record));
                    } else {
                        index.delete(keys.key(record));
                    }
                    if ((i & 1023) == 1023 && !tally.report(i + 1)) {
                        return;
                    }
                }
                tally.report(owned);
            });
        }
        return new Drain(cluster.check(), removedNodes(cluster) - removedBefore, nanos);
    }

    private static long coprimeStride(long n, SplittableRandom random) {
        while (true) {
            long s = 1 + random.nextLong(n - 1);
            if (gcd(s, n) == 1) {
                return s;
            }
        }
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    private static long removedNodes(EmbeddedCluster cluster) {
        long n = 0;
        for (int cn = 0; cn < cluster.computeNodes(); cn++) {
            n += cluster.computeNode(cn).tree().removedNodes().count();
        }
        return n;
    }

    private static long owned(long keys, int threads, int t) {
        return t >= keys ? 0 : (keys - 1 - t) / threads + 1;
    }

    private static void sample(List<String> problems, String problem) {
        synchronized (problems) {
            if (problems.size() < MAX_SAMPLES) {
                problems.add(problem);
            }
        }
    }

    private static String compareLong(DmIndex index, KeySpace keys, ValueSource values, long record, long stamp) {
        OptionalLong got = index.get(keys.longKey(record));
        if (stamp < 0) {
            return got.isPresent() ? "record " + record + " was deleted but reads " + got.getAsLong() : null;
        }
        long want = values.longValue(stamp);
        if (got.isEmpty()) {
            return "record " + record + " is missing";
        }
        return got.getAsLong() == want ? null : "record " + record + " reads " + got.getAsLong() + ", expected " + want;
    }

    private static String compareBytes(DmIndex index, KeySpace keys, ValueSource values, long record, long stamp) {
        byte[] got = index.get(keys.key(record));
        if (stamp < 0) {
            return got != null ? "record " + record + " was deleted but is present" : null;
        }
        if (got == null) {
            return "record " + record + " is missing";
        }
        return Arrays.equals(got, values.value(stamp)) ? null : "record " + record + " has a wrong value";
    }
}
