package io.dmtree.lock;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Exhaustive model checking of the {@code adaptive} lock's switch protocol with spin (model:
 * {@code lock/src/test/spin/adaptive_lock.pml}; the modular lock behind it is checked by
 * {@link ModularLockModelCheckTest}): mutual exclusion and the protocol's invariants, no deadlock,
 * every live waiter granted under weak fairness, without and with a compute node that stops at any
 * point followed by the recovery; and each seeded bug is caught. Needs spin and gcc.
 */
class AdaptiveLockModelCheckTest {
    static final Path MODEL = Path.of("src/test/spin/adaptive_lock.pml");

    @BeforeAll
    static void toolsPresent() {
        ModularLockModelCheckTest.toolsPresent();
        assertTrue(Files.isRegularFile(MODEL), "model not found at " + MODEL.toAbsolutePath());
    }

    private static ModularLockModelCheckTest.Outcome verify(String defines, boolean liveness) throws Exception {
        return ModularLockModelCheckTest.verify(MODEL, defines, liveness);
    }

    /** Mutual exclusion, invariants 1-4 (assertions) and no deadlock (end states). */
    @ParameterizedTest(name = "safety {0}")
    @CsvSource({
            "-DNCN=2 -DITER=2",
            "-DNCN=3 -DITER=1",
            "-DNCN=2 -DITER=2 -DCRASH",
            "-DNCN=3 -DITER=1 -DCRASH",
    })
    void safety(String defines) throws Exception {
        ModularLockModelCheckTest.Outcome o = verify(defines, false);
        assertTrue(o.complete(), "search incomplete for " + defines + ":\n" + o.output());
        assertEquals(0, o.errors(), "spin found an error for " + defines + ":\n" + o.output());
    }

    /** Every live waiter is eventually granted: LTL {@code <> finished == NLIVE} under weak fairness. */
    @ParameterizedTest(name = "liveness {0}")
    @CsvSource({
            "-DNCN=2 -DITER=2",
            "-DNCN=3 -DITER=1",
            "-DNCN=2 -DITER=2 -DCRASH",
            "-DNCN=3 -DITER=1 -DCRASH",
    })
    void liveness(String defines) throws Exception {
        ModularLockModelCheckTest.Outcome o = verify(defines, true);
        assertTrue(o.complete(), "search incomplete for " + defines + ":\n" + o.output());
        assertEquals(0, o.errors(), "spin found a liveness violation for " + defines + ":\n" + o.output());
    }

    /**
     * Seeded bugs, each caught by the assertion named: no take-over by a leader granted at once
     * (two holders), the switch back after the modular release (two holders), grants flagged
     * handed-on after a switch back (invariant 3), a word release that writes zero and loses the
     * queue's flag (a word acquirer overtakes the take-over, invariant 4).
     */
    @ParameterizedTest(name = "seeded bug {0}")
    @CsvSource({
            "-DNCN=2 -DITER=2 -DNO_TAKEOVER, assertion violated (((A==8)&&(qn>0))&&(q[qh]==me))",
            "-DNCN=2 -DITER=2 -DSWITCH_AFTER_FAA, assertion violated (((A==8)&&(qn>0))&&(q[qh]==me))",
            "-DNCN=2 -DITER=2 -DALWAYS_HANDED_ON, assertion violated (A==8)",
            "-DNCN=2 -DITER=2 -DPLAIN_RELEASE, assertion violated (pend==0)",
    })
    void seededBugIsCaught(String defines, String assertion) throws Exception {
        ModularLockModelCheckTest.Outcome o = verify(defines, false);
        assertTrue(o.errors() > 0, "spin did not catch " + defines + ":\n" + o.output());
        assertTrue(o.output().contains(assertion), "expected '" + assertion + "':\n" + o.output());
    }
}
