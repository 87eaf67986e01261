package io.dmtree.cn.crash;

import io.dmtree.cn.ComputeNode;
import io.dmtree.cn.DmIndex;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.memory.CountingVerbs;
import io.dmtree.core.memory.CrashedException;
import io.dmtree.core.memory.CrashingVerbs;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbKind;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.InJvmMessageBus;
import io.dmtree.core.tree.RepairReport;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.tree.TreeRecovery;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.lock.LockDesigns;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.local.LocalVerbs;
import io.dmtree.mn.local.LocalControlPlane;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * The in-process crash-point sweep: every crash point of every kind of tree write, each followed
 * by recovery, the tree checker and a history check. On the {@code local} carrier, memory nodes
 * and compute nodes built by hand as {@code EmbeddedCluster} builds them.
 *
 * <p>A <em>history</em> is a seeded list of puts and deletes, each run by compute node 0 (the one
 * that will crash) or by compute node 1 (a bystander), one at a time: the bystander changes nodes
 * after compute node 0 last wrote them, so a redo record of compute node 0 that recovery wrongly
 * took for current would undo an acknowledged write. One profiling run applies the history with
 * compute node 0 over {@link CrashingVerbs} that only trace, which gives each of its operations'
 * requests (each verb, and each request of a batch) and its {@link CrashScenario} (insert, update,
 * delete, leaf split, internal split, root growth). For one operation of compute node 0 of each
 * scenario and every crash point k of it, a trial then:
 * <ol>
 *   <li>builds fresh memory nodes and compute nodes 0 and 1, applies the history up to the
 *   operation (acknowledged, so the model holds them), and runs the operation on compute node 0
 *   with a crash after its k-th request; with torn crash points also, where request k is a WRITE
 *   over several cache lines, with that WRITE landing a seeded part of its lines;</li>
 *   <li>repairs nodes for member 0 ({@link TreeRecovery#recover}) from a live member's verbs;</li>
 *   <li>recovers member 0's locks through the {@link LockRecovery} seam;</li>
 *   <li>opens compute node 2 and completes member 0's splits through its tree
 *   ({@link TreeRecovery#completeSplits});</li>
 *   <li>runs the tree checker and compares the whole index with the history: every acknowledged
 *   operation present, the crashed one wholly visible or wholly absent, nothing else changed;</li>
 *   <li>opens compute node 3, runs further operations on it against the model, and checks again;
 *   a second recovery of member 0 must find nothing left.</li>
 * </ol>
 * Nodes of 256 bytes (10 leaf entries, 11 separators) make every kind of split happen within a few
 * hundred operations. No compute node runs concurrently with another within a trial, so the lock
 * design's recovery can be stood in for (see {@link LockRecovery#RESET_LOCK_TABLES}); the tree's
 * use of locks is the same for every design in this single-node setting.
 */
public final class CrashSweep {
    /** How much of recovery a sweep runs; less than {@link #FULL} is for showing that the checks catch it. */
    public enum Repair {
        /** Node repair, lock recovery, split completion. */
        FULL,
        /** Node repair and lock recovery, no split completion. */
        NODES_ONLY,
        /** Lock recovery only. */
        NONE
    }

    /** Step 3 of recovery in a sweep trial: free the lapsed member's locks. */
    @FunctionalInterface
    public interface LockRecovery {
        void recover(List<MemoryNode> memoryNodes, int lapsedMember);

        /**
         * Zeroes every memory node's lock table, the state a freshly formatted memory node gives
         * every design: a stand-in for the per-design lock recovery, valid only because no other
         * compute node runs during a sweep trial (it would also free their locks).
         */
        LockRecovery RESET_LOCK_TABLES = (memoryNodes, lapsed) -> {
            for (MemoryNode mn : memoryNodes) {
                mn.region().zero(RegionLayout.LOCK_TABLE_START, mn.config().lockTableBytes());
            }
        };
    }

    /**
     * @param seed          seeds the histories and the torn WRITEs
     * @param trials        trials to run (the sweep stops at this count)
     * @param locks         lock designs, by name
     * @param memoryNodes   memory-node counts (2 puts split halves on different memory nodes)
     * @param torn          also crash at torn WRITEs
     * @param repair        how much of recovery to run
     * @param historyOps    operations per history
     * @param lockRecovery  step 3
     */
    public record Settings(long seed, long trials, List<String> locks, List<Integer> memoryNodes, boolean torn,
                           Repair repair, int historyOps, LockRecovery lockRecovery) {
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
        }

        /** The default design and {@code cas-spin}, one and two memory nodes, torn WRITEs, full recovery. */
        public static Settings of(long seed, long trials) {
            return new Settings(seed, trials, List.of(LockDesigns.defaultName(), "cas-spin"), List.of(1, 2), true,
                    Repair.FULL, 300, LockRecovery.RESET_LOCK_TABLES);
        }

        public Settings withRepair(Repair r) {
            return new Settings(seed, trials, locks, memoryNodes, torn, r, historyOps, lockRecovery);
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
    private static final MemoryNodeConfig MEMORY_NODE = new MemoryNodeConfig(48L << 20, 64L << 10, 64L << 10);
    private static final long KEY_SPACE = 1L << 20;
    private static final int FOLLOW_UP_OPS = 24;
    private static final int MAX_FAILURES_KEPT = 20;

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

    /** Operation {@code index} of a history: its scenario and the requests it issues. */
    record Profile(int index, CrashScenario scenario, List<CrashingVerbs.Request> requests) {
    }

    /** Runs the sweep; prints a line to {@code progress} (may be null) every 10,000 trials. */
    public static CrashSweepResult run(Settings settings, PrintWriter progress) {
        CrashSweepResult.Builder result = new CrashSweepResult.Builder();
        long started = System.nanoTime();
        for (long round = 0; result.trials() < settings.trials(); round++) {
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
                        for (int k = 0; k < p.requests().size() && result.trials() < settings.trials(); k++) {
                            String where = lock + ", " + mns + " MN, history seed " + historySeed + ", op " + p.index()
                                    + " " + history.get(p.index()) + " (" + scenario.label() + "), crash after request " + k
                                    + " of " + p.requests().size();
                            runTrial(settings, design, mns, history, p, k, null, where, result, progress, started);
                            CrashingVerbs.Request next = p.requests().get(k);
                            if (settings.torn() && next.kind() == VerbKind.WRITE && next.cacheLines() > 1
                                    && result.trials() < settings.trials()) {
                                long tearSeed = mix(historySeed, p.index(), k, 7);
                                runTrial(settings, design, mns, history, p, k, tearSeed,
                                        where + ", that " + next.length() + "-byte WRITE torn (tear seed " + tearSeed + ")",
                                        result, progress, started);
                            }
                        }
                    }
                }
            }
        }
        return result.build(System.nanoTime() - started);
    }

    private static void runTrial(Settings s, LockDesign design, int mns, List<Op> history, Profile p, int k, Long tearSeed,
                                 String where, CrashSweepResult.Builder result, PrintWriter progress, long started) {
        String failure;
        try {
            failure = trial(s, design, mns, history, p, k, tearSeed, result);
        } catch (RuntimeException | AssertionError e) {
            failure = "threw " + e;
        }
        result.trial(p.scenario(), tearSeed != null);
        if (failure != null) {
            result.failure(where + ": " + failure, MAX_FAILURES_KEPT);
        }
        if (progress != null && result.trials() % 10_000 == 0) {
            progress.printf("  %,d trials, %,d failures, %.0f s%n", result.trials(), result.failures(),
                    (System.nanoTime() - started) / 1e9);
            progress.flush();
        }
    }

    /** One trial; null when every check passed, else what failed. */
    private static String trial(Settings s, LockDesign design, int mns, List<Op> history, Profile p, int k, Long tearSeed,
                                CrashSweepResult.Builder result) {
        try (Rig rig = new Rig(design, mns)) {
            CrashingVerbs crashing = new CrashingVerbs(new LocalVerbs(rig.memoryNodes));
            ComputeNode crasher = rig.computeNode(CRASHER, CountingVerbs.over(crashing));
            ComputeNode bystander = rig.computeNode(BYSTANDER, LocalVerbs.counted(rig.memoryNodes));
            TreeMap<Long, Long> before = new TreeMap<>();
            for (int j = 0; j < p.index(); j++) {
                Op op = history.get(j);
                op.apply((op.bystander() ? bystander : crasher).index());
                op.apply(before);
            }
            Op op = history.get(p.index());
            TreeMap<Long, Long> after = new TreeMap<>(before);
            op.apply(after);

            // 1. the crash (the fenced member issues nothing after it)
            long base = crashing.issued();
            if (tearSeed == null) {
                crashing.crashAfter(k);
            } else {
                crashing.crashTornAfter(k, tearSeed);
            }
            try {
                op.apply(crasher.index());
                return "the operation finished before its crash point: the history did not replay the same verbs";
            } catch (CrashedException expected) {
                // the member stopped here
            }
            if (crashing.issued() - base != k) {
                return "crashed after " + (crashing.issued() - base) + " requests instead of " + k;
            }
            crasher.messaging().close();

            // 2. repair nodes, from a live member's verbs
            Verbs live = LocalVerbs.counted(rig.memoryNodes);
            RepairReport report = s.repair() == Repair.NONE ? null : TreeRecovery.recover(live, TREE, 0);
            // 3. recover locks (the seam for per-design lock recovery)
            s.lockRecovery().recover(rig.memoryNodes, 0);
            // 4. complete splits through a live member's tree
            ComputeNode rescuer = rig.computeNode(RESCUER, live);
            if (s.repair() == Repair.FULL) {
                TreeRecovery.completeSplits(rescuer.tree(), report);
            }

            TreeReport check = rescuer.check();
            if (!check.ok()) {
                return "tree checker after recovery: " + check;
            }
            TreeMap<Long, Long> found = contents(rescuer.index());
            boolean visible;
            if (found.equals(before)) {
                visible = false;
            } else if (found.equals(after)) {
                visible = true;
            } else {
                return "history: the index after recovery is neither the acknowledged history nor it plus " + op + ": "
                        + difference(found, before);
            }

            // further operations from a fresh compute node
            ComputeNode fresh = rig.computeNode(FRESH, LocalVerbs.counted(rig.memoryNodes));
            DmIndex index = fresh.index();
            TreeMap<Long, Long> model = visible ? after : before;
            Random rnd = new Random(mix(k, p.index(), tearSeed == null ? 0 : tearSeed, 11));
            for (int j = 0; j < FOLLOW_UP_OPS; j++) {
                Op next = nextOp(rnd, model, op.key(), false);
                Long expected = model.get(next.key());
                if (index.get(next.key()).isPresent() != (expected != null)
                        || (expected != null && index.get(next.key()).getAsLong() != expected)) {
                    return "after recovery, get(" + next.key() + ") does not answer " + expected;
                }
                next.apply(index);
                next.apply(model);
            }
            check = fresh.check();
            if (!check.ok()) {
                return "tree checker after further operations: " + check;
            }
            found = contents(index);
            if (!found.equals(model)) {
                return "history after further operations: " + difference(found, model);
            }
            if (s.repair() == Repair.FULL) {
                RepairReport again = TreeRecovery.recover(live, TREE, 0);
                for (long block : again.blocks()) {
                    if (block != GlobalAddress.NULL) {
                        return "a second recovery of the member still finds its redo block: " + again;
                    }
                }
            }
            result.recovered(report, visible);
            return null;
        }
    }

    /**
     * Runs the history once, compute node 0 on tracing verbs: each of its operations' scenario and
     * requests (null for the bystander's operations).
     */
    static List<Profile> profile(LockDesign design, int mns, List<Op> history) {
        try (Rig rig = new Rig(design, mns)) {
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
                profiles.add(new Profile(i, CrashScenario.classify(op.put(), present, before, after), requests));
            }
            return profiles;
        }
    }

    /**
     * A history: mostly inserts of new keys, some updates and deletes of present keys; about a
     * third by the bystander, mostly near keys the crashing compute node wrote.
     */
    static List<Op> history(Random rnd, int length) {
        List<Op> ops = new ArrayList<>(length);
        TreeMap<Long, Long> model = new TreeMap<>();
        long lastKey = rnd.nextLong(KEY_SPACE);
        for (int i = 0; i < length; i++) {
            boolean bystander = rnd.nextInt(3) == 0;
            Op op = nextOp(rnd, model, bystander ? lastKey : rnd.nextLong(KEY_SPACE), bystander);
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

    /** Memory nodes, their control plane and a message bus, built by hand as the embedded cluster builds them. */
    private static final class Rig implements AutoCloseable {
        final List<MemoryNode> memoryNodes = new ArrayList<>();
        private final LocalControlPlane controlPlane;
        private final InJvmMessageBus bus = new InJvmMessageBus();
        private final LockDesign design;
        private final List<ComputeNode> opened = new ArrayList<>();
        private int joined;

        Rig(LockDesign design, int mns) {
            this.design = design;
            for (int i = 0; i < mns; i++) {
                memoryNodes.add(new MemoryNode(i, MEMORY_NODE));
            }
            controlPlane = new LocalControlPlane(memoryNodes);
        }

        /** Compute node {@code id}; ids must come in order (the bus numbers endpoints by joining). */
        ComputeNode computeNode(int id, Verbs verbs) {
            if (id != joined) {
                throw new IllegalStateException("compute node " + id + " opened out of order");
            }
            joined++;
            ComputeNode cn = new ComputeNode(id, COMPUTE_NODES, verbs, controlPlane, bus.join(), TREE, design, THREADS);
            if (id != CRASHER) {
                opened.add(cn); // the crashing compute node is never closed, as a dead process is not
            }
            return cn;
        }

        @Override
        public void close() {
            for (ComputeNode cn : opened) {
                cn.close();
            }
            for (MemoryNode mn : memoryNodes) {
                mn.close();
            }
        }
    }
}
