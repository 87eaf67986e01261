package io.dmtree.workloads.cli;

import io.dmtree.lock.LockDesigns;
import org.junit.jupiter.api.Test;

import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code dmtree crashsweep}: figures printed, every design swept, exit codes. */
class CrashSweepCommandTest {

    @Test
    void printsTrialsAndFailures() {
        CliRun run = CliRun.of("crashsweep", "--trials", "80", "--seed", "3", "--lock", "modular,cas-spin");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("seed 3,"), run.out());
        assertTrue(run.out().contains("trials run:     80"), run.out());
        assertTrue(run.out().contains("failures found: 0"), run.out());
        assertTrue(run.out().contains("insert") && run.out().contains("root growth"), run.out());
        assertTrue(run.out().contains("lock recovery: "), run.out());
        assertTrue(run.out().trim().endsWith("OK"), run.out());
    }

    /** The cells go round-robin: even a short sweep gives every design trials, queued ones among them. */
    @Test
    void sweepsEveryLockDesignByDefault() {
        CliRun run = CliRun.of("crashsweep", "--trials", "64", "--seed", "4", "--mns", "1", "--history", "40");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("locks " + String.join(", ", LockDesigns.names())), run.out());
        assertTrue(run.out().contains("failures found: 0"), run.out());
        for (String design : LockDesigns.names()) {
            assertTrue(Pattern.compile("(?m)^" + Pattern.quote(design) + " +[1-9]").matcher(run.out()).find(),
                    "no trial of " + design + ":\n" + run.out());
        }
        assertTrue(Pattern.compile("(?m)^insert +[\\d,]+ +[\\d,]+ +[1-9]").matcher(run.out()).find(),
                "no queued insert trial:\n" + run.out());
    }

    @Test
    void aSweepWithoutLockRecoveryFailsWithExitCodeOne() {
        CliRun run = CliRun.of("crashsweep", "--trials", "12", "--seed", "5", "--repair", "no-locks", "--lock", "cas-spin",
                "--mns", "1", "--no-queued", "--bound-ms", "100");
        assertEquals(DmtreeCli.EXIT_FAILED, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("could not be taken by a live compute node"), run.out());
        assertTrue(run.out().contains("BROKEN (seed 5)"), run.out());
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
        assertEquals(DmtreeCli.EXIT_USAGE, CliRun.of("crashsweep", "--bound-ms", "1").exitCode());
    }
}
