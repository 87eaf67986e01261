package io.dmtree.workloads.ycsb;

import io.dmtree.core.nic.NicModelConfig;
import io.dmtree.workloads.kv.DmtreeSystem;
import io.dmtree.workloads.kv.KvShape;
import io.dmtree.workloads.kv.Peer;
import io.dmtree.workloads.run.PhaseProgress;

import java.util.ArrayList;
import java.util.List;
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
 * Each system runs as a {@link Contestant} over the {@link StreamShare#WHOLE whole} stream.
 *
 * <p>Keys and values are built before an operation's clock starts, so latency measures the system.
 * For dmtree the memory node counters and index cache statistics are read just before the first
 * and just after the last slice; no other system touches its cluster in between, so the
 * differences are the run phase's cost.
 */
public final class YcsbRunner {
    private final YcsbSettings settings;
    private final Consumer<String> log;
    private NicModelConfig nic;

    /** {@code log} receives a line as each phase starts (may be ignored). */
    public YcsbRunner(YcsbSettings settings, Consumer<String> log) {
        this.settings = settings;
        this.log = log;
    }

    /**
     * Runs dmtree with every verb and message through a modelled NIC (null: none, the default);
     * its figures are then modelled. Returns this runner.
     */
    public YcsbRunner withNicModel(NicModelConfig nic) {
        this.nic = nic;
        return this;
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
                contestants.add(new Contestant(DmtreeSystem.start(shape, s.computeNodes(), s.memoryNodes(), lock, nic), lock, s.threads(),
                        StreamShare.WHOLE));
            }
            for (Peer peer : s.peers()) {
                contestants.add(new Contestant(peer.open(shape), null, s.threads(), StreamShare.WHOLE));
            }
            for (Contestant c : contestants) {
                log.accept("load " + c.label());
                c.load(StreamShare.WHOLE, s.records(), shape, keys, values);
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
}
