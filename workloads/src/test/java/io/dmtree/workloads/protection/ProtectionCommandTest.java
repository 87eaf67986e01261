package io.dmtree.workloads.protection;

import io.dmtree.workloads.cli.DmtreeCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The plumbing of {@code dmtree protection} on tiny sizes: both benchmarks run and print their distributions. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProtectionCommandTest {
    private static int run(StringWriter out, StringWriter err, String... args) {
        CommandLine cl = new CommandLine(new DmtreeCli());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void illegalAccessCountsEveryRefusalAndPrintsTheDistributions() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, run(out, err, "protection", "illegal-access", "--trials", "40", "--warmup", "4"), err.toString());
        assertTrue(out.toString().contains("44 verbs refused"), out.toString());
        assertTrue(out.toString().contains("illegal verb posted -> next verb succeeded"), out.toString());
        assertTrue(out.toString().contains("legal verb posted -> next verb succeeded"), out.toString());
    }

    @Test
    void revocationChecksEveryMemoryNodeAndPrintsTheDistribution() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, run(out, err, "protection", "revocation", "--memory-nodes", "2", "--trials", "2", "--rounds", "1"),
                err.toString());
        assertTrue(out.toString().contains("2 revocations in 1 rounds, each checked refused on every memory node"), out.toString());
        assertTrue(out.toString().contains("revoke -> fenced on every memory node"), out.toString());
    }

    @Test
    void badOptionsExitTwo() {
        assertEquals(2, run(new StringWriter(), new StringWriter(), "protection"));
        assertEquals(2, run(new StringWriter(), new StringWriter(), "protection", "illegal-access", "--trials", "0"));
        assertEquals(2, run(new StringWriter(), new StringWriter(), "protection", "revocation", "--trials", "15"));
        assertEquals(2, run(new StringWriter(), new StringWriter(), "protection", "revocation", "--memory-nodes", "0"));
    }
}
