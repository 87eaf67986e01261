package io.dmtree.workloads.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dmtree.cn.EmbeddedCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Small complete runs through the command line, checked through the JSON they write: the fields,
 * the operation counts, and, on one thread, that every system read exactly the same data.
 */
class YcsbEndToEndTest {
    @TempDir
    Path dir;

    private JsonNode run(String... args) throws IOException {
        Path json = dir.resolve("out-" + System.nanoTime() + ".json");
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--json");
        all.add(json.toString());
        CliRun run = CliRun.of(all.toArray(new String[0]));
        assertEquals(0, run.exitCode(), run.err() + run.out());
        assertTrue(run.out().contains("run ops/s"), run.out());
        return new ObjectMapper().readTree(json.toFile());
    }

    private static void checkCommonFields(JsonNode root, String workload, long records, long operations, int threads,
                                          List<String> systems) {
        assertEquals(workload, root.get("workload").asText());
        assertEquals(records, root.get("records").asLong());
        assertEquals(operations, root.get("operations").asLong());
        assertEquals(threads, root.get("threads").asInt());
        JsonNode byType = root.get("operations_by_type");
        long sum = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = byType.fields(); it.hasNext(); ) {
            sum += it.next().getValue().asLong();
        }
        assertEquals(operations, sum);
        List<String> names = new ArrayList<>();
        for (JsonNode s : root.get("systems")) {
            names.add(s.get("name").asText());
            assertTrue(s.get("throughput_ops_s").asDouble() > 0);
            JsonNode latency = s.get("latency_us");
            assertEquals(byType.size(), latency.size(), s.toString());
            for (Iterator<Map.Entry<String, JsonNode>> it = byType.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode p = latency.get(e.getKey());
                double p50 = p.get("p50").asDouble();
                double p99 = p.get("p99").asDouble();
                double p999 = p.get("p999").asDouble();
                assertTrue(p50 > 0 && p50 <= p99 && p99 <= p999, p.toString());
                assertEquals(e.getValue().asLong(), s.get("operations_by_type").get(e.getKey()).asLong());
            }
        }
        assertEquals(systems, names);
    }

    @Test
    void peersRunWorkloadEAndReadTheSameData() throws IOException {
        JsonNode root = run("ycsb", "--no-dmtree", "-w", "E", "-r", "3000", "-n", "4000", "-t", "1", "--seed", "5");
        checkCommonFields(root, "E", 3000, 4000, 1, List.of("csl", "lmdb"));
        JsonNode csl = root.get("systems").get(0);
        JsonNode lmdb = root.get("systems").get(1);
        assertTrue(csl.get("scanned_entries").asLong() > 0);
        assertEquals(csl.get("scanned_entries"), lmdb.get("scanned_entries"));
        assertEquals(csl.get("result_digest"), lmdb.get("result_digest"));
        assertEquals(0, csl.get("read_misses").asLong());
        assertTrue(root.get("inserts").asLong() > 0);
    }

    @Test
    void slicingTheRunPhaseChangesNothingButTheTurns() throws IOException {
        JsonNode whole = run("ycsb", "--no-dmtree", "-w", "D", "-r", "2000", "-n", "3000", "-t", "1", "--slices", "1");
        JsonNode sliced = run("ycsb", "--no-dmtree", "-w", "D", "-r", "2000", "-n", "3000", "-t", "1", "--slices", "7");
        assertEquals(1, whole.get("slices").asInt());
        assertEquals(7, sliced.get("slices").asInt());
        for (int i = 0; i < 2; i++) {
            JsonNode a = whole.get("systems").get(i);
            JsonNode b = sliced.get("systems").get(i);
            assertEquals(a.get("result_digest"), b.get("result_digest"));
            assertEquals(a.get("operations_by_type"), b.get("operations_by_type"));
            assertEquals(0, b.get("read_misses").asLong(), "on one thread every read finds its record");
        }
        assertEquals(sliced.get("systems").get(0).get("result_digest"), sliced.get("systems").get(1).get("result_digest"));
    }

    @Test
    void peersRunWorkloadAOnTheBytePathWithTwoThreads() throws IOException {
        JsonNode root = run("ycsb", "--no-dmtree", "-w", "A", "-r", "2000", "-n", "5000", "-t", "2", "--key-size", "16",
                "--value-size", "32");
        checkCommonFields(root, "A", 2000, 5000, 2, List.of("csl", "lmdb"));
        for (JsonNode s : root.get("systems")) {
            assertEquals(0, s.get("read_misses").asLong(), "every read finds a loaded record");
        }
    }

    @Test
    void peersAgreeOnReadModifyWriteWithNarrowKeys() throws IOException {
        JsonNode root = run("ycsb", "--no-dmtree", "-w", "F", "-r", "5000", "-n", "3000", "-t", "1", "--key-size", "2",
                "--value-size", "3", "--peers", "lmdb,csl");
        checkCommonFields(root, "F", 5000, 3000, 1, List.of("lmdb", "csl"));
        assertEquals(root.get("systems").get(0).get("result_digest"), root.get("systems").get(1).get("result_digest"));
    }

    static boolean treeAvailable() {
        try (EmbeddedCluster c = EmbeddedCluster.builder().start()) {
            return true;
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    @Test
    void dmtreeRunsBesideThePeersAndReadsTheSameData() throws IOException {
        assumeTrue(treeAvailable(), "the tree is not wired into EmbeddedCluster on this branch yet");
        for (String[] shape : new String[][]{{"8", "8"}, {"12", "20"}}) {
            JsonNode root = run("ycsb", "-w", "E", "-r", "3000", "-n", "3000", "-t", "1", "--key-size", shape[0],
                    "--value-size", shape[1], "--cns", "2", "--mns", "2");
            checkCommonFields(root, "E", 3000, 3000, 1, List.of("dmtree", "csl", "lmdb"));
            JsonNode dm = root.get("systems").get(0);
            JsonNode csl = root.get("systems").get(1);
            assertEquals(csl.get("result_digest"), dm.get("result_digest"), "dmtree read what csl read");
            assertEquals(csl.get("scanned_entries"), dm.get("scanned_entries"));
            assertTrue(dm.get("lock").isTextual());
            JsonNode mn = dm.get("mn");
            assertTrue(mn.get("verbs_per_op").asDouble() > 0);
            assertTrue(mn.get("round_trips_per_op").asDouble() > 0);
            assertTrue(mn.get("bytes_per_op").asDouble() > 0);
            assertEquals(2, root.get("ratios").size());
            JsonNode ratio = root.get("ratios").get(0);
            assertEquals("csl", ratio.get("peer").asText());
            assertEquals(dm.get("throughput_ops_s").asDouble() / csl.get("throughput_ops_s").asDouble(),
                    ratio.get("dmtree_over_peer").asDouble(), 1e-9);
            JsonNode cache = dm.get("cache");
            assertTrue(cache.get("hits").asLong() + cache.get("misses").asLong() > 0);
        }
        CliRun table = CliRun.of("ycsb", "-w", "C", "-r", "1000", "-n", "1000", "-t", "1");
        assertEquals(0, table.exitCode(), table.err());
        assertTrue(table.out().contains("/csl") && table.out().contains("/lmdb"), table.out());
        assertTrue(table.out().contains("dmtree memory node traffic per operation"), table.out());
        JsonNode a = run("ycsb", "-w", "A", "-r", "2000", "-n", "4000", "-t", "2", "--lock", "all");
        checkCommonFields(a, "A", 2000, 4000, 2, expectedNames(a));
        for (JsonNode s : a.get("systems")) {
            assertEquals(0, s.get("read_misses").asLong(), s.get("name") + " misses");
        }
    }

    private static List<String> expectedNames(JsonNode root) {
        List<String> names = new ArrayList<>();
        for (String ignored : io.dmtree.lock.LockDesigns.names()) {
            names.add("dmtree");
        }
        names.add("csl");
        names.add("lmdb");
        return names;
    }

    @Test
    void checkNeedsTheTree() {
        assumeTrue(treeAvailable(), "the tree is not wired into EmbeddedCluster on this branch yet");
        CliRun run = CliRun.of("check", "--records", "3000", "--operations", "20000", "--threads", "2", "--seed", "17");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("tree ok"), run.out());
        assertTrue(run.out().contains("every key as the model says"), run.out());
        CliRun wide = CliRun.of("check", "--records", "2000", "--operations", "10000", "--key-size", "24",
                "--value-size", "40", "--threads", "3", "--cns", "3", "--seed", "18");
        assertEquals(0, wide.exitCode(), wide.out() + wide.err());
    }

    /** {@code check --drain}: the tree shrinks back to one leaf and the command says how many nodes it removed. */
    @Test
    void checkDrainShrinksTheTreeToOneLeaf() {
        assumeTrue(treeAvailable(), "the tree is not wired into EmbeddedCluster on this branch yet");
        CliRun run = CliRun.of("check", "--records", "20000", "--operations", "20000", "--deletes", "0", "--threads", "2",
                "--cns", "2", "--key-size", "16", "--seed", "19", "--drain");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("tree ok: height 1, nodes per level (leaves first) [1], 0 keys"), run.out());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("drain: every key deleted in [0-9.]+ s, ([0-9,]+) nodes removed")
                .matcher(run.out());
        assertTrue(m.find(), run.out());
        assertTrue(Long.parseLong(m.group(1).replace(",", "")) > 100, run.out());
    }
}
