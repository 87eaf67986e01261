package io.dmtree.workloads.ycsb;

import io.dmtree.cn.DmIndex;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.workloads.kv.KvSession;
import io.dmtree.workloads.kv.KvShape;
import io.dmtree.workloads.kv.KvSystem;
import io.dmtree.workloads.kv.MemoryNodeMetered;
import io.dmtree.workloads.run.WorkerCrew;
import org.HdrHistogram.Histogram;

import java.util.EnumMap;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * One system in a YCSB run, with its worker crew, its workers' tallies and its counters; it
 * executes its {@link StreamShare} of the load and run phases ({@link StreamShare#WHOLE} in a
 * single-process run, one compute node's share in a multi-process run).
 *
 * <p>Load: worker {@code t} writes a contiguous part of the share's records. Run: worker {@code w}
 * executes, in stream order, the operations of its global lane ({@link StreamShare#lane}). Keys
 * and values are built before an operation's clock starts, so latency measures the system. For a
 * {@link MemoryNodeMetered} system the memory node counters and index cache statistics are read by
 * {@link #beforeRun()} and {@link #result}, so their differences are the run phase's cost as long
 * as nothing else uses the system in between.
 */
public final class Contestant implements AutoCloseable {
    /** Operations between two progress reports of a worker. */
    private static final int REPORT_EVERY = 1024;

    private final KvSystem system;
    private final String lock;
    private final String label;
    private final MemoryNodeMetered metered;
    private final StreamShare share;
    private final WorkerCrew crew;
    private final WorkerOutcome[] outcomes;
    private long loadedRecords;
    private long loadNanos;
    private long runNanos;
    private VerbCounts trafficBefore;
    private DmIndex.CacheStats cacheBefore;

    /** {@code lock} is dmtree's lock design, null for a peer. */
    public Contestant(KvSystem system, String lock, int threads, StreamShare share) {
        this.system = system;
        this.lock = lock;
        this.label = lock == null ? system.name() : system.name() + " " + lock;
        this.metered = system instanceof MemoryNodeMetered m ? m : null;
        this.share = share;
        this.crew = new WorkerCrew(threads, "ycsb-" + system.name());
        this.outcomes = new WorkerOutcome[threads];
        for (int t = 0; t < threads; t++) {
            outcomes[t] = new WorkerOutcome();
        }
    }

    /** "dmtree cas-spin", "csl". */
    public String label() {
        return label;
    }

    /**
     * Loads part {@code part} of records {@code 0 .. records-1} (usually this contestant's share;
     * {@link StreamShare#WHOLE} when one process loads for all); returns the phase's wall time in
     * nanoseconds.
     */
    public long load(StreamShare part, long records, KvShape shape, KeySpace keys, ValueSource values) {
        int threads = crew.threads();
        long first = part.firstRecord(records);
        long count = part.endRecord(records) - first;
        loadNanos = crew.runPhase("load " + label, count, (worker, tally) -> {
            long from = first + count * worker / threads;
            long to = first + count * (worker + 1) / threads;
            try (KvSession session = system.openSession(worker)) {
                loadShare(session, shape.longPath(), keys, values, from, to, tally);
            }
        });
        loadedRecords = count;
        return loadNanos;
    }

    /** This contestant's share of the run. */
    public StreamShare share() {
        return share;
    }

    /** Reads the counters the run phase's cost is measured from. */
    public void beforeRun() {
        if (metered != null) {
            trafficBefore = metered.memoryNodeTraffic();
            cacheBefore = metered.cacheStats();
        }
    }

    /** Runs this share's operations among stream operations {@code from .. to-1}. */
    public void runSlice(OperationStream stream, int from, int to, KvShape shape, KeySpace keys, ValueSource values,
                         LongConsumer progress) {
        int lanes = share.lanes(crew.threads());
        runNanos += crew.runPhase((worker, tally) -> {
            WorkerOutcome o = outcomes[worker];
            int first = from + Math.floorMod(share.lane(worker) - from, lanes);
            try (KvSession session = system.openSession(worker)) {
                if (shape.longPath()) {
                    runLong(session, o, stream, keys, values, first, to, lanes, tally);
                } else {
                    runBytes(session, o, stream, keys, values, first, to, lanes, tally);
                }
                o.digest += session.digest();
            }
        }, progress);
    }

    /** What this share did: its load, its operations of {@code stream}, latencies and counters. */
    public SystemResult result(OperationStream stream) {
        long operations = share.operations(stream.size());
        MemoryNodeCost cost = null;
        DmIndex.CacheStats cache = null;
        io.dmtree.core.tree.RegionUse region = null;
        if (metered != null) {
            region = metered.regionUse();
            cost = new MemoryNodeCost(metered.memoryNodeTraffic().minus(trafficBefore), operations);
            DmIndex.CacheStats after = metered.cacheStats();
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
        return new SystemResult(system.name(), lock, system.setup(), loadedRecords, loadNanos, operations, runNanos,
                latencies, misses, scanned, digest, cost, cache, region);
    }

    @Override
    public void close() {
        try {
            crew.close();
        } finally {
            system.close();
        }
    }

    /** One worker's part of the run phase over all slices: latencies by type, misses, scanned entries. */
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

    private static final int READ = OperationType.READ.ordinal();
    private static final int UPDATE = OperationType.UPDATE.ordinal();
    private static final int INSERT = OperationType.INSERT.ordinal();
    private static final int SCAN = OperationType.SCAN.ordinal();
    private static final int READ_MODIFY_WRITE = OperationType.READ_MODIFY_WRITE.ordinal();

    /** Operations {@code first, first+lanes, ...} below {@code to}, on the long path. */
    private static void runLong(KvSession s, WorkerOutcome o, OperationStream stream, KeySpace keys, ValueSource values,
                                int first, int to, int lanes, WorkerCrew.Tally tally) {
        long done = 0;
        for (int j = first; j < to; j += lanes) {
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

    /** Operations {@code first, first+lanes, ...} below {@code to}, on the byte path. */
    private static void runBytes(KvSession s, WorkerOutcome o, OperationStream stream, KeySpace keys, ValueSource values,
                                 int first, int to, int lanes, WorkerCrew.Tally tally) {
        long done = 0;
        for (int j = first; j < to; j += lanes) {
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
