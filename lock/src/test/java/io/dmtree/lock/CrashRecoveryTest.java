package io.dmtree.lock;

import io.dmtree.core.lock.LockDesign;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * For every lock design: a compute node stopped dead while holding 1, 10 and 100 locks and
 * waiting on 2 others (each behind a live holder and a live waiter), and a compute node that stops by itself at a random point of its lock
 * protocol; then the design's recovery on a live member while the others keep going. The others
 * finish, every lock is acquirable again and every protected counter is exact
 * ({@link CrashRecoveryStress}). Seeded: {@code -Ddmtree.seed=N} repeats a run (the seed is
 * printed).
 */
class CrashRecoveryTest {
    static final long SEED = Long.getLong("dmtree.seed", System.nanoTime());

    static Stream<Arguments> holding() {
        List<Arguments> a = new ArrayList<>();
        for (String d : LockDesigns.names()) {
            for (int held : new int[]{1, 10, 100}) {
                a.add(Arguments.of(d, held));
            }
        }
        return a.stream();
    }

    static Stream<Arguments> atVerb() {
        List<Arguments> a = new ArrayList<>();
        for (String d : LockDesigns.names()) {
            for (int run = 0; run < 2; run++) {
                a.add(Arguments.of(d, run));
            }
        }
        return a.stream();
    }

    @ParameterizedTest(name = "{0} stopped holding {1} locks and waiting on 2")
    @MethodSource("holding")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void stoppedWhileHoldingAndQueued(String name, int held) throws Exception {
        LockDesign d = LockDesigns.byName(name);
        long seed = SEED + 31L * held + name.hashCode();
        // with 10 held locks the blocker lets the victim's waiters in before recovery starts, else while it runs
        CrashRecoveryStress.Result r = CrashRecoveryStress.run(d, seed, new CrashRecoveryStress.Plan(2, 3, 2, held, 2,
                4, 0.3, 60, 250, CrashRecoveryStress.Crash.HOLDING, held == 10));
        assertNull(r.failure(), name + " seed " + seed + " (-Ddmtree.seed=" + SEED + "): " + r.failure());
        assertNotNull(r.report(), "recovery reported nothing");
        assertTrue(r.operations() > 0, "no progress");
    }

    @ParameterizedTest(name = "{0} stops at a random verb (run {1})")
    @MethodSource("atVerb")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void stoppedAtARandomPointOfTheProtocol(String name, int run) throws Exception {
        LockDesign d = LockDesigns.byName(name);
        long seed = SEED + 1_000_003L * run + name.hashCode();
        CrashRecoveryStress.Result r = CrashRecoveryStress.run(d, seed, new CrashRecoveryStress.Plan(1, 3, 2, 0, 0,
                3, 0.4, 60, 250, CrashRecoveryStress.Crash.AT_VERB, false));
        assertNull(r.failure(), name + " seed " + seed + " (-Ddmtree.seed=" + SEED + "), stopped before request "
                + r.crashRequest() + ": " + r.failure());
        assertNotNull(r.report(), "recovery reported nothing");
    }
}
