package io.dmtree.cn;

import io.dmtree.cn.crash.CrashScenario;
import io.dmtree.cn.crash.CrashSweep;
import io.dmtree.cn.crash.CrashSweepResult;
import io.dmtree.lock.LockDesigns;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash points, in process: a compute node stopped after each request (verb, or request of a
 * batch, or a WRITE torn across its cache lines) of inserts, updates, deletes, leaf splits,
 * internal splits, root growths, leaf merges, internal merges and root shrinks, and while queued
 * behind another compute node's hold, with
 * every lock design, on one and two memory nodes; then the fence, the departure, node repair, the
 * design's own lock recovery from a live compute node, a live compute node taking every lock the
 * stopped one touched, split completion, the tree checker and the history check ({@link CrashSweep}
 * states the trial). Replay a run with {@code -Ddmtree.seed=N}; scale it with
 * {@code -Ddmtree.stress.scale}; {@code dmtree crashsweep} runs 100,000 and more.
 */
class CrashPointSweepTest {

    @Test
    void everyCrashPointOfEveryKindOfWriteIsRecoveredWithEveryLockDesign() {
        long seed = Seeds.seed("everyCrashPointOfEveryKindOfWriteIsRecoveredWithEveryLockDesign");
        long trials = Math.max(6000, (long) (6000 * Seeds.scale()));
        CrashSweepResult r = CrashSweep.run(CrashSweep.Settings.of(seed, trials), null);
        System.out.printf("crash-point sweep (seed %d): %d trials (%d queued), %d failures, %d replayed, %d torn records"
                        + " discarded, %d intents, %d visible, %d holds released, %d waits removed, %d locks reset,"
                        + " %d locks taken afterwards, by design %s, %d rounds (first %d trials), %.1f s%n", seed, r.trials(),
                r.queued(), r.failures(), r.replayed(), r.discarded(), r.intents(), r.visible(), r.holdsReleased(),
                r.waitsRemoved(), r.locksReset(), r.locksTaken(), r.trialsByDesign(), r.rounds(), r.firstRoundTrials(),
                r.elapsedNanos() / 1e9);
        StringBuilder byScenario = new StringBuilder();
        r.trialsByScenario().forEach((s, c) -> byScenario.append(String.format(" %s %d (%d torn, %d queued);", s.label(), c[0], c[1], c[2])));
        System.out.printf("  by scenario:%s %d merges finished by node repair%n", byScenario, r.mergesFinished());
        assertEquals(0, r.failures(), () -> "seed " + seed + ":\n" + String.join("\n", r.firstFailures()));
        assertEquals(trials, r.trials());
        for (CrashScenario s : CrashScenario.values()) {
            assertTrue(r.trialsByScenario().get(s)[0] > 0, "no trial crashed a " + s.label());
            assertTrue(r.trialsByScenario().get(s)[1] > 0, "no trial tore a WRITE of a " + s.label());
            assertTrue(r.trialsByScenario().get(s)[2] > 0, "no trial crashed a " + s.label() + " while queued");
        }
        for (String design : LockDesigns.names()) {
            assertTrue(r.trialsByDesign().get(design) > 0, "no trial used " + design);
        }
        assertTrue(r.replayed() > 0, "no trial needed a redo replay");
        assertTrue(r.discarded() > 0, "no trial left a torn redo record");
        assertTrue(r.intents() > 0, "no trial left a split intent");
        assertTrue(r.mergesFinished() > 0, "no trial stopped a merge between its survivor and its removed node");
        assertTrue(r.holdsReleased() > 0, "no lock recovery released a hold of the stopped compute node");
        assertTrue(r.waitsRemoved() + r.locksReset() > 0, "no lock recovery removed a queued request");
        assertTrue(r.locksTaken() > 0, "no lock was taken after recovery");
        assertTrue(r.visible() > 0 && r.visible() < r.trials(), "crashed operations should end up visible in some trials, absent in others");
    }

    @Test
    void withoutNodeRepairTheChecksFail() {
        long seed = Seeds.seed("withoutNodeRepairTheChecksFail");
        CrashSweepResult r = CrashSweep.run(CrashSweep.Settings.of(seed, 300).withLocks(List.of("cas-spin"))
                .withRepair(CrashSweep.Repair.NONE), null);
        assertTrue(r.failures() > 0, "a sweep without node repair found nothing wrong");
        assertTrue(r.firstFailures().stream().anyMatch(f -> f.contains("fails its checksum")), () -> String.join("\n", r.firstFailures()));
    }

    @Test
    void withoutSplitCompletionTheCheckerFindsTheMissingSeparators() {
        long seed = Seeds.seed("withoutSplitCompletionTheCheckerFindsTheMissingSeparators");
        CrashSweepResult r = CrashSweep.run(CrashSweep.Settings.of(seed, 400).withLocks(List.of("cas-spin", "modular"))
                .withRepair(CrashSweep.Repair.NODES_ONLY), null);
        assertTrue(r.failures() > 0, "a sweep without split completion found nothing wrong");
        assertTrue(r.firstFailures().stream().allMatch(f -> f.contains("split") || f.contains("growth")
                        || f.contains("merge") || f.contains("shrink")),
                () -> "only splits and merges may fail without split completion:\n" + String.join("\n", r.firstFailures()));
    }

    /**
     * The region audit is what finds memory a crash left held: without memory reclamation, crashes
     * between a node's hand-out and its link leave leaked bytes, and only those checks fail.
     */
    @Test
    void withoutMemoryReclamationTheAuditFindsTheLeakedBlocks() {
        long seed = Seeds.seed("withoutMemoryReclamationTheAuditFindsTheLeakedBlocks");
        CrashSweepResult r = CrashSweep.run(CrashSweep.Settings.of(seed, 400).withLocks(List.of("cas-spin"))
                .withQueued(false).withRepair(CrashSweep.Repair.NO_MEMORY_RECLAIM), null);
        assertTrue(r.failures() > 0, "a sweep without memory reclamation found nothing leaked");
        assertTrue(r.firstFailures().stream().allMatch(f -> f.contains("region after recovery") && f.contains("leaked")),
                () -> "only the region audit may fail without reclamation:\n" + String.join("\n", r.firstFailures()));
    }

    /** The lock check is what finds a lock left held: without lock recovery it must fail, for a CAS lock and a queue lock. */
    @Test
    void withoutLockRecoveryALiveComputeNodeCannotTakeTheLocks() {
        long seed = Seeds.seed("withoutLockRecoveryALiveComputeNodeCannotTakeTheLocks");
        for (String design : List.of("cas-spin", "modular")) {
            CrashSweepResult r = CrashSweep.run(CrashSweep.Settings.of(seed, 24).withLocks(List.of(design)).withQueued(false)
                    .withRepair(CrashSweep.Repair.NO_LOCK_RECOVERY).withBoundMillis(100), null);
            assertTrue(r.failures() > 0, design + ": a sweep without lock recovery found nothing wrong");
            assertTrue(r.firstFailures().stream().allMatch(f -> f.contains("could not be taken by a live compute node")
                            && f.contains("without lock recovery")),
                    () -> design + ": only the lock check may fail without lock recovery:\n" + String.join("\n", r.firstFailures()));
            assertTrue(r.firstFailures().stream().noneMatch(f -> f.contains("sweep stopped")),
                    () -> design + ": late recovery should free every stuck acquirer:\n" + String.join("\n", r.firstFailures()));
        }
    }
}
