package io.dmtree.workloads.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad options give a usage error (exit 2, message and usage on stderr, no stack trace). */
class CliUsageTest {
    static Stream<Arguments> badOptions() {
        return Stream.of(
                Arguments.of("unknown workload 'Z'", new String[]{"ycsb", "--workload", "Z"}),
                Arguments.of("--records must be in", new String[]{"ycsb", "--records", "0"}),
                Arguments.of("--records must be in", new String[]{"ycsb", "--records", "-5"}),
                Arguments.of("--operations must be in", new String[]{"ycsb", "--operations", "0"}),
                Arguments.of("--operations must be in", new String[]{"ycsb", "-n", "-1"}),
                Arguments.of("--threads must be in", new String[]{"ycsb", "--threads", "0"}),
                Arguments.of("--cns must be in", new String[]{"ycsb", "--cns", "0"}),
                Arguments.of("--mns must be in", new String[]{"ycsb", "--mns", "65"}),
                Arguments.of("--slices must be in", new String[]{"ycsb", "--slices", "0"}),
                Arguments.of("--key-size must be in", new String[]{"ycsb", "--key-size", "0"}),
                Arguments.of("--key-size must be in", new String[]{"ycsb", "--key-size", "65"}),
                Arguments.of("--value-size must be in", new String[]{"ycsb", "--value-size", "0"}),
                Arguments.of("--value-size must be in", new String[]{"ycsb", "--value-size", "257"}),
                Arguments.of("unknown lock design 'no-such-lock'", new String[]{"ycsb", "--lock", "no-such-lock"}),
                Arguments.of("unknown peer 'rocksdb'", new String[]{"ycsb", "--peers", "csl,rocksdb"}),
                Arguments.of("unknown distribution 'zipf'", new String[]{"ycsb", "--distribution", "zipf"}),
                Arguments.of("does not fit into 1-byte keys", new String[]{"ycsb", "--records", "300", "--key-size", "1"}),
                Arguments.of("do not fit into 1-byte keys",
                        new String[]{"ycsb", "-w", "D", "--records", "250", "-n", "1000", "--key-size", "1", "--no-dmtree"}),
                Arguments.of("Invalid value for option '--records'", new String[]{"ycsb", "--records", "many"}),
                Arguments.of("Unknown option: '--bogus'", new String[]{"ycsb", "--bogus"}),
                Arguments.of("Unmatched argument", new String[]{"frobnicate"}),
                Arguments.of("missing subcommand", new String[]{}),
                Arguments.of("--records must be in", new String[]{"check", "--records", "0"}),
                Arguments.of("--operations must be in", new String[]{"check", "--operations", "-3"}),
                Arguments.of("--deletes must be in", new String[]{"check", "--deletes", "101"}),
                Arguments.of("--key-size must be in", new String[]{"check", "--key-size", "99"}),
                Arguments.of("unknown lock design 'x'", new String[]{"check", "--lock", "x"}),
                Arguments.of("does not fit into 2-byte keys", new String[]{"check", "--records", "70000", "--key-size", "2"}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badOptions")
    void badOptionsAreUsageErrors(String message, String[] args) {
        CliRun run = CliRun.of(args);
        assertEquals(DmtreeCli.EXIT_USAGE, run.exitCode(), run.err());
        assertTrue(run.err().contains(message), "stderr should say '" + message + "':\n" + run.err());
        assertTrue(run.err().contains("Usage:"), "stderr should show the usage:\n" + run.err());
        assertFalse(run.err().contains("\tat "), "no stack trace:\n" + run.err());
        assertEquals("", run.out());
    }

    @Test
    void helpExitsZero() {
        CliRun run = CliRun.of("ycsb", "--help");
        assertEquals(0, run.exitCode());
        assertTrue(run.out().contains("--workload"));
        assertTrue(run.out().contains("--lock"));
        assertTrue(CliRun.of("--help").out().contains("check"));
    }

    @Test
    void aFailureWhileRunningIsOneLineAndExitOne(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");
        CliRun run = CliRun.of("ycsb", "--no-dmtree", "--peers", "csl", "-r", "100", "-n", "100",
                "--json", notADirectory.resolve("out.json").toString());
        assertEquals(DmtreeCli.EXIT_FAILED, run.exitCode(), run.err());
        String[] lines = run.err().strip().split("\n");
        assertEquals(1, lines.length, run.err());
        assertTrue(lines[0].startsWith("dmtree ycsb: error: "), lines[0]);
        assertFalse(run.err().contains("\tat "));
    }
}
