package io.dmtree.workloads.cn;

import io.dmtree.mn.MemoryNodeCommand;
import io.dmtree.workloads.cli.DmtreeCli;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No silent waits, with real processes on one memory-node process: SIGTERM ends {@code dmtree cn}
 * at a barrier, mid-run and serving within seconds, and it leaves the cluster (its id is free
 * again); a compute node whose options do not fit (widths, {@code --cns}) makes the partner waiting
 * at the start barrier stop at once naming it and why; a memory node killed under a running compute
 * node whose workers hold and queue on locks ends that process with one clear line within a bound;
 * a serving compute node rejoins a memory node restarted at the same address and serves again.
 * Times are printed, not asserted tightly: the failure line is a generous bound. Every process
 * is bounded in time and destroyed by its handle at the end.
 */
class NoSilentWaitsProcessTest {
    /** Failure line for "ends within a second or two". */
    private static final int PROMPT_SECONDS = 10;

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void destroyAll() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private Process java(String main, String... args) throws IOException {
        String cp = System.getProperty("surefire.test.class.path");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
                cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path"), main));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(p);
        return p;
    }

    private Process cn(String... args) throws IOException {
        String[] all = new String[args.length + 1];
        all[0] = "cn";
        System.arraycopy(args, 0, all, 1, args.length);
        return java(DmtreeCli.class.getName(), all);
    }

    /** A process and everything it printed so far. */
    private static final class Watched {
        final Process process;
        final BufferedReader out;
        final StringBuilder log = new StringBuilder();

        Watched(Process process) {
            this.process = process;
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        /** Reads lines until one contains {@code marker}, for at most {@code seconds}; returns it. */
        String awaitLine(String marker, int seconds) throws Exception {
            CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
                try {
                    String l;
                    while ((l = out.readLine()) != null) {
                        synchronized (log) {
                            log.append(l).append('\n');
                        }
                        if (l.contains(marker)) {
                            return l;
                        }
                    }
                    return null;
                } catch (IOException e) {
                    return null;
                }
            });
            String l;
            try {
                l = line.get(seconds, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                line.cancel(true);
                throw new AssertionError("no '" + marker + "' within " + seconds + " s:\n" + log());
            }
            if (l == null) {
                throw new AssertionError("process ended without '" + marker + "':\n" + log());
            }
            return l;
        }

        /** Waits for the end, at most {@code seconds}; returns the seconds it took and keeps the rest of the output. */
        double awaitExit(int seconds) throws Exception {
            long t0 = System.nanoTime();
            CompletableFuture<String> rest = CompletableFuture.supplyAsync(() -> {
                try {
                    StringBuilder b = new StringBuilder();
                    String l;
                    while ((l = out.readLine()) != null) {
                        b.append(l).append('\n');
                    }
                    return b.toString();
                } catch (IOException e) {
                    return "";
                }
            });
            boolean ended = process.waitFor(seconds, TimeUnit.SECONDS);
            double took = (System.nanoTime() - t0) / 1e9;
            if (ended) {
                String r = rest.get(10, TimeUnit.SECONDS);
                synchronized (log) {
                    log.append(r);
                }
            }
            assertTrue(ended, "did not end within " + seconds + " s:\n" + log());
            return took;
        }

        String log() {
            synchronized (log) {
                return log.toString();
            }
        }

        PrintWriter in() {
            return new PrintWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
        }
    }

    private static String address(String readyLine) {
        for (String part : readyLine.split(" ")) {
            if (part.startsWith("address=")) {
                return part.substring("address=".length());
            }
        }
        throw new AssertionError("no address in " + readyLine);
    }

    private Watched memoryNode(String transport, String listen) throws Exception {
        Watched mn = new Watched(java(MemoryNodeCommand.class.getName(), "--id", "0", "--listen", listen, "--memory", "64M",
                "--chunk", "1M", "--lock-table", "64K", "--transport", transport, "--dir", dir.toString(),
                "--secret", "none")); // these waits are not about authentication
        mn.awaitLine(" ready", 60);
        return mn;
    }

    private static int idIn(String line, String regex) {
        Matcher m = Pattern.compile(regex).matcher(line);
        assertTrue(m.find(), "no compute node id in: " + line);
        return Integer.parseInt(m.group(1));
    }

    /** Sends SIGTERM and returns how long the process took to end. */
    private static double sigterm(Watched p) throws Exception {
        long t0 = System.nanoTime();
        p.process.destroy();
        p.awaitExit(PROMPT_SECONDS);
        return (System.nanoTime() - t0) / 1e9;
    }

    /** A compute node with {@code id} can join: the one that had it left. */
    private void idIsFree(String address, int id) throws Exception {
        Watched s = new Watched(cn("--mn", address, "--serve", "--id", String.valueOf(id)));
        s.awaitLine("serving", 60);
        s.in().println("quit");
        s.awaitExit(30);
        assertEquals(0, s.process.exitValue(), s.log());
    }

    @Test
    void sigtermEndsAComputeNodeAtABarrierMidRunAndServingAndItLeaves() throws Exception {
        Watched mn = memoryNode("tcp", "127.0.0.1:0");
        String address = address(mn.log().lines().filter(l -> l.contains(" ready")).findFirst().orElseThrow());

        Watched atBarrier = new Watched(cn("--mn", address, "--cns", "2", "-w", "A", "-r", "500", "-n", "500", "-t", "1"));
        int id = idIn(atBarrier.awaitLine("waiting for 2 compute node(s)", 60), "cn (\\d+): waiting");
        Thread.sleep(1_500); // well inside a barrier call
        double barrierSeconds = sigterm(atBarrier);
        idIsFree(address, id);

        Watched midRun = new Watched(cn("--mn", address, "--cns", "1", "-w", "C", "-r", "2000", "-n", "3000000", "-t", "2",
                "--run", "mid"));
        int midId = idIn(midRun.awaitLine(": running", 120), "cn (\\d+): running");
        Thread.sleep(1_000);
        assertTrue(midRun.process.isAlive(), "still running its operations:\n" + midRun.log());
        double midRunSeconds = sigterm(midRun);
        assertFalse(midRun.log().contains("Exception"), midRun.log());
        idIsFree(address, midId);

        Watched serving = new Watched(cn("--mn", address, "--serve"));
        int serveId = idIn(serving.awaitLine("serving", 60), "cn (\\d+) serving");
        double serveSeconds = sigterm(serving);
        idIsFree(address, serveId);

        System.out.printf(Locale.ROOT, "SIGTERM to exit: at the start barrier %.2f s, mid-run %.2f s, serving %.2f s"
                + " (failure line %d s)%n", barrierSeconds, midRunSeconds, serveSeconds, PROMPT_SECONDS);
        mn.process.destroy();
        mn.awaitExit(30);
    }

    @Test
    void aComputeNodeWhoseOptionsDoNotFitMakesItsWaitingPartnerStopAtOnceNamingIt() throws Exception {
        Watched mn = memoryNode("tcp", "127.0.0.1:0");
        String address = address(mn.log().lines().filter(l -> l.contains(" ready")).findFirst().orElseThrow());

        // widths: the first compute node made an index of 8-byte keys; the second asks for 16
        Watched partner = new Watched(cn("--mn", address, "--cns", "2", "-w", "A", "-r", "500", "-n", "500", "-t", "1"));
        partner.awaitLine("waiting for 2 compute node(s)", 60);
        Watched misfit = new Watched(cn("--mn", address, "--cns", "2", "-w", "A", "-r", "500", "-n", "500", "-t", "1",
                "--key-size", "16"));
        int misfitId = idIn(misfit.awaitLine("failed; told the other compute nodes", 60), "cn (\\d+): failed");
        misfit.awaitExit(30);
        assertEquals(1, misfit.process.exitValue(), misfit.log());
        double widthSeconds = partner.awaitExit(PROMPT_SECONDS);
        assertEquals(1, partner.process.exitValue(), partner.log());
        String line = partner.log().lines().filter(l -> l.startsWith("dmtree cn: error: ")).findFirst().orElse(partner.log());
        assertTrue(line.contains("compute node " + misfitId + " cannot take part in run 'ycsb'"), line);
        assertTrue(line.contains("asks for 16"), line);

        // --cns: the partner waits for 2, the misfit was started with 3
        Watched partner2 = new Watched(cn("--mn", address, "--cns", "2", "-w", "A", "-r", "500", "-n", "500", "-t", "1",
                "--run", "second"));
        partner2.awaitLine("waiting for 2 compute node(s)", 60);
        Watched misfit2 = new Watched(cn("--mn", address, "--cns", "3", "-w", "A", "-r", "500", "-n", "500", "-t", "1",
                "--run", "second"));
        int misfit2Id = idIn(misfit2.awaitLine("failed; told the other compute nodes", 60), "cn (\\d+): failed");
        misfit2.awaitExit(30);
        double countSeconds = partner2.awaitExit(PROMPT_SECONDS);
        assertEquals(1, partner2.process.exitValue(), partner2.log());
        String line2 = partner2.log().lines().filter(l -> l.startsWith("dmtree cn: error: ")).findFirst()
                .orElse(partner2.log());
        assertTrue(line2.contains("compute node " + misfit2Id + " cannot take part in run 'second'"), line2);
        assertTrue(line2.contains("a run of 3 compute nodes"), line2);
        System.out.printf(Locale.ROOT, "the waiting partner stopped %.2f s (widths) and %.2f s (--cns) after it was told"
                + " (the barrier would have waited 1800 s)%n", widthSeconds, countSeconds);
        mn.process.destroy();
        mn.awaitExit(30);
    }

    @ParameterizedTest(name = "{0} carrier, lock {1}")
    @CsvSource({"shm, modular", "shm, alock", "shm, hocl"})
    void aMemoryNodeKilledUnderARunningComputeNodeEndsItWithOneClearLine(String transport, String lock) throws Exception {
        Watched mn = memoryNode(transport, "127.0.0.1:0");
        String address = address(mn.log().lines().filter(l -> l.contains(" ready")).findFirst().orElseThrow());
        // four workers on few records: they hold, hand over and queue on the same locks all the time
        Watched run = new Watched(cn("--mn", address, "--cns", "1", "-w", "A", "-r", "2000", "-n", "3000000", "-t", "4",
                "--lock", lock));
        run.awaitLine(": running", 120);
        Thread.sleep(1_500);
        assertTrue(run.process.isAlive(), run.log());
        mn.process.destroyForcibly(); // SIGKILL: its workers' verbs fail while they hold locks
        assertTrue(mn.process.waitFor(30, TimeUnit.SECONDS));
        double seconds = run.awaitExit(60);
        assertEquals(1, run.process.exitValue(), run.log());
        List<String> errors = run.log().lines().filter(l -> l.contains("dmtree cn: error: ")).toList();
        assertEquals(1, errors.size(), run.log());
        assertTrue(errors.get(0).contains("memory node 0"), errors.get(0));
        assertFalse(run.log().contains("\tat "), "no stack trace:\n" + run.log());
        System.out.printf(Locale.ROOT, "%s/%s: the compute node ended %.2f s after its memory node was killed: %s%n", transport,
                lock, seconds, errors.get(0).substring(errors.get(0).indexOf("dmtree cn: error: ")));
    }

    @ParameterizedTest(name = "{0} carrier")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"tcp", "shm"})
    void aServingComputeNodeRejoinsAMemoryNodeRestartedAtTheSameAddress(String transport) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String address = "127.0.0.1:" + port;
        Watched mn = memoryNode(transport, address);
        Watched serving = new Watched(cn("--mn", address, "--serve", "--rejoin-backoff", "100", "--rejoin-attempts", "20"));
        serving.awaitLine("serving", 60);
        PrintWriter in = serving.in();
        in.println("put 7 70");
        assertEquals("ok", serving.awaitLine("ok", 30));
        mn.process.destroyForcibly();
        assertTrue(mn.process.waitFor(30, TimeUnit.SECONDS));
        serving.awaitLine("rejoining the cluster: attempt 1 of 20", 30);
        in.println("get 7");
        assertTrue(serving.awaitLine("error: ", 30).contains("is rejoining it"), serving.log());
        long t0 = System.nanoTime();
        Watched restarted = memoryNode(transport, address);
        String again = serving.awaitLine("serving again", 90);
        System.out.printf(Locale.ROOT, "rejoined %.2f s after the memory node was restarted: %s%n",
                (System.nanoTime() - t0) / 1e9, again);
        assertTrue(again.contains("created an empty one"), again);
        in.println("get 7");
        assertEquals("absent", serving.awaitLine("absent", 30), "a restarted memory node's region is empty");
        in.println("put 8 80");
        serving.awaitLine("ok", 30);
        in.println("get 8");
        assertEquals("80", serving.awaitLine("80", 30));
        in.println("check");
        assertTrue(serving.awaitLine("tree", 30).startsWith("tree ok"), serving.log());
        in.println("quit");
        serving.awaitExit(30);
        assertEquals(0, serving.process.exitValue(), serving.log());
        restarted.process.destroy();
        restarted.awaitExit(30);
    }

    @Test
    void aServingComputeNodeThatCannotRejoinGivesUpWithOneClearLine() throws Exception {
        Watched mn = memoryNode("tcp", "127.0.0.1:0");
        String address = address(mn.log().lines().filter(l -> l.contains(" ready")).findFirst().orElseThrow());
        Watched serving = new Watched(cn("--mn", address, "--serve", "--rejoin-backoff", "50", "--rejoin-backoff-max", "100",
                "--rejoin-attempts", "3"));
        serving.awaitLine("serving", 60);
        mn.process.destroyForcibly();
        assertTrue(mn.process.waitFor(30, TimeUnit.SECONDS));
        double seconds = serving.awaitExit(60);
        assertEquals(1, serving.process.exitValue(), serving.log());
        assertTrue(serving.log().contains("attempt 3 of 3 failed"), serving.log());
        String line = serving.log().lines().filter(l -> l.startsWith("dmtree cn: error: ")).findFirst().orElse(serving.log());
        assertTrue(line.contains("gave up rejoining the cluster after 3 attempts"), line);
        System.out.printf(Locale.ROOT, "gave up %.2f s after the memory node was killed: %s%n", seconds, line);
    }
}
