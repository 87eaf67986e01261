package io.dmtree.lock;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Exhaustive model checking of the {@code modular} protocol with spin (model:
 * {@code lock/src/test/spin/modular_lock.pml}), without and with a compute node that stops at any
 * point of its protocol followed by the recovery. Each case generates the verifier with
 * {@code spin -a}, compiles it with gcc and runs the full state-space search; a case passes only if
 * the search completes with no error. Needs the Debian package {@code spin} and gcc.
 */
class ModularLockModelCheckTest {
    static final Path MODEL = Path.of("src/test/spin/modular_lock.pml");
    static final long TIMEOUT_SECONDS = Long.getLong("dmtree.spin.timeoutSeconds", 900);
    static final String MEMORY_MB = System.getProperty("dmtree.spin.memoryMb", "5000");

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

    /** Builds and runs the verifier; {@code liveness} checks the LTL property under weak fairness. */
    static Outcome verify(String defines, boolean liveness) throws Exception {
        return verify(MODEL, defines, liveness);
    }

    /** As {@link #verify(String, boolean)} for the model at {@code model} (its LTL property is {@code all_granted}). */
    static Outcome verify(Path model, String defines, boolean liveness) throws Exception {
        Path dir = Files.createTempDirectory("lock-spin");
        String file = model.getFileName().toString();
        try {
            return verifyIn(dir, model, file, defines, liveness);
        } finally {
            deleteTree(dir);
        }
    }

    private static Outcome verifyIn(Path dir, Path model, String file, String defines, boolean liveness) throws Exception {
        Files.copy(model, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        List<String> spin = new ArrayList<>(List.of("spin", "-a"));
        if (!defines.isBlank()) {
            spin.addAll(Arrays.asList(defines.trim().split("\\s+")));
        }
        spin.add(file);
        run(dir, spin);
        List<String> cc = new ArrayList<>(List.of("gcc", "-O2", "-DCOLLAPSE", "-DVECTORSZ=4096", "-DMEMLIM=" + MEMORY_MB));
        cc.add(liveness ? "-DNFAIR=3" : "-DNOCLAIM");
        cc.addAll(List.of("-o", "pan", "pan.c"));
        run(dir, cc);
        List<String> pan = new ArrayList<>(List.of("./pan", "-m10000000", "-w24"));
        if (liveness) {
            pan.addAll(List.of("-a", "-f", "-N", "all_granted"));
        }
        String out = run(dir, pan);
        int errors = -1;
        for (String line : out.split("\n")) {
            int i = line.indexOf("errors: ");
            if (i >= 0) {
                errors = Integer.parseInt(line.substring(i + 8).trim().split("\\s")[0]);
            }
        }
        boolean complete = !out.contains("Search not completed") && !out.contains("reached -DMEMLIM bound")
                && !out.contains("max search depth too small");
        System.out.println("spin " + file + " " + defines + (liveness ? " [liveness]" : " [safety]") + ": errors=" + errors
                + ", " + firstLine(out, "states, stored"));
        return new Outcome(errors, complete, out);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
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

    /** Mutual exclusion, shared/exclusive compatibility (assertions) and no deadlock (end states). */
    @ParameterizedTest(name = "safety {0}")
    @CsvSource({
            "-DNCN=2 -DNT=1",
            "-DNCN=2 -DNT=1 -DNL=2",
            "-DNCN=2 -DNT=2 -DONE_REMOTE",
            "-DNCN=3 -DNT=1 -DQ=4 -DITER=1",
    })
    void safety(String defines) throws Exception {
        Outcome o = verify(defines, false);
        assertTrue(o.complete(), "search incomplete for " + defines + ":\n" + o.output());
        assertEquals(0, o.errors(), "spin found an error for " + defines + ":\n" + o.output());
    }

    /** Every waiter is eventually granted: LTL {@code <> finished == NTH} under weak fairness. */
    @ParameterizedTest(name = "liveness {0}")
    @CsvSource({
            "-DNCN=2 -DNT=1",
            "-DNCN=2 -DNT=1 -DNL=2",
            "-DNCN=2 -DNT=2 -DONE_REMOTE -DITER=1",
    })
    void liveness(String defines) throws Exception {
        Outcome o = verify(defines, true);
        assertTrue(o.complete(), "search incomplete for " + defines + ":\n" + o.output());
        assertEquals(0, o.errors(), "spin found a liveness violation for " + defines + ":\n" + o.output());
    }

    /**
     * The last compute node stops at any point (between any two steps, also inside a batch) and
     * a live member runs the recovery: mutual exclusion and compatibility among the threads that
     * still run, and no deadlock. Configurations: one victim thread over two rounds in both modes
     * (it stops holding, waiting, releasing); a victim holding with a second thread queued behind
     * it; three compute nodes, the victim waiting behind a live holder and a live waiter.
     */
    @ParameterizedTest(name = "crash safety {0}")
    @CsvSource({
            "-DNCN=2 -DNT=1 -DCRASH",
            "-DNCN=2 -DNT=1 -DVNT=2 -DITER=1 -DCRASH -DEX_ONLY -DCRASH_HOLDING_WITH_WAITER",
            "-DNCN=3 -DNT=1 -DQ=4 -DITER=1 -DCRASH -DEX_ONLY -DCRASH_BEHIND_WAITER",
    })
    void crashSafety(String defines) throws Exception {
        Outcome o = verify(defines, false);
        assertTrue(o.complete(), "search incomplete for " + defines + ":\n" + o.output());
        assertEquals(0, o.errors(), "spin found an error for " + defines + ":\n" + o.output());
    }

    /** After the stop and the recovery, every live thread is eventually granted (weak fairness). */
    @Test
    void crashLiveness() throws Exception {
        String defines = "-DNCN=2 -DNT=1 -DCRASH -DITER=1";
        Outcome o = verify(defines, true);
        assertTrue(o.complete(), "search incomplete for " + defines + ":\n" + o.output());
        assertEquals(0, o.errors(), "spin found a liveness violation for " + defines + ":\n" + o.output());
    }

    /**
     * Seeded recovery bug: recovery releases the stopped node's request at once instead of waiting
     * until it holds; with that node queued behind a live holder and a live waiter, the waiter gets
     * in beside the holder.
     */
    @Test
    void releasingADepartedWaiterEarlyIsCaught() throws Exception {
        Outcome o = verify("-DNCN=3 -DNT=1 -DQ=4 -DITER=1 -DCRASH -DEX_ONLY -DCRASH_BEHIND_WAITER -DRECOVERY_BUG", false);
        assertTrue(o.errors() > 0, "spin did not catch the early release:\n" + o.output());
        assertTrue(o.output().contains("assertion violated"), o.output());
    }

    /**
     * Seeded bug: a releaser waits for ever for the entry of a waiter that stopped between its FAA
     * and its WRITE (no give-up once its owner departed): that releaser never finishes.
     */
    @Test
    void waitingForADepartedEntryForeverIsCaught() throws Exception {
        Outcome o = verify("-DNCN=2 -DNT=1 -DCRASH -DITER=1 -DNO_GIVE_UP", true);
        assertTrue(o.errors() > 0, "spin did not catch the endless wait:\n" + o.output());
        assertTrue(o.output().contains("acceptance cycle"), o.output());
    }

    /** The checker catches the seeded bug: the last holder no longer compares the grant counts. */
    @Test
    void removingGrantCountingIsCaught() throws Exception {
        Outcome o = verify("-DNCN=2 -DNT=2 -DONE_REMOTE -DNO_GRANT_COUNT", false);
        assertTrue(o.errors() > 0, "spin did not catch the model without grant counting:\n" + o.output());
        assertTrue(o.output().contains("assertion violated"), o.output());
    }

    /** Shared holders do overlap: asserting that they never do is refuted by the checker. */
    @Test
    void sharedHoldersOverlap() throws Exception {
        Outcome o = verify("-DNCN=2 -DNT=1 -DSHARED_PROBE", false);
        assertTrue(o.errors() > 0, "no execution with two shared holders at once:\n" + o.output());
        assertTrue(o.output().contains("inS[l]<2"), o.output());
    }
}
