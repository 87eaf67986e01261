package io.dmtree.cn.e2e;

import io.dmtree.mn.MemoryNodeCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end with real JVM processes, for shm and tcp: one memory-node process ({@code dmtree mn})
 * and two compute-node processes doing mixed operations on overlapping keys and incrementing a
 * counter protected by a {@code modular} lock (grants cross processes) (see {@link EndToEndComputeNode}); a compute node killed with SIGKILL
 * while it holds no lock, under two working ones; a memory node killed with SIGKILL under a running
 * compute node; SIGTERM leaving no file behind. Every process is bounded in time
 * and destroyed at the end.
 */
class MultiProcessClusterTest {
    /** The lock design of the mixed runs: the modular lock, whose grants cross processes as CN messages. */
    private static final String LOCK = "modular";

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    private static String classpath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    private Process java(String main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath()));
        if (!main.equals(MemoryNodeCommand.class.getName())) { // compute nodes prove the secret memory node 0 wrote
            cmd.add("-Ddmtree.e2e.secret=" + dir.resolve("dmtree-cluster.secret"));
        }
        cmd.add(main);
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(p);
        return p;
    }

    /** Reads lines until one contains {@code marker}; returns it. */
    private static String awaitLine(Process p, BufferedReader out, String marker, StringBuilder log) throws Exception {
        return awaitLine(out, marker, log, 60);
    }

    /** Reads lines until one contains {@code marker}, for at most {@code seconds}; returns it. */
    private static String awaitLine(BufferedReader out, String marker, StringBuilder log, int seconds) throws Exception {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                String l;
                while ((l = out.readLine()) != null) {
                    log.append(l).append('\n');
                    if (l.contains(marker)) {
                        return l;
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        });
        String l = line.get(seconds, TimeUnit.SECONDS);
        if (l == null) {
            throw new AssertionError("process ended without '" + marker + "':\n" + log);
        }
        return l;
    }

    private static String address(String readyLine) {
        for (String part : readyLine.split(" ")) {
            if (part.startsWith("address=")) {
                return part.substring("address=".length());
            }
        }
        throw new AssertionError("no address in " + readyLine);
    }

    private void destroyAll() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"shm", "tcp"})
    void twoComputeNodeProcessesSeeEachOthersWritesAndKeepALockedCounterExact(String transport) throws Exception {
        try {
            Process mn = java(MemoryNodeCommand.class.getName(), "--id", "0", "--listen", "127.0.0.1:0", "--memory", "64M",
                    "--chunk", "1M", "--lock-table", "64K", "--transport", transport, "--dir", dir.toString());
            BufferedReader mnOut = new BufferedReader(new InputStreamReader(mn.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder mnLog = new StringBuilder();
            String address = address(awaitLine(mn, mnOut, " ready", mnLog));
            int ops = Integer.getInteger("dmtree.e2e.ops", 1500);
            List<Process> cns = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                cns.add(java(EndToEndComputeNode.class.getName(), "mixed", address, "2", String.valueOf(ops), "200", "50",
                        String.valueOf(1234 + i), LOCK));
            }
            for (Process cn : cns) {
                assertTrue(cn.waitFor(240, TimeUnit.SECONDS), "compute node did not finish in time");
                String out = new String(cn.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertEquals(0, cn.exitValue(), out);
                assertTrue(out.contains("E2E OK"), out);
                System.out.print(out);
            }
            mn.destroy(); // SIGTERM
            assertTrue(mn.waitFor(30, TimeUnit.SECONDS));
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(), files.toList(), "SIGTERM removes every file");
            }
        } finally {
            destroyAll();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"shm", "tcp"})
    void aComputeNodeKilledWhileHoldingNoLockDoesNotDisturbTheOthers(String transport) throws Exception {
        try {
            Process mn = java(MemoryNodeCommand.class.getName(), "--id", "0", "--listen", "127.0.0.1:0", "--memory", "64M",
                    "--chunk", "1M", "--lock-table", "64K", "--transport", transport, "--dir", dir.toString());
            BufferedReader mnOut = new BufferedReader(new InputStreamReader(mn.getInputStream(), StandardCharsets.UTF_8));
            String address = address(awaitLine(mn, mnOut, " ready", new StringBuilder()));
            int victimKeys = 500;
            Process victim = java(EndToEndComputeNode.class.getName(), "victim", address, String.valueOf(victimKeys), LOCK);
            BufferedReader victimOut = new BufferedReader(new InputStreamReader(victim.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder victimLog = new StringBuilder();
            awaitLine(victim, victimOut, "VICTIM-READING", victimLog); // its writes are acknowledged; from now on it only reads
            int ops = Integer.getInteger("dmtree.e2e.ops", 1500);
            List<BufferedReader> outs = new ArrayList<>();
            List<StringBuilder> logs = new ArrayList<>();
            List<Process> workers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Process cn = java(EndToEndComputeNode.class.getName(), "mixed", address, "2", String.valueOf(ops), "200", "50",
                        String.valueOf(4321 + i), LOCK);
                workers.add(cn);
                outs.add(new BufferedReader(new InputStreamReader(cn.getInputStream(), StandardCharsets.UTF_8)));
                logs.add(new StringBuilder());
            }
            for (int i = 0; i < 2; i++) {
                awaitLine(outs.get(i), "E2E STARTED", logs.get(i), 120); // past the start barrier, working
            }
            Thread.sleep(100);
            assertTrue(victim.isAlive(), "the victim still reads:\n" + victimLog);
            victim.destroyForcibly(); // SIGKILL in the middle of a read: no goodbye
            assertTrue(victim.waitFor(30, TimeUnit.SECONDS));
            for (int i = 0; i < 2; i++) {
                String ok = awaitLine(outs.get(i), "E2E OK", logs.get(i), 240); // or the process ended: the log says why
                System.out.println(logs.get(i).toString().strip());
                assertTrue(ok.contains("E2E OK"), logs.get(i).toString());
                assertTrue(workers.get(i).waitFor(30, TimeUnit.SECONDS));
                assertEquals(0, workers.get(i).exitValue(), logs.get(i).toString());
            }
            Process verify = java(EndToEndComputeNode.class.getName(), "verify", address, String.valueOf(victimKeys), LOCK);
            assertTrue(verify.waitFor(120, TimeUnit.SECONDS), "verifier did not finish in time");
            String out = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, verify.exitValue(), out);
            assertTrue(out.contains("VERIFY OK"), out);
            System.out.print(out);
            mn.destroy();
            assertTrue(mn.waitFor(30, TimeUnit.SECONDS));
        } finally {
            destroyAll();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"shm", "tcp"})
    void aKilledMemoryNodeMakesTheComputeNodeFailWithAClearErrorNotHang(String transport) throws Exception {
        try {
            Process mn = java(MemoryNodeCommand.class.getName(), "--id", "0", "--listen", "127.0.0.1:0", "--memory", "16M",
                    "--chunk", "1M", "--lock-table", "64K", "--transport", transport, "--dir", dir.toString());
            BufferedReader mnOut = new BufferedReader(new InputStreamReader(mn.getInputStream(), StandardCharsets.UTF_8));
            String address = address(awaitLine(mn, mnOut, " ready", new StringBuilder()));
            Process cn = java(EndToEndComputeNode.class.getName(), "faa", address);
            BufferedReader cnOut = new BufferedReader(new InputStreamReader(cn.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder log = new StringBuilder();
            awaitLine(cn, cnOut, "READY-LOOP", log);
            Thread.sleep(300);
            mn.destroyForcibly(); // SIGKILL: no goodbye, the kernel closes its sockets
            String failed = awaitLine(cn, cnOut, "FAILED-CLEANLY", log);
            assertTrue(failed.contains("memory node 0"), failed);
            assertTrue(cn.waitFor(30, TimeUnit.SECONDS));
            assertEquals(3, cn.exitValue(), log.toString());
        } finally {
            destroyAll();
        }
    }

    @Test
    void aSecondMemoryNodeWithTheSameIdIsRefused() throws Exception {
        try {
            Process mn = java(MemoryNodeCommand.class.getName(), "--id", "0", "--listen", "127.0.0.1:0", "--memory", "16M",
                    "--chunk", "1M", "--lock-table", "64K", "--transport", "shm", "--dir", dir.toString());
            BufferedReader mnOut = new BufferedReader(new InputStreamReader(mn.getInputStream(), StandardCharsets.UTF_8));
            awaitLine(mn, mnOut, " ready", new StringBuilder());
            Process second = java(MemoryNodeCommand.class.getName(), "--id", "0", "--listen", "127.0.0.1:0", "--memory", "16M",
                    "--chunk", "1M", "--lock-table", "64K", "--transport", "shm", "--dir", dir.toString());
            assertTrue(second.waitFor(60, TimeUnit.SECONDS));
            String out = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(1, second.exitValue(), out);
            assertTrue(out.contains("memory node 0 is already running"), out);
            assertTrue(new File(dir.toFile(), "dmtree-mn0.region").exists(), "the first memory node's file is untouched");
            mn.destroy();
            assertTrue(mn.waitFor(30, TimeUnit.SECONDS));
        } finally {
            destroyAll();
        }
    }
}
