package io.dmtree.workloads.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code dmtree crashsweep}: figures printed, exit codes. */
class CrashSweepCommandTest {

    @Test
    void printsTrialsAndFailures() {
        CliRun run = CliRun.of("crashsweep", "--trials", "80", "--seed", "3");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("trials run:     80"), run.out());
        assertTrue(run.out().contains("failures found: 0"), run.out());
        assertTrue(run.out().contains("insert") && run.out().contains("root growth"), run.out());
        assertTrue(run.out().trim().endsWith("OK"), run.out());
    }

    @Test
    void sweepsEveryLockDesign() {
        CliRun run = CliRun.of("crashsweep", "--trials", "40", "--seed", "4", "--lock", "all", "--mns", "1", "--history", "40");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("locks " + String.join(", ", io.dmtree.lock.LockDesigns.names())), run.out());
        assertTrue(run.out().contains("failures found: 0"), run.out());
    }

    @Test
    void aSweepWithoutNodeRepairFailsWithExitCodeOne() {
        CliRun run = CliRun.of("crashsweep", "--trials", "300", "--seed", "3", "--repair", "none", "--lock", "cas-spin", "--mns", "1");
        assertEquals(DmtreeCli.EXIT_FAILED, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("FAILED:"), run.out());
        assertTrue(run.out().contains("BROKEN (seed 3)"), run.out());
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertEquals(DmtreeCli.EXIT_USAGE, CliRun.of("crashsweep", "--mns", "9").exitCode());
        assertEquals(DmtreeCli.EXIT_USAGE, CliRun.of("crashsweep", "--lock", "nope").exitCode());
        assertEquals(DmtreeCli.EXIT_USAGE, CliRun.of("crashsweep", "--repair", "half").exitCode());
        assertEquals(DmtreeCli.EXIT_USAGE, CliRun.of("crashsweep", "--trials", "0").exitCode());
    }
}
