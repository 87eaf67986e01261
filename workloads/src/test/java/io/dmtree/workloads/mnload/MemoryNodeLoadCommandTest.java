package io.dmtree.workloads.mnload;

import io.dmtree.workloads.cli.DmtreeCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dmtree mnload --short} runs a real memory node process and prints every phase with every
 * column, and the goal line; bad options are usage errors. Checks fields, never figures.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MemoryNodeLoadCommandTest {
    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = DmtreeCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void theShortModePrintsEveryPhaseAndColumn() {
        Run r = run("mnload", "--short");
        assertEquals(0, r.code(), r.out() + r.err());
        String out = r.out();
        assertTrue(out.contains("dmtree mnload: memory node pid "), out);
        assertTrue(Pattern.compile("phase\\s+connections\\s+open\\s+pushed MiB\\s+RSS MiB\\s+above idle MiB\\s+threads").matcher(out)
                .find(), out);
        for (String phase : new String[] {"idle", "idle-connections", "max-frame-before-hello", "max-frame-after-hello"}) {
            assertTrue(Pattern.compile("(?m)^" + phase + "\\s+\\d+\\s+\\d+\\s+[\\d.]+\\s+[\\d.]+\\s+-?[\\d.]+\\s+\\d+$").matcher(out).find(),
                    "a row for " + phase + " in:\n" + out);
        }
        assertTrue(Pattern.compile("goal: under 200 MiB above idle in every phase: (met|NOT met)").matcher(out).find(), out);
    }

    @Test
    void badOptionsAreUsageErrors() {
        Run r = run("mnload", "--max-frame", "1K");
        assertEquals(DmtreeCli.EXIT_USAGE, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--max-frame"), r.err());
        r = run("mnload", "--connections", "0");
        assertEquals(DmtreeCli.EXIT_USAGE, r.code(), r.out() + r.err());
    }
}
