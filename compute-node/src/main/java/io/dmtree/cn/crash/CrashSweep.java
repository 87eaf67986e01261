package io.dmtree.cn.crash;

import io.dmtree.cn.ComputeNode;
import io.dmtree.cn.DmIndex;
import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.CountingVerbs;
import io.dmtree.core.memory.CrashedException;
import io.dmtree.core.memory.CrashingVerbs;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbKind;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.tree.MemoryReclaim;
import io.dmtree.core.tree.RepairReport;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.tree.TreeRecovery;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.lock.LockDesigns;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.local.LocalVerbs;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The in-process crash-point sweep: every crash point of every kind of tree write, with every
 * lock design, each followed by the recovery a live compute node runs, the tree checker and a
 * history check. On the {@code local} carrier, in a {@link CrashRig} per trial.
 *
 * <p>A <em>history</em> is a seeded list of puts and deletes, each run by compute node 0 (the one
 * that will crash) or by compute node 1 (a bystander), one at a time: the bystander changes nodes
 * after compute node 0 last wrote them, so a redo record of compute node 0 that recovery wrongly
 * took for current would undo an acknowledged write. One profiling run applies the history with
 * compute node 0 over {@link CrashingVerbs} that only trace, which gives each of its operations'
 * requests (each verb, and each request of a batch), the first lock it asks for and its
 * {@link CrashScenario} (insert, update, delete, leaf split, internal split, root growth, leaf
 * merge, internal merge, root shrink: a history grows the tree, then drains it). For one
 * operation of compute node 0 of each scenario, design and memory-node count, the trials are:
 * <ul>
 *   <li>for every crash point k, a crash after its k-th request; with torn crash points also,
 *   where request k is a WRITE over several cache lines, with that WRITE landing a seeded part of
 *   its lines;</li>
 *   <li>a <em>queued</em> crash: compute node 1 holds the operation's first lock (from a thread of
 *   its own) while compute node 0 runs the operation, which asks for that lock and queues behind
 *   the hold (spins, for the designs that do not queue); compute node 0 is stopped a seeded 0-3
 *   requests later, or once it waits without verbs; compute node 1 releases before the lock
 *   recovery starts (its grant goes to a dead waiter) or while it runs (a seeded choice).</li>
 * </ul>
 * Each trial:
 * <ol>
 *   <li>builds fresh memory nodes and compute nodes 0 and 1, applies the history up to the
 *   operation (acknowledged, so the model holds them), and runs the operation on compute node 0
 *   up to its crash;</li>
 *   <li><b>fences</b> compute node 0 ({@link CrashRig#stop}: its verbs refuse, its messaging is
 *   cut) and then reports it departed in the membership view every lock client sees;</li>
 *   <li><b>repairs nodes</b> for it ({@link TreeRecovery#recover}) from a live member's verbs;</li>
 *   <li>opens compute node 2 and <b>recovers locks</b> with the design's own
 *   {@link LockDesign#recover} through compute node 2's lock client, while compute node 1 may
 *   still hold;</li>
 *   <li>takes and releases, from compute node 2, every lock compute node 0's operation touched:
 *   none may be left held or queued on;</li>
 *   <li><b>completes splits</b> through compute node 2's tree ({@link TreeRecovery#completeSplits});</li>
 *   <li><b>reclaims its memory</b> ({@link MemoryReclaim}); the region audit of the checker must
 *   find no leaked byte (a crash between a block's hand-out and its link leaves an orphan only
 *   reclamation frees), here and after the further operations, and a second reclamation frees
 *   nothing;</li>
 *   <li>runs the tree checker and compares the whole index with the history: every acknowledged
 *   operation present, the crashed one wholly visible or wholly absent (absent, for a queued
 *   crash: it never held its lock), nothing else changed;</li>
 *   <li>opens compute node 3, runs further operations on it against the model, and checks again;
 *   a second node repair of compute node 0 must find nothing left, and so must a second lock
 *   recovery (no hold released, no request removed), after which the touched locks are taken
 *   again.</li>
 * </ol>
 * Every step that can block runs with a time bound ({@link BoundedSteps}); a step past its bound
 * fails the trial. Nodes of 256 bytes (10 leaf entries, 11 separators) make every kind of split
 * happen within a few hundred operations. Trials go round-robin over the (scenario, design,
 * memory-node count) cells, each cell's crash points in a seeded order, so a short sweep reaches
 * every design and scenario and spreads over each operation's crash points.
 */
public final class CrashSweep {
    /** How much of recovery a sweep runs; less than {@link #FULL} is for showing that the checks catch it. */
    public enum Repair {
        /** Node repair, lock recovery, split completion. */
        FULL,
        /** Node repair and lock recovery, no split completion. */
        NODES_ONLY,
        /** Lock recovery only. */
        NONE,
        /** Node repair and split completion, no lock recovery. */
        NO_LOCK_RECOVERY,
        /** Node repair, lock recovery and split completion, no memory reclamation (the region audit still runs). */
        NO_MEMORY_RECLAIM
    }

    /** How a trial stops compute node 0. */
    public enum Crash {
        /** After its k-th request. */
        AT_REQUEST,
        /** At its k-th request, a WRITE over several cache lines, which lands a seeded part of its lines. */
        TORN,
        /** While it waits for a lock compute node 1 holds. */
        QUEUED
    }

    /** Bound of each step of a trial that can block, unless the settings say otherwise. */
    public static final long DEFAULT_BOUND_MILLIS = 20_000;

    /**
     * @param seed        seeds the histories, the torn WRITEs and the queued crashes
     * @param trials      trials to run (the sweep stops at this count)
     * @param locks       lock designs, by name
     * @param memoryNodes memory-node counts (2 puts split halves on different memory nodes)
     * @param torn        also crash at torn WRITEs
     * @param queued      also crash while queued behind another compute node's hold
     * @param repair      how much of recovery to run
     * @param historyOps  operations per history
     * @param boundMillis bound of each step of a trial that can block
     */
    public record Settings(long seed, long trials, List<String> locks, List<Integer> memoryNodes, boolean torn,
                           boolean queued, Repair repair, int historyOps, long boundMillis) {
        public Settings {
            if (trials < 1) {
                throw new IllegalArgumentException("trials must be positive: " + trials);
            }
            if (locks.isEmpty()) {
                throw new IllegalArgumentException("no lock design to sweep");
            }
            locks = List.copyOf(locks);
            for (String lock : locks) {
                LockDesigns.byName(lock);
            }
            memoryNodes = List.copyOf(memoryNodes);
            if (memoryNodes.isEmpty()) {
                throw new IllegalArgumentException("no memory-node count to sweep");
            }
            for (int m : memoryNodes) {
                if (m < 1 || m > 4) {
                    throw new IllegalArgumentException("memory nodes per sweep trial must be in [1, 4]: " + m);
                }
            }
            if (historyOps < 20 || historyOps > 5000) {
                throw new IllegalArgumentException("history length must be in [20, 5000]: " + historyOps);
            }
            if (boundMillis < 10 || boundMillis > 600_000) {
                throw new IllegalArgumentException("step bound must be in [10, 600000] ms: " + boundMillis);
            }
        }

        /** Every lock design, one and two memory nodes, torn WRITEs, queued crashes, full recovery. */
        public static Settings of(long seed, long trials) {
            return new Settings(seed, trials, LockDesigns.names(), List.of(1, 2), true, true, Repair.FULL, 500,
                    DEFAULT_BOUND_MILLIS);
        }

        public Settings withRepair(Repair r) {
            return new Settings(seed, trials, locks, memoryNodes, torn, queued, r, historyOps, boundMillis);
        }

        public Settings withLocks(List<String> names) {
            return new Settings(seed, trials, names, memoryNodes, torn, queued, repair, historyOps, boundMillis);
        }

        public Settings withQueued(boolean q) {
            return new Settings(seed, trials, locks, memoryNodes, torn, q, repair, historyOps, boundMillis);
        }

        public Settings withBoundMillis(long millis) {
            return new Settings(seed, trials, locks, memoryNodes, torn, queued, repair, historyOps, millis);
        }
    }

    static final TreeConfig TREE = new TreeConfig(8, 8, 256, 1L << 20);
    private static final int COMPUTE_NODES = 4;
    private static final int CRASHER = 0;
    private static final int BYSTANDER = 1;
    private static final int RESCUER = 2;
    private static final int FRESH = 3;
    private static final int THREADS = 4;
    /**
     * 48 MiB regions, of which a trial touches the header, the lock table and a few 64 KiB chunks:
     * above the C allocator's largest dynamic mmap threshold (32 MiB), so every region is a fresh
     * mapping and freeing it unmaps it, and thousands of trials do not leave later regions of the
     * same JVM on recycled, non-zero heap memory.
     */
    static final MemoryNodeConfig MEMORY_NODE = new MemoryNodeConfig(48L << 20, 64L << 10, 64L << 10);
    private static final long KEY_SPACE = 1L << 20;
    private static final int FOLLOW_UP_OPS = 24;
    /** Share of a history that grows the tree before the rest drains it. */
    private static final int GROWTH_PERCENT = 60;
    private static final int MAX_FAILURES_KEPT = 20;
    /** A sweep stops after this many trials left a thread stuck (each keeps its memory nodes mapped). */
    private static final int MAX_ABANDONED = 5;
    /** A queued compute node that issues no request for this long is waiting without verbs: stopped then. */
    private static final long QUIET_NANOS = 1_000_000;

    private CrashSweep() {
    }

    /** A put (of {@code value}) or a delete of {@code key}, by the bystander or by the compute node that will crash. */
    record Op(boolean put, long key, long value, boolean bystander) {
        void apply(DmIndex index) {
            if (put) {
                index.put(key, value);
            } else {
                index.delete(key);
            }
        }

        void apply(Map<Long, Long> model) {
            if (put) {
                model.put(key, value);
            } else {
                model.remove(key);
            }
        }

        @Override
        public String toString() {
            return (put ? "put(" + key + ", " + value + ")" : "delete(" + key + ")") + (bystander ? " by the bystander" : "");
        }
    }

    /**
     * Operation {@code index} of a history: its scenario, the requests it issues, and the index of
     * the first of them that touches a lock (-1: none) and that lock.
     */
    record Profile(int index, CrashScenario scenario, List<CrashingVerbs.Request> requests, int firstLockRequest,
                   long firstLock) {
    }

    /** One trial of a cell: how compute node 0 stops; k (extra requests, for a queued crash); seeds. */
    record Spec(Crash crash, int k, long tearSeed, boolean releaseFirst) {
    }

    /** One operation of one history for one design and memory-node count, and its trials. */
    record Cell(String lock, LockDesign design, int mns, long historySeed, List<Op> history, Profile profile,
                List<Spec> specs) {
        String describe(Spec spec) {
            Profile p = profile;
            String head = lock + ", " + mns + " MN, history seed " + historySeed + ", op " + p.index() + " "
                    + history.get(p.index()) + " (" + p.scenario().label() + ")";
            return switch (spec.crash()) {
                case AT_REQUEST -> head + ", crash after request " + spec.k() + " of " + p.requests().size();
                case TORN -> head + ", crash after request " + spec.k() + " of " + p.requests().size() + ", that "
                        + p.requests().get(spec.k()).length() + "-byte WRITE torn (tear seed " + spec.tearSeed() + ")";
                case QUEUED -> head + ", crash while queued for lock " + GlobalAddress.toString(p.firstLock())
                        + " held by compute node 1, " + spec.k() + " requests after asking for it, the holder releasing "
                        + (spec.releaseFirst() ? "before" : "during") + " lock recovery";
            };
        }
    }

    /** Runs the sweep; prints a line to {@code progress} (may be null) every 10,000 trials. */
    public static CrashSweepResult run(Settings settings, PrintWriter progress) {
        CrashSweepResult.Builder result = new CrashSweepResult.Builder(settings.locks());
        long started = System.nanoTime();
        try (BoundedSteps steps = new BoundedSteps()) {
            for (long round = 0; result.trials() < settings.trials(); round++) {
                List<Cell> cells = cells(settings, round);
                if (cells.isEmpty()) {
                    throw new IllegalStateException("no history of round " + round + " has a write of compute node 0");
                }
                result.round(cells.stream().mapToLong(c -> c.specs().size()).sum());
                int[] next = new int[cells.size()];
                boolean more = true;
                while (more && result.trials() < settings.trials()) {
                    more = false;
                    for (int c = 0; c < cells.size() && result.trials() < settings.trials(); c++) {
                        Cell cell = cells.get(c);
                        if (next[c] >= cell.specs().size()) {
                            continue;
                        }
                        more = true;
                        runTrial(settings, cell, cell.specs().get(next[c]++), steps, result, progress, started);
                        if (result.stuck() >= MAX_ABANDONED) {
                            result.failure("sweep stopped: " + result.stuck() + " trials left a thread stuck",
                                    MAX_FAILURES_KEPT);
                            return result.build(System.nanoTime() - started);
                        }
                    }
                }
            }
        }
        return result.build(System.nanoTime() - started);
    }

    /** The cells of one round, scenario by scenario, each over every design and memory-node count. */
    private static List<Cell> cells(Settings settings, long round) {
        List<List<Cell>> byScenario = new ArrayList<>();
        for (int i = 0; i < CrashScenario.values().length; i++) {
            byScenario.add(new ArrayList<>());
        }
        for (String lock : settings.locks()) {
            for (int mns : settings.memoryNodes()) {
                long historySeed = mix(settings.seed(), round, lock.hashCode(), mns);
                Random rnd = new Random(historySeed);
                List<Op> history = history(rnd, settings.historyOps());
                LockDesign design = LockDesigns.byName(lock);
                List<Profile> profiles = profile(design, mns, history);
                for (CrashScenario scenario : CrashScenario.values()) {
                    List<Profile> candidates = profiles.stream().filter(p -> p != null && p.scenario() == scenario).toList();
                    if (candidates.isEmpty()) {
                        continue;
                    }
                    Profile p = candidates.get(rnd.nextInt(candidates.size()));
                    byScenario.get(scenario.ordinal()).add(new Cell(lock, design, mns, historySeed, history, p,
                            specs(settings, historySeed, p)));
                }
            }
        }
        List<Cell> cells = new ArrayList<>();
        byScenario.forEach(cells::addAll);
        return cells;
    }

    /** The trials of one operation: a queued crash first, then every crash point, in a seeded order. */
    private static List<Spec> specs(Settings settings, long historySeed, Profile p) {
        List<Spec> specs = new ArrayList<>();
        if (settings.queued() && p.firstLockRequest() >= 0) {
            long q = mix(historySeed, p.index(), 13, 17);
            specs.add(new Spec(Crash.QUEUED, (int) (q & 3), 0, (q & 4) != 0));
        }
        List<Spec> points = new ArrayList<>();
        for (int k = 0; k < p.requests().size(); k++) {
            points.add(new Spec(Crash.AT_REQUEST, k, 0, false));
            CrashingVerbs.Request next = p.requests().get(k);
            if (settings.torn() && next.kind() == VerbKind.WRITE && next.cacheLines() > 1) {
                points.add(new Spec(Crash.TORN, k, mix(historySeed, p.index(), k, 7), false));
            }
        }
        Collections.shuffle(points, new Random(mix(historySeed, p.index(), 19, 23))); // any prefix spreads over the operation
        specs.addAll(points);
        return specs;
    }

    private static void runTrial(Settings s, Cell cell, Spec spec, BoundedSteps steps, CrashSweepResult.Builder result,
                                 PrintWriter progress, long started) {
        String failure;
        try {
            failure = trial(s, cell, spec, steps, result);
        } catch (RuntimeException | AssertionError e) {
            failure = "threw " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = "interrupted";
        }
        result.trial(cell.lock(), cell.profile().scenario(), spec.crash());
        if (failure != null) {
            result.failure(cell.describe(spec) + ": " + failure, MAX_FAILURES_KEPT);
        }
        if (progress != null && result.trials() % 10_000 == 0) {
            progress.printf("  %,d trials, %,d failures, %.0f s%n", result.trials(), result.failures(),
                    (System.nanoTime() - started) / 1e9);
            progress.flush();
        }
    }

    /** One trial; null when every check passed, else what failed. */
    private static String trial(Settings s, Cell cell, Spec spec, BoundedSteps steps, CrashSweepResult.Builder result)
            throws InterruptedException {
        CrashRig rig = new CrashRig(cell.design(), cell.mns(), MEMORY_NODE, TREE, COMPUTE_NODES, THREADS);
        try {
            return trial(rig, s, cell, spec, steps, result);
        } catch (BoundedSteps.StepFailure f) {
            if (f.stuck()) {
                rig.abandon();
            }
            return f.getMessage();
        } finally {
            if (rig.abandoned()) {
                result.stuckTrial();
            }
            rig.close();
        }
    }

    private static String trial(CrashRig rig, Settings s, Cell cell, Spec spec, BoundedSteps steps,
                                CrashSweepResult.Builder result) throws InterruptedException {
        long bound = s.boundMillis();
        Profile p = cell.profile();
        List<Op> history = cell.history();
        CrashingVerbs crashing = new CrashingVerbs(new LocalVerbs(rig.memoryNodes));
        ComputeNode crasher = rig.computeNode(CRASHER, CountingVerbs.over(crashing));
        ComputeNode bystander = rig.computeNode(BYSTANDER, LocalVerbs.counted(rig.memoryNodes));
        TreeMap<Long, Long> before = steps.run("replaying the history", bound, () -> {
            TreeMap<Long, Long> model = new TreeMap<>();
            for (int j = 0; j < p.index(); j++) {
                Op op = history.get(j);
                op.apply((op.bystander() ? bystander : crasher).index());
                op.apply(model);
            }
            return model;
        });
        Op op = history.get(p.index());
        TreeMap<Long, Long> after = new TreeMap<>(before);
        op.apply(after);

        // 1. the crash, 2. the fence and the departure
        LockHolder holder = null;
        Thread queuedThread = null;
        AtomicReference<Throwable> ended = new AtomicReference<>();
        AtomicBoolean stopping = new AtomicBoolean();
        AtomicBoolean finished = new AtomicBoolean();
        List<CrashingVerbs.Request> trace;
        if (spec.crash() == Crash.QUEUED) {
            holder = new LockHolder(bystander.lockClient(), p.firstLock(), "crash-sweep-holder");
            String notHeld = holder.start(bound);
            if (notHeld != null) {
                return notHeld;
            }
            long base = crashing.issued();
            crashing.trace(true);
            queuedThread = new Thread(() -> {
                try {
                    op.apply(crasher.index());
                    finished.set(true);
                    ended.set(new IllegalStateException("it finished"));
                } catch (Throwable e) {
                    if (!stopping.get()) {
                        ended.set(e); // anything after the stop is how a stopped node's thread ends: refused verbs or sends, its own departure
                    }
                }
            }, "crash-sweep-queued");
            queuedThread.setDaemon(true);
            queuedThread.start();
            String notQueued = awaitQueued(crashing, base, p.firstLockRequest(), spec.k(), queuedThread, bound);
            Throwable beforeStop = ended.get();
            stopping.set(true);
            rig.stop(CRASHER, crashing);
            trace = crashing.traced();
            if (notQueued != null) {
                return stopQueued(rig, holder, queuedThread, bound, notQueued);
            }
            if (beforeStop != null) {
                return stopQueued(rig, holder, queuedThread, bound, "compute node 0 ended its operation (" + beforeStop
                        + ") while compute node 1 held its first lock");
            }
            if (trace.size() <= p.firstLockRequest() || rig.lockAt(trace.get(p.firstLockRequest()).address()) != p.firstLock()) {
                return stopQueued(rig, holder, queuedThread, bound, "the operation's first lock request differs from"
                        + " its profile: the history did not replay the same verbs");
            }
        } else {
            long base = crashing.issued();
            crashing.trace(true);
            if (spec.crash() == Crash.TORN) {
                crashing.crashTornAfter(spec.k(), spec.tearSeed());
            } else {
                crashing.crashAfter(spec.k());
            }
            String early = steps.run("the crashing operation", bound, () -> {
                try {
                    op.apply(crasher.index());
                    return "the operation finished before its crash point: the history did not replay the same verbs";
                } catch (CrashedException expected) {
                    return null; // the member stopped here
                }
            });
            if (early != null) {
                return early;
            }
            if (crashing.issued() - base != spec.k()) {
                return "crashed after " + (crashing.issued() - base) + " requests instead of " + spec.k();
            }
            trace = crashing.traced();
            rig.stop(CRASHER, crashing);
        }

        // 3. repair nodes, from a live member's verbs
        Verbs live = LocalVerbs.counted(rig.memoryNodes);
        RepairReport report = s.repair() == Repair.NONE ? null : TreeRecovery.recover(live, TREE, CRASHER);
        ComputeNode rescuer = rig.computeNode(RESCUER, live);

        // 4. the design's lock recovery, through a live member's lock client (the holder may still hold)
        RecoveryReport locks = null;
        if (holder != null && spec.releaseFirst()) {
            holder.release(); // its grant goes to a dead waiter
        }
        if (s.repair() != Repair.NO_LOCK_RECOVERY) {
            BoundedSteps.Step<RecoveryReport> recovery = steps.submit("lock recovery of compute node 0",
                    () -> rig.recoverLocks(rescuer, CRASHER));
            if (holder != null && !spec.releaseFirst()) {
                LockSupport.parkNanos(200_000); // let recovery meet the hold
                holder.release();
            }
            try {
                locks = recovery.await(bound);
            } catch (BoundedSteps.StepFailure f) {
                recovery.abandon();
                if (holder != null) {
                    holder.release();
                }
                throw f;
            }
        }
        if (holder != null) {
            String unreleased = holder.awaitReleased(bound);
            if (unreleased != null) {
                rig.abandon();
                return unreleased;
            }
        }
        if (queuedThread != null) {
            queuedThread.join(bound);
            if (queuedThread.isAlive()) {
                rig.abandon();
                return "a waiting thread of the stopped compute node did not end within " + bound + " ms of its departure";
            }
            if (finished.get()) {
                return "compute node 0's queued operation finished after its stop: " + ended.get();
            }
        }

        // 5. every lock the stopped compute node touched can be taken by a live one
        Set<Long> touched = rig.locksTouched(trace);
        String held = takeEvery(rig, rescuer, touched, locks != null, steps, bound);
        if (held != null) {
            return held;
        }

        // 6. complete splits, 7. the checks, 8. further operations
        boolean queued = spec.crash() == Crash.QUEUED;
        Checked checked = steps.run("split completion and the checks", bound,
                () -> completeAndCheck(rig, s, spec, p, op, before, after, queued, rescuer, live, report, touched));
        if (checked.failure() != null) {
            return checked.failure();
        }
        result.recovered(report, checked.visible(), locks, touched.size());
        return null;
    }

    /**
     * Waits until compute node 0, queued for its first lock, has issued {@code extra} requests past
     * the one that asked for it, or issues nothing for {@link #QUIET_NANOS} after asking; null then,
     * else why not (it never asked within the bound, or its thread ended first).
     */
    private static String awaitQueued(CrashingVerbs crashing, long base, int firstLockRequest, int extra, Thread thread,
                                      long boundMillis) {
        long deadline = System.nanoTime() + boundMillis * 1_000_000;
        long seen = -1;
        long quietSince = System.nanoTime();
        while (System.nanoTime() < deadline) {
            long issued = crashing.issued() - base;
            if (issued >= firstLockRequest + 1 + extra) {
                return null;
            }
            long now = System.nanoTime();
            if (issued != seen) {
                seen = issued;
                quietSince = now;
            } else if (issued > firstLockRequest && now - quietSince >= QUIET_NANOS) {
                return null; // waiting without verbs
            }
            if (!thread.isAlive()) {
                return null; // the caller reports how it ended
            }
            Thread.onSpinWait();
        }
        return "compute node 0 did not ask for its first lock within " + boundMillis + " ms";
    }

    /** A failed queued trial: lets the holder go and waits for both threads, so none stays behind. */
    private static String stopQueued(CrashRig rig, LockHolder holder, Thread queued, long bound, String failure)
            throws InterruptedException {
        String unreleased = holder.awaitReleased(bound);
        queued.join(bound);
        if (unreleased != null || queued.isAlive()) {
            rig.abandon();
        }
        return failure;
    }

    /**
     * Takes and releases every lock in {@code locks} exclusively through {@code by}'s lock client,
     * within the bound: null when it could, else which lock it could not. A lock still held when no
     * lock recovery ran is then recovered late, so the waiting acquire ends and no thread stays behind.
     */
    private static String takeEvery(CrashRig rig, ComputeNode by, Set<Long> locks, boolean recovered,
                                    BoundedSteps steps, long bound) {
        AtomicLong trying = new AtomicLong();
        LockClient client = by.lockClient();
        BoundedSteps.Step<Integer> take = steps.submit("taking the locks the stopped compute node touched", () -> {
            for (long lock : locks) {
                trying.set(lock);
                client.acquire(lock, LockMode.EXCLUSIVE);
                client.release(lock, LockMode.EXCLUSIVE, null);
            }
            return locks.size();
        });
        try {
            take.await(bound);
            return null;
        } catch (BoundedSteps.StepFailure f) {
            if (!f.stuck()) {
                return f.getMessage();
            }
        }
        take.abandon();
        String failure = "lock " + GlobalAddress.toString(trying.get()) + ", touched by the stopped compute node, could"
                + " not be taken by a live compute node within " + bound + " ms " + (recovered ? "after" : "without")
                + " lock recovery";
        if (recovered) {
            rig.abandon();
            return failure;
        }
        try {
            steps.run("late lock recovery", bound, () -> rig.recoverLocks(by, CRASHER));
            take.await(bound);
        } catch (BoundedSteps.StepFailure g) {
            rig.abandon();
            return failure + "; then " + g.getMessage();
        }
        return failure;
    }

    /** What the checks after recovery found: a failure (null when none), and whether the crashed operation is visible. */
    private record Checked(String failure, boolean visible) {
        static Checked failed(String why) {
            return new Checked(why, false);
        }
    }

    private static Checked completeAndCheck(CrashRig rig, Settings s, Spec spec, Profile p, Op op,
                                            TreeMap<Long, Long> before, TreeMap<Long, Long> after, boolean queued,
                                            ComputeNode rescuer, Verbs live, RepairReport report, Set<Long> touched) {
        if (s.repair() == Repair.FULL || s.repair() == Repair.NO_LOCK_RECOVERY || s.repair() == Repair.NO_MEMORY_RECLAIM) {
            TreeRecovery.completeSplits(rescuer.tree(), report);
        }
        if (s.repair() == Repair.FULL) {
            MemoryReclaim.reclaim(rescuer.tree(), CRASHER, 0);
        }
        TreeReport check = rescuer.check();
        if (!check.ok()) {
            return Checked.failed("tree checker after recovery: " + check);
        }
        boolean audited = s.repair() == Repair.FULL || s.repair() == Repair.NO_MEMORY_RECLAIM;
        if (audited && (check.region() == null || check.region().leaked() != 0)) {
            return Checked.failed("region after recovery and reclamation: " + check.region());
        }
        TreeMap<Long, Long> found = contents(rescuer.index());
        boolean visible;
        if (found.equals(before)) {
            visible = false;
        } else if (found.equals(after) && !queued) {
            visible = true;
        } else if (found.equals(after)) {
            return Checked.failed("history: the crashed operation took effect, though compute node 1 held its first lock"
                    + " until compute node 0 was stopped");
        } else {
            return Checked.failed("history: the index after recovery is neither the acknowledged history nor it plus "
                    + op + ": " + difference(found, before));
        }

        // further operations from a fresh compute node
        ComputeNode fresh = rig.computeNode(FRESH, LocalVerbs.counted(rig.memoryNodes));
        DmIndex index = fresh.index();
        TreeMap<Long, Long> model = visible ? after : before;
        Random rnd = new Random(mix(spec.k(), p.index(), spec.tearSeed(), 11 + spec.crash().ordinal()));
        for (int j = 0; j < FOLLOW_UP_OPS; j++) {
            Op next = nextOp(rnd, model, op.key(), false);
            Long expected = model.get(next.key());
            if (index.get(next.key()).isPresent() != (expected != null)
                    || (expected != null && index.get(next.key()).getAsLong() != expected)) {
                return Checked.failed("after recovery, get(" + next.key() + ") does not answer " + expected);
            }
            next.apply(index);
            next.apply(model);
        }
        check = fresh.check();
        if (!check.ok()) {
            return Checked.failed("tree checker after further operations: " + check);
        }
        if (s.repair() == Repair.FULL) {
            MemoryReclaim.Report again = MemoryReclaim.reclaim(rescuer.tree(), CRASHER, 0);
            if (again.blocksFreed() != 0 || again.chunksFreed() != 0 || again.chunksAdopted() != 0) {
                return Checked.failed("a second reclamation of the member still frees memory: " + again);
            }
            if (check.region().leaked() != 0) {
                return Checked.failed("region after further operations: " + check.region());
            }
        }
        found = contents(index);
        if (!found.equals(model)) {
            return Checked.failed("history after further operations: " + difference(found, model));
        }
        if (s.repair() == Repair.FULL) {
            RepairReport again = TreeRecovery.recover(live, TREE, CRASHER);
            for (long block : again.blocks()) {
                if (block != GlobalAddress.NULL) {
                    return Checked.failed("a second recovery of the member still finds its redo block: " + again);
                }
            }
            // lock recovery is idempotent: run again, it finds no hold or request of the departed node
            RecoveryReport locksAgain = rig.recoverLocks(rescuer, CRASHER);
            if (locksAgain.holdsReleased() != 0 || locksAgain.waitsRemoved() != 0) {
                return Checked.failed("a second lock recovery still finds the departed node's footprint: " + locksAgain);
            }
            for (long lock : touched) {
                rescuer.lockClient().acquire(lock, LockMode.EXCLUSIVE);
                rescuer.lockClient().release(lock, LockMode.EXCLUSIVE, null);
            }
        }
        return new Checked(null, visible);
    }

    /**
     * Runs the history once, compute node 0 on tracing verbs: each of its operations' scenario,
     * requests and first lock (null for the bystander's operations).
     */
    static List<Profile> profile(LockDesign design, int mns, List<Op> history) {
        try (CrashRig rig = new CrashRig(design, mns, MEMORY_NODE, TREE, COMPUTE_NODES, THREADS)) {
            CrashingVerbs tracing = new CrashingVerbs(new LocalVerbs(rig.memoryNodes));
            ComputeNode cn = rig.computeNode(CRASHER, CountingVerbs.over(tracing));
            ComputeNode bystander = rig.computeNode(BYSTANDER, LocalVerbs.counted(rig.memoryNodes));
            Map<Long, Long> model = new TreeMap<>();
            List<Profile> profiles = new ArrayList<>();
            for (int i = 0; i < history.size(); i++) {
                Op op = history.get(i);
                if (op.bystander()) {
                    op.apply(bystander.index());
                    op.apply(model);
                    profiles.add(null);
                    continue;
                }
                boolean present = model.containsKey(op.key());
                CrashScenario.Events before = CrashScenario.Events.of(cn.tree().stats());
                tracing.trace(true);
                op.apply(cn.index());
                List<CrashingVerbs.Request> requests = tracing.traced();
                tracing.trace(false);
                op.apply(model);
                CrashScenario.Events after = CrashScenario.Events.of(cn.tree().stats());
                int firstLockRequest = -1;
                long firstLock = GlobalAddress.NULL;
                for (int r = 0; r < requests.size() && firstLockRequest < 0; r++) {
                    long lock = rig.lockAt(requests.get(r).address());
                    if (lock != GlobalAddress.NULL) {
                        firstLockRequest = r;
                        firstLock = lock;
                    }
                }
                profiles.add(new Profile(i, CrashScenario.classify(op.put(), present, before, after), requests,
                        firstLockRequest, firstLock));
            }
            return profiles;
        }
    }

    /**
     * A history: first a growth (mostly inserts of new keys, some updates and deletes of present
     * keys), then a drain (mostly deletes), so its operations split and merge every level and grow
     * and shrink the root; about a third by the bystander, mostly near keys the crashing compute
     * node wrote.
     */
    static List<Op> history(Random rnd, int length) {
        List<Op> ops = new ArrayList<>(length);
        TreeMap<Long, Long> model = new TreeMap<>();
        long lastKey = rnd.nextLong(KEY_SPACE);
        int growth = length * GROWTH_PERCENT / 100;
        for (int i = 0; i < length; i++) {
            boolean bystander = rnd.nextInt(3) == 0;
            long near = bystander ? lastKey : rnd.nextLong(KEY_SPACE);
            Op op = i < growth ? nextOp(rnd, model, near, bystander) : nextDrainOp(rnd, model, near, bystander);
            if (!bystander) {
                lastKey = op.key();
            }
            op.apply(model);
            ops.add(op);
        }
        return ops;
    }

    /** 70% puts of new keys (half of them near {@code near}), 15% updates, 15% deletes of present keys. */
    private static Op nextOp(Random rnd, TreeMap<Long, Long> model, long near, boolean bystander) {
        int dice = rnd.nextInt(100);
        if (model.isEmpty() || dice < 70) {
            long key;
            do {
                key = rnd.nextBoolean() ? rnd.nextLong(KEY_SPACE) : Math.floorMod(near + rnd.nextInt(64) - 32, KEY_SPACE);
            } while (model.containsKey(key));
            return new Op(true, key, rnd.nextLong(), bystander);
        }
        Long present = model.ceilingKey(bystander ? near : rnd.nextLong(KEY_SPACE));
        long key = present != null ? present : model.firstKey();
        return dice < 85 ? new Op(true, key, rnd.nextLong(), bystander) : new Op(false, key, 0, bystander);
    }

    /** 5% puts of new keys, 5% updates, 90% deletes of present keys. */
    private static Op nextDrainOp(Random rnd, TreeMap<Long, Long> model, long near, boolean bystander) {
        int dice = rnd.nextInt(100);
        if (model.isEmpty() || dice < 5) {
            return nextOp(rnd, model, near, bystander); // mostly a new key
        }
        Long present = model.ceilingKey(bystander ? near : rnd.nextLong(KEY_SPACE));
        long key = present != null ? present : model.firstKey();
        return dice < 10 ? new Op(true, key, rnd.nextLong(), bystander) : new Op(false, key, 0, bystander);
    }

    private static TreeMap<Long, Long> contents(DmIndex index) {
        TreeMap<Long, Long> found = new TreeMap<>();
        for (DmIndex.LongEntry e : index.scan(Long.MIN_VALUE, Integer.MAX_VALUE)) {
            found.put(e.key(), e.value());
        }
        return found;
    }

    private static String difference(Map<Long, Long> found, Map<Long, Long> expected) {
        List<String> lines = new ArrayList<>();
        for (Map.Entry<Long, Long> e : expected.entrySet()) {
            Long got = found.get(e.getKey());
            if (!e.getValue().equals(got)) {
                lines.add(e.getKey() + " expected " + e.getValue() + " found " + got);
            }
        }
        for (Long key : found.keySet()) {
            if (!expected.containsKey(key)) {
                lines.add(key + " unexpected");
            }
        }
        return lines.size() + " keys differ: " + String.join("; ", lines.subList(0, Math.min(5, lines.size())));
    }

    static long mix(long a, long b, long c, long d) {
        long h = a * 0x9E3779B97F4A7C15L;
        h = (h ^ b) * 0xBF58476D1CE4E5B9L;
        h = (h ^ c) * 0x94D049BB133111EBL;
        h = (h ^ d) * 0x9E3779B97F4A7C15L;
        return h ^ (h >>> 31);
    }

}
