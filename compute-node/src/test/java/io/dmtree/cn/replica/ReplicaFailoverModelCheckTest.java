package io.dmtree.cn.replica;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Exhaustive model checking of synchronous mirroring and primary failover with spin (model:
 * {@code compute-node/src/test/spin/replica_failover.pml}): writers under a lock decided on the
 * primary, writes posted to every replica together, a primary that crashes or pauses at any
 * point, failover with an epoch gate. Each case generates the verifier with {@code spin -a},
 * compiles it with gcc and runs the full safety search; the protocol passes only if the search
 * completes with no error, and each seeded bug must be caught. Needs the Debian packages
 * {@code spin} and gcc.
 */
class ReplicaFailoverModelCheckTest {
    static final Path MODEL = Path.of("src/test/spin/replica_failover.pml");
    static final long TIMEOUT_SECONDS = Long.getLong("dmtree.spin.timeoutSeconds", 900);
    static final String MEMORY_MB = System.getProperty("dmtree.spin.memoryMb", "3000");

    @BeforeAll
    static void toolsPresent() {
        assertTrue(onPath("spin"), "the spin model checker is not installed: install the Debian package 'spin'"
                + " (apt-get install -y spin); this test runs it on " + MODEL);
        assertTrue(onPath("gcc"), "gcc is not installed: spin's verifiers are C programs (apt-get install -y gcc)");
        assertTrue(Files.isRegularFile(MODEL), "model not found at " + MODEL.toAbsolutePath());
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    record Outcome(int errors, boolean complete, String output) {
    }

    static Outcome verify(String defines) throws Exception {
        Path dir = Files.createTempDirectory("replica-failover-spin");
        try {
            Files.copy(MODEL, dir.resolve("replica_failover.pml"), StandardCopyOption.REPLACE_EXISTING);
            List<String> spin = new ArrayList<>(List.of("spin", "-a"));
            if (!defines.isBlank()) {
                spin.addAll(Arrays.asList(defines.trim().split("\\s+")));
            }
            spin.add("replica_failover.pml");
            run(dir, spin);
            run(dir, List.of("gcc", "-O2", "-DCOLLAPSE", "-DNOCLAIM", "-DMEMLIM=" + MEMORY_MB, "-o", "pan", "pan.c"));
            String out = run(dir, List.of("./pan", "-m10000000", "-w24"));
            int errors = -1;
            for (String line : out.split("\n")) {
                int i = line.indexOf("errors: ");
                if (i >= 0) {
                    errors = Integer.parseInt(line.substring(i + 8).trim().split("\\s")[0]);
                }
            }
            boolean complete = !out.contains("Search not completed") && !out.contains("reached -DMEMLIM bound")
                    && !out.contains("max search depth too small");
            System.out.println("spin " + defines + ": errors=" + errors + ", " + firstLine(out, "states, stored"));
            return new Outcome(errors, complete, out);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static String firstLine(String out, String needle) {
        for (String line : out.split("\n")) {
            if (line.contains(needle)) {
                return line.trim();
            }
        }
        return "";
    }

    private static String run(Path dir, List<String> command) throws IOException, InterruptedException {
        Path log = dir.resolve("out-" + command.get(0).replace("./", "") + ".txt");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish in " + TIMEOUT_SECONDS + " s");
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        if (p.exitValue() != 0 && !command.get(0).equals("./pan")) {
            fail(String.join(" ", command) + " failed (exit " + p.exitValue() + "):\n" + out);
        }
        return out;
    }

    /** No acknowledged write lost, no stale read, every surviving replica current, no deadlock. */
    @ParameterizedTest(name = "safety {0}")
    @ValueSource(strings = {"-DNR=2", "-DNR=3"})
    void failoverIsSafe(String defines) throws Exception {
        Outcome o = verify(defines);
        assertTrue(o.complete(), "search incomplete for " + defines + ":\n" + o.output());
        assertEquals(0, o.errors(), "spin found an error for " + defines + ":\n" + o.output());
    }

    /** Seeded bug: promotion without raising the epoch gates lets a late write of the old epoch land. */
    @Test
    void promotionWithoutEpochGateIsCaught() throws Exception {
        Outcome o = verify("-DNR=2 -DNO_GATE");
        assertTrue(o.errors() > 0, "spin did not catch the missing epoch gate:\n" + o.output());
        assertTrue(o.output().contains("assertion violated"), o.output());
    }

    /** Seeded bug: a deposed primary's late answers are taken: a read misses an acknowledged write. */
    @Test
    void deposedPrimaryAnsweringIsCaught() throws Exception {
        Outcome o = verify("-DNR=2 -DSERVE_AFTER_LAPSE");
        assertTrue(o.errors() > 0, "spin did not catch the deposed primary's answer:\n" + o.output());
        assertTrue(o.output().contains("assertion violated (val[p]>=a)"), o.output());
    }

    /** Seeded bug: releasing with the writes lets the next holder's mirror write overtake this one. */
    @Test
    void releaseBeforeTheMirrorsHaveTheWriteIsCaught() throws Exception {
        Outcome o = verify("-DNR=2 -DRELEASE_WITH_WRITES");
        assertTrue(o.errors() > 0, "spin did not catch the early release:\n" + o.output());
        assertTrue(o.output().contains("assertion violated (val[r]>=acked)"), o.output());
    }
}
