package io.dmtree.workloads.ycsb;

import io.dmtree.cn.DmIndex;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.workloads.kv.DmtreeSystem;
import io.dmtree.workloads.kv.KvSession;
import io.dmtree.workloads.kv.KvShape;
import io.dmtree.workloads.kv.KvSystem;
import io.dmtree.workloads.kv.Peer;
import io.dmtree.workloads.run.WorkerCrew;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs a YCSB workload on dmtree (once per lock design) and on each peer, one system after
 * another, each on the identical pre-drawn {@link OperationStream}, keys and values.
 *
 * <p>Per system: the load phase writes records {@code 0 .. records-1}, worker {@code t} a
 * contiguous share; the run phase gives operation {@code j} to worker {@code j mod threads}.
 * Keys and values are built before an operation's clock starts, so latency measures the system.
 * For dmtree the memory node counters and index cache statistics are read just before and just
 * after the run phase; their differences are the run phase's cost.
 */
public final class YcsbRunner {
    /** Operations between two progress reports of a worker. */
    private static final int REPORT_EVERY = 1024;

    private final YcsbSettings settings;
    private final Consumer<String> log;

    /** {@code log} receives one line per system as it starts (may be ignored). */
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
                || stream.workload() != s.workload()) {
            throw new IllegalArgumentException("the operation stream was not drawn from these settings");
        }
        KeySpace keys = new KeySpace(s.keyBytes(), s.seed());
        keys.requireCapacity(s.records() + stream.inserts());
        ValueSource values = new ValueSource(s.valueBytes(), s.seed());
        KvShape shape = new KvShape(s.keyBytes(), s.valueBytes(), s.records() + stream.inserts(), s.threads());

        List<SystemResult> results = new ArrayList<>();
        for (String lock : s.locks()) {
            log.accept("dmtree with lock " + lock + " ...");
            try (DmtreeSystem system = DmtreeSystem.start(shape, s.computeNodes(), s.memoryNodes(), lock)) {
                results.add(measure(system, lock, stream, keys, values, shape));
            }
            System.gc();
        }
        for (Peer peer : s.peers()) {
            log.accept(peer.label() + " ...");
            try (KvSystem system = peer.open(shape)) {
                results.add(measure(system, null, stream, keys, values, shape));
            }
            System.gc();
        }
        return new YcsbReport(s, stream, results);
    }

    private SystemResult measure(KvSystem system, String lock, OperationStream stream, KeySpace keys,
                                 ValueSource values, KvShape shape) {
        int threads = settings.threads();
        long records = settings.records();
        String label = lock == null ? system.name() : system.name() + " " + lock;
        DmtreeSystem dmtree = system instanceof DmtreeSystem ? (DmtreeSystem) system : null;
        try (WorkerCrew crew = new WorkerCrew(threads, "ycsb-" + system.name())) {
            long loadNanos = crew.runPhase("load " + label, records, (worker, tally) -> {
                long from = records * worker / threads;
                long to = records * (worker + 1) / threads;
                try (KvSession session = system.openSession(worker)) {
                    load(session, shape.longPath(), keys, values, from, to, tally);
                }
            });

            VerbCounts trafficBefore = dmtree == null ? null : dmtree.memoryNodeTraffic();
            DmIndex.CacheStats cacheBefore = dmtree == null ? null : dmtree.cacheStats();
            WorkerOutcome[] outcomes = new WorkerOutcome[threads];
            long runNanos = crew.runPhase("run " + label, stream.size(), (worker, tally) -> {
                try (KvSession session = system.openSession(worker)) {
                    WorkerOutcome o = new WorkerOutcome(session);
                    if (shape.longPath()) {
                        runLong(o, stream, keys, values, worker, threads, tally);
                    } else {
                        runBytes(o, stream, keys, values, worker, threads, tally);
                    }
                    o.digest = session.digest();
                    outcomes[worker] = o;
                }
            });
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
            return new SystemResult(system.name(), lock, system.setup(), records, loadNanos, stream.size(), runNanos,
                    latencies, misses, scanned, digest, cost, cache);
        }
    }

    private static void load(KvSession session, boolean longPath, KeySpace keys, ValueSource values, long from, long to,
                             WorkerCrew.Tally tally) {
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

    /** One worker's share of the run phase: latencies by type, misses, scanned entries. */
    private static final class WorkerOutcome {
        final KvSession session;
        final Histogram[] latency = new Histogram[OperationType.values().length];
        long readMisses;
        long scannedEntries;
        long digest;

        WorkerOutcome(KvSession session) {
            this.session = session;
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

    private static void runLong(WorkerOutcome o, OperationStream stream, KeySpace keys, ValueSource values, int worker,
                                int threads, WorkerCrew.Tally tally) {
        KvSession s = o.session;
        long done = 0;
        for (int j = worker; j < stream.size(); j += threads) {
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

    private static void runBytes(WorkerOutcome o, OperationStream stream, KeySpace keys, ValueSource values, int worker,
                                 int threads, WorkerCrew.Tally tally) {
        KvSession s = o.session;
        long done = 0;
        for (int j = worker; j < stream.size(); j += threads) {
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
