package io.dmtree.workloads.ycsb;

import io.dmtree.cn.DmIndex;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.workloads.kv.DmtreeSystem;
import io.dmtree.workloads.kv.KvSession;
import io.dmtree.workloads.kv.KvShape;
import io.dmtree.workloads.kv.KvSystem;
import io.dmtree.workloads.kv.Peer;
import io.dmtree.workloads.run.PhaseProgress;
import io.dmtree.workloads.run.WorkerCrew;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs a YCSB workload on dmtree (once per lock design) and on each peer, side by side, each on
 * the identical pre-drawn {@link OperationStream}, keys and values.
 *
 * <p>All systems are opened first, each with its own worker crew. Load phase: system by system,
 * worker {@code t} writes a contiguous share of records {@code 0 .. records-1}. Run phase: the
 * stream is cut into {@code slices} consecutive slices and the systems take turns, slice by slice
 * (dmtree, peers, dmtree, peers, ...), so each executes the whole stream in order while a change
 * in the machine's background load falls on all of them alike. Within a slice operation {@code j}
 * goes to worker {@code j mod threads}. A system's run time is the sum of its slices' wall times.
 *
 * <p>Keys and values are built before an operation's clock starts, so latency measures the system.
 * For dmtree the memory node counters and index cache statistics are read just before the first
 * and just after the last slice; no other system touches its cluster in between, so the
 * differences are the run phase's cost.
 */
public final class YcsbRunner {
    /** Operations between two progress reports of a worker. */
    private static final int REPORT_EVERY = 1024;

    private final YcsbSettings settings;
    private final Consumer<String> log;

    /** {@code log} receives a line as each phase starts (may be ignored). */
    public YcsbRunner(YcsbSettings settings, Consumer<String> log) {
        this.settings = settings;
        this.log = log;
    }

    /** Draws the settings' operation stream and runs it. */
    public YcsbReport run() {
        YcsbSettings s = settings;
        return run(OperationStream.generate(s.workload(), s.distribution(), s.records(), s.operations(), s.seed()));
    }

    /** Runs {@code stream}, drawn from these settings. */
    public YcsbReport run(OperationStream stream) {
        YcsbSettings s = settings;
        if (stream.records() != s.records() || stream.size() != s.operations() || stream.seed() != s.seed()
                || stream.workload() != s.workload() || stream.distribution() != s.distribution()) {
            throw new IllegalArgumentException("the operation stream was not drawn from these settings");
        }
        KeySpace keys = new KeySpace(s.keyBytes(), s.seed());
        keys.requireCapacity(s.records() + stream.inserts());
        ValueSource values = new ValueSource(s.valueBytes(), s.seed());
        KvShape shape = new KvShape(s.keyBytes(), s.valueBytes(), s.records() + stream.inserts(), s.threads());

        List<Contestant> contestants = new ArrayList<>();
        try {
            for (String lock : s.locks()) {
                contestants.add(new Contestant(DmtreeSystem.start(shape, s.computeNodes(), s.memoryNodes(), lock), lock, s.threads()));
            }
            for (Peer peer : s.peers()) {
                contestants.add(new Contestant(peer.open(shape), null, s.threads()));
            }
            for (Contestant c : contestants) {
                log.accept("load " + c.label);
                c.load(s.records(), shape, keys, values);
            }
            System.gc();
            log.accept("run " + stream.size() + " operations on " + contestants.size() + " systems in " + s.slices() + " turns each");
            for (Contestant c : contestants) {
                c.beforeRun();
            }
            try (PhaseProgress progress = PhaseProgress.start("run " + s.workload(), (long) stream.size() * contestants.size())) {
                long base = 0;
                for (int slice = 0; slice < s.slices(); slice++) {
                    int from = (int) ((long) stream.size() * slice / s.slices());
                    int to = (int) ((long) stream.size() * (slice + 1) / s.slices());
                    for (Contestant c : contestants) {
                        long b = base;
                        c.runSlice(stream, from, to, shape, keys, values, done -> progress.stepTo(b + done));
                        base += to - from;
                    }
                }
            }
            List<SystemResult> results = new ArrayList<>();
            for (Contestant c : contestants) {
                results.add(c.result(stream));
            }
            return new YcsbReport(s, stream, results);
        } finally {
            RuntimeException failure = null;
            for (Contestant c : contestants) {
                try {
                    c.close();
                } catch (RuntimeException e) {
                    if (failure == null) {
                        failure = e;
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
    }

    /** One system in the run, with its crew, its workers' tallies and its counters. */
    private static final class Contestant implements AutoCloseable {
        final KvSystem system;
        final String lock;
        final String label;
        final DmtreeSystem dmtree;
        final WorkerCrew crew;
        final WorkerOutcome[] outcomes;
        long loadedRecords;
        long loadNanos;
        long runNanos;
        VerbCounts trafficBefore;
        DmIndex.CacheStats cacheBefore;

        Contestant(KvSystem system, String lock, int threads) {
            this.system = system;
            this.lock = lock;
            this.label = lock == null ? system.name() : system.name() + " " + lock;
            this.dmtree = system instanceof DmtreeSystem ? (DmtreeSystem) system : null;
            this.crew = new WorkerCrew(threads, "ycsb-" + system.name());
            this.outcomes = new WorkerOutcome[threads];
            for (int t = 0; t < threads; t++) {
                outcomes[t] = new WorkerOutcome();
            }
        }

        void load(long records, KvShape shape, KeySpace keys, ValueSource values) {
            int threads = crew.threads();
            loadNanos = crew.runPhase("load " + label, records, (worker, tally) -> {
                long from = records * worker / threads;
                long to = records * (worker + 1) / threads;
                try (KvSession session = system.openSession(worker)) {
                    loadShare(session, shape.longPath(), keys, values, from, to, tally);
                }
            });
            loadedRecords = records;
        }

        void beforeRun() {
            if (dmtree != null) {
                trafficBefore = dmtree.memoryNodeTraffic();
                cacheBefore = dmtree.cacheStats();
            }
        }

        void runSlice(OperationStream stream, int from, int to, KvShape shape, KeySpace keys, ValueSource values,
                      java.util.function.LongConsumer progress) {
            int threads = crew.threads();
            runNanos += crew.runPhase((worker, tally) -> {
                WorkerOutcome o = outcomes[worker];
                int first = from + Math.floorMod(worker - from, threads);
                try (KvSession session = system.openSession(worker)) {
                    if (shape.longPath()) {
                        runLong(session, o, stream, keys, values, first, to, threads, tally);
                    } else {
                        runBytes(session, o, stream, keys, values, first, to, threads, tally);
                    }
                    o.digest += session.digest();
                }
            }, progress);
        }

        SystemResult result(OperationStream stream) {
            MemoryNodeCost cost = null;
            DmIndex.CacheStats cache = null;
            if (dmtree != null) {
                cost = new MemoryNodeCost(dmtree.memoryNodeTraffic().minus(trafficBefore), stream.size());
                DmIndex.CacheStats after = dmtree.cacheStats();
                cache = new DmIndex.CacheStats(after.hits() - cacheBefore.hits(), after.misses() - cacheBefore.misses(),
                        after.bytes(), after.capacityBytes());
            }
            Map<OperationType, Histogram> latencies = new EnumMap<>(OperationType.class);
            long misses = 0;
            long scanned = 0;
            long digest = 0;
            for (WorkerOutcome o : outcomes) {
                for (OperationType t : OperationType.values()) {
                    Histogram h = o.latency[t.ordinal()];
                    if (h.getTotalCount() > 0) {
                        latencies.computeIfAbsent(t, k -> new Histogram(3)).add(h);
                    }
                }
                misses += o.readMisses;
                scanned += o.scannedEntries;
                digest += o.digest;
            }
            return new SystemResult(system.name(), lock, system.setup(), loadedRecords, loadNanos, stream.size(), runNanos,
                    latencies, misses, scanned, digest, cost, cache);
        }

        @Override
        public void close() {
            try {
                crew.close();
            } finally {
                system.close();
            }
        }
    }

    private static void loadShare(KvSession session, boolean longPath, KeySpace keys, ValueSource values, long from,
                                  long to, WorkerCrew.Tally tally) {
        for (long r = from; r < to; r++) {
            if (longPath) {
                session.write(keys.longKey(r), values.longValue(r));
            } else {
                session.write(keys.key(r), values.value(r));
            }
            if (((r - from) % REPORT_EVERY) == REPORT_EVERY - 1 && !tally.report(r - from + 1)) {
                return;
            }
        }
        tally.report(to - from);
    }

    /** One worker's share of the run phase over all slices: latencies by type, misses, scanned entries. */
    private static final class WorkerOutcome {
        final Histogram[] latency = new Histogram[OperationType.values().length];
        long readMisses;
        long scannedEntries;
        long digest;

        WorkerOutcome() {
            for (int i = 0; i < latency.length; i++) {
                latency[i] = new Histogram(3);
            }
        }
    }

    private static final int READ = OperationType.READ.ordinal();
    private static final int UPDATE = OperationType.UPDATE.ordinal();
    private static final int INSERT = OperationType.INSERT.ordinal();
    private static final int SCAN = OperationType.SCAN.ordinal();
    private static final int READ_MODIFY_WRITE = OperationType.READ_MODIFY_WRITE.ordinal();

    /** Operations {@code first, first+threads, ...} below {@code to}, on the long path. */
    private static void runLong(KvSession s, WorkerOutcome o, OperationStream stream, KeySpace keys, ValueSource values,
                                int first, int to, int threads, WorkerCrew.Tally tally) {
        long done = 0;
        for (int j = first; j < to; j += threads) {
            int type = stream.typeCode(j);
            long key = keys.longKey(stream.record(j));
            long value = values.longValue(ValueSource.RUN_STAMP_BASE + j);
            long start = System.nanoTime();
            if (type == READ) {
                if (!s.read(key)) {
                    o.readMisses++;
                }
            } else if (type == UPDATE || type == INSERT) {
                s.write(key, value);
            } else if (type == SCAN) {
                o.scannedEntries += s.scan(key, stream.scanLength(j));
            } else if (type == READ_MODIFY_WRITE) {
                if (!s.read(key)) {
                    o.readMisses++;
                }
                s.write(key, value);
            }
            o.latency[type].recordValue(System.nanoTime() - start);
            if (++done % REPORT_EVERY == 0 && !tally.report(done)) {
                return;
            }
        }
        tally.report(done);
    }

    /** Operations {@code first, first+threads, ...} below {@code to}, on the byte path. */
    private static void runBytes(KvSession s, WorkerOutcome o, OperationStream stream, KeySpace keys, ValueSource values,
                                 int first, int to, int threads, WorkerCrew.Tally tally) {
        long done = 0;
        for (int j = first; j < to; j += threads) {
            int type = stream.typeCode(j);
            byte[] key = keys.key(stream.record(j));
            byte[] value = type == READ || type == SCAN ? null : values.value(ValueSource.RUN_STAMP_BASE + j);
            long start = System.nanoTime();
            if (type == READ) {
                if (!s.read(key)) {
                    o.readMisses++;
                }
            } else if (type == UPDATE || type == INSERT) {
                s.write(key, value);
            } else if (type == SCAN) {
                o.scannedEntries += s.scan(key, stream.scanLength(j));
            } else if (type == READ_MODIFY_WRITE) {
                if (!s.read(key)) {
                    o.readMisses++;
                }
                s.write(key, value);
            }
            o.latency[type].recordValue(System.nanoTime() - start);
            if (++done % REPORT_EVERY == 0 && !tally.report(done)) {
                return;
            }
        }
        tally.report(done);
    }
}
