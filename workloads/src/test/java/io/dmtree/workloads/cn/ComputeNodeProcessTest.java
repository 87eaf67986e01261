package io.dmtree.workloads.cn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dmtree.mn.MemoryNodeCommand;
import io.dmtree.workloads.cli.DmtreeCli;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dmtree cn} with real JVM processes on one memory-node process: two compute nodes share a
 * YCSB run (shm and tcp) and the lowest-numbered prints the aggregate with the columns of
 * {@code dmtree ycsb}; a member killed with SIGKILL during a read-only run phase (so holding no
 * lock) is excused at the results barrier while the others finish, and every loaded record is
 * still in the tree; a {@code --serve} client answers commands and leaves on SIGTERM without a
 * file left behind. Every process is bounded in time and destroyed at the end.
 */
class ComputeNodeProcessTest {
    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void destroyAll() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
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

    /** A compute node that proves the cluster secret memory node 0 wrote into the directory. */
    private Process cn(String... args) throws IOException {
        String[] all = new String[args.length + 3];
        all[0] = "cn";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--secret";
        all[args.length + 2] = dir.resolve("dmtree-cluster.secret").toString();
        return java(DmtreeCli.class.getName(), all);
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

    private static BufferedReader reader(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Starts memory node 0; returns its address. */
    private String memoryNode(String transport) throws Exception {
        Process mn = java(MemoryNodeCommand.class.getName(), "--id", "0", "--listen", "127.0.0.1:0", "--memory", "64M",
                "--chunk", "1M", "--lock-table", "64K", "--transport", transport, "--dir", dir.toString());
        String ready = awaitLine(reader(mn), " ready", new StringBuilder(), 60);
        for (String part : ready.split(" ")) {
            if (part.startsWith("address=")) {
                return part.substring("address=".length());
            }
        }
        throw new AssertionError("no address in " + ready);
    }

    private static String finish(Process p, int seconds) throws Exception {
        CompletableFuture<String> all = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return e.toString();
            }
        });
        assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), "process did not finish in " + seconds + " s");
        return all.get(30, TimeUnit.SECONDS);
    }

    private void stopMemoryNodeAndExpectNoFiles() throws Exception {
        Process mn = processes.get(0);
        mn.destroy(); // SIGTERM
        assertTrue(mn.waitFor(30, TimeUnit.SECONDS));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> !f.toString().endsWith(".json")).toList(), "nothing left behind");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"shm", "tcp"})
    void twoComputeNodeProcessesShareARunAndOnePrintsTheAggregate(String transport) throws Exception {
        String address = memoryNode(transport);
        Path json = dir.resolve("results.json");
        List<Process> cns = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            cns.add(cn("--mn", address, "--cns", "2", "-w", "A", "-r", "3000", "-n", "6000", "-t", "2", "--check",
                    "--json", json.toString()));
        }
        List<String> outs = new ArrayList<>();
        for (Process p : cns) {
            String out = finish(p, 180);
            assertEquals(0, p.exitValue(), out);
            outs.add(out);
        }
        String all = String.join("\n", outs);
        List<String> reports = outs.stream().filter(o -> o.contains("YCSB workload A")).toList();
        assertEquals(1, reports.size(), "exactly one compute node prints the aggregate:\n" + all);
        String report = reports.get(0);
        assertTrue(report.contains("2 compute-node processes x 2 threads (4 in all)"), report);
        assertTrue(report.contains("6,000 operations"), report);
        assertTrue(report.contains("dmtree " + io.dmtree.lock.LockDesigns.defaultName()), report);
        assertTrue(report.contains("p99.9"), report);
        assertTrue(report.contains("round trips"), report);
        assertTrue(report.contains(transport + " carrier"), report);
        assertTrue(report.contains("tree checker: tree ok"), report);
        assertTrue(report.contains("3000 keys"), report);
        assertFalse(all.contains("Exception"), all);
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        JsonNode dmtree = root.get("systems").get(0);
        assertEquals(6000, dmtree.get("operations_by_type").get("READ").asLong() + dmtree.get("operations_by_type").get("UPDATE").asLong());
        assertEquals(4, root.get("threads").asInt());
        assertEquals(2, root.get("compute_node_processes").size());
        long sum = 0;
        for (JsonNode cn : root.get("compute_node_processes")) {
            sum += cn.get("operations").asLong();
        }
        assertEquals(6000, sum);
        assertTrue(dmtree.get("mn").get("verbs_per_op").asDouble() > 0);
        assertEquals(0, root.get("departed").size());
        stopMemoryNodeAndExpectNoFiles();
    }

    @Test
    void aMemberKilledDuringAReadOnlyRunIsExcusedAndTheOthersFinish() throws Exception {
        String address = memoryNode("shm");
        // long enough that the victim is still reading when it is killed right after it started
        int operations = Integer.getInteger("dmtree.e2e.cn.ops", 3_000_000);
        List<Process> cns = new ArrayList<>();
        List<BufferedReader> outs = new ArrayList<>();
        List<StringBuilder> logs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Process p = cn("--mn", address, "--cns", "3", "-w", "C", "-r", "4000", "-n", String.valueOf(operations), "-t", "1",
                    "--check");
            cns.add(p);
            outs.add(reader(p));
            logs.add(new StringBuilder());
        }
        awaitLine(outs.get(2), ": running", logs.get(2), 120); // past the loaded barrier: reads only, no lock
        Process victim = cns.get(2);
        assertTrue(victim.isAlive(), "the victim is still running its share:\n" + logs.get(2));
        victim.destroyForcibly(); // SIGKILL
        assertTrue(victim.waitFor(30, TimeUnit.SECONDS));
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 2; i++) {
            Process p = cns.get(i);
            String rest = finish(p, 240);
            all.append(logs.get(i)).append(rest);
            assertEquals(0, p.exitValue(), logs.get(i) + rest);
        }
        String out = all.toString();
        assertTrue(out.contains("YCSB workload C"), out);
        assertTrue(out.contains("left before reporting"), "the victim was killed before it finished its share:\n" + out);
        assertTrue(out.contains("aggregate of 2 compute nodes"), out);
        assertTrue(out.contains("tree checker: tree ok"), out);
        assertTrue(out.contains(" 4000 keys"), "every loaded record, the victim's share too, is in the tree:\n" + out);
        System.out.print(out);
        String throughput = out.lines().filter(l -> l.startsWith("dmtree " + io.dmtree.lock.LockDesigns.defaultName()) && l.contains(",")).findFirst().orElseThrow();
        String[] columns = throughput.trim().split("\\s+"); // label (2 words), run ops/s, load ops/s, not found, scanned
        assertEquals("0", columns[4], "workload C reads only loaded records: none is missing\n" + out);
        // the killed compute node could not remove its shm inbox; the memory node did when its session ended
        stopMemoryNodeAndExpectNoFiles();
    }

    @Test
    void aServingComputeNodeAnswersCommandsAndLeavesOnSigterm() throws Exception {
        String address = memoryNode("tcp");
        Process serve = cn("--mn", address, "--serve");
        BufferedReader out = reader(serve);
        StringBuilder log = new StringBuilder();
        awaitLine(out, "serving", log, 60);
        PrintWriter in = new PrintWriter(new OutputStreamWriter(serve.getOutputStream(), StandardCharsets.UTF_8), true);
        in.println("put 7 70");
        assertEquals("ok", awaitLine(out, "", log, 30));
        in.println("get 7");
        assertEquals("70", awaitLine(out, "", log, 30));
        in.println("get 8");
        assertEquals("absent", awaitLine(out, "", log, 30));
        in.println("bogus");
        assertTrue(awaitLine(out, "", log, 30).startsWith("error: unknown command"));
        in.close(); // end of input: it stays joined
        Thread.sleep(300);
        assertTrue(serve.isAlive(), "a long-lived client outlives its input:\n" + log);
        // a second client sees the first one's write
        Process other = cn("--mn", address, "--serve");
        BufferedReader otherOut = reader(other);
        awaitLine(otherOut, "serving", new StringBuilder(), 60);
        PrintWriter otherIn = new PrintWriter(new OutputStreamWriter(other.getOutputStream(), StandardCharsets.UTF_8), true);
        otherIn.println("get 7");
        assertEquals("70", awaitLine(otherOut, "", new StringBuilder(), 30));
        otherIn.println("check");
        assertTrue(awaitLine(otherOut, "", new StringBuilder(), 30).startsWith("tree ok"));
        otherIn.println("quit");
        assertTrue(other.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, other.exitValue());
        serve.destroy(); // SIGTERM
        assertTrue(serve.waitFor(30, TimeUnit.SECONDS));
        stopMemoryNodeAndExpectNoFiles();
    }
}
