package io.dmtree.cn;

import io.dmtree.cn.crash.CrashScenario;
import io.dmtree.cn.crash.CrashSweep;
import io.dmtree.cn.crash.CrashSweepResult;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash points, in process: a compute node stopped after each request (verb, or request of a
 * batch, or a WRITE torn across its cache lines) of inserts, updates, deletes, leaf splits,
 * internal splits and root growths, with the default lock design and {@code cas-spin}, on one and
 * two memory nodes; then node repair, lock recovery, split completion, the tree checker and the
 * history check ({@link CrashSweep} states the trial).
 *
 * <p>Lock recovery is stood in for by zeroing the lock tables
 * ({@link CrashSweep.LockRecovery#RESET_LOCK_TABLES}), valid because no other compute node runs
 * during a trial; the per-design lock recovery plugs into the same seam
 * ({@link CrashSweep.Settings#lockRecovery()}). Replay a run with {@code -Ddmtree.seed=N}; scale
 * it with {@code -Ddmtree.stress.scale}; {@code dmtree crashsweep} runs 100,000 and more.
 */
class CrashPointSweepTest {

    @Test
    void everyCrashPointOfEveryKindOfWriteIsRecovered() {
        long seed = Seeds.seed("everyCrashPointOfEveryKindOfWriteIsRecovered");
        long trials = Math.max(2000, (long) (3000 * Seeds.scale())); // 2,000 reach every scenario
        CrashSweepResult r = CrashSweep.run(CrashSweep.Settings.of(seed, trials), null);
        System.out.printf("crash-point sweep: %d trials, %d failures, %d replayed, %d torn records discarded, %d intents,"
                + " %d visible, %.1f s%n", r.trials(), r.failures(), r.replayed(), r.discarded(), r.intents(), r.visible(),
                r.elapsedNanos() / 1e9);
        assertEquals(0, r.failures(), () -> String.join("\n", r.firstFailures()));
        assertEquals(trials, r.trials());
        for (CrashScenario s : CrashScenario.values()) {
            assertTrue(r.trialsByScenario().get(s)[0] > 0, "no trial crashed a " + s.label());
            assertTrue(r.trialsByScenario().get(s)[1] > 0, "no trial tore a WRITE of a " + s.label());
        }
        assertTrue(r.replayed() > 0, "no trial needed a redo replay");
        assertTrue(r.discarded() > 0, "no trial left a torn redo record");
        assertTrue(r.intents() > 0, "no trial left a split intent");
        assertTrue(r.visible() > 0 && r.visible() < r.trials(), "crashed operations should end up visible in some trials, absent in others");
    }

    @Test
    void withoutNodeRepairTheChecksFail() {
        long seed = Seeds.seed("withoutNodeRepairTheChecksFail");
        CrashSweepResult r = CrashSweep.run(CrashSweep.Settings.of(seed, 400).withRepair(CrashSweep.Repair.NONE), null);
        assertTrue(r.failures() > 0, "a sweep without node repair found nothing wrong");
        assertTrue(r.firstFailures().stream().anyMatch(f -> f.contains("fails its checksum")), () -> String.join("\n", r.firstFailures()));
    }

    @Test
    void withoutSplitCompletionTheCheckerFindsTheMissingSeparators() {
        long seed = Seeds.seed("withoutSplitCompletionTheCheckerFindsTheMissingSeparators");
        CrashSweepResult r = CrashSweep.run(CrashSweep.Settings.of(seed, 600).withRepair(CrashSweep.Repair.NODES_ONLY), null);
        assertTrue(r.failures() > 0, "a sweep without split completion found nothing wrong");
        assertTrue(r.firstFailures().stream().allMatch(f -> f.contains("split") || f.contains("growth")),
                () -> "only splits may fail without split completion:\n" + String.join("\n", r.firstFailures()));
    }
}
