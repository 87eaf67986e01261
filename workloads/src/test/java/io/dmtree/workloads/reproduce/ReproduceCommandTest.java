package io.dmtree.workloads.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dmtree.workloads.cli.DmtreeCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The plumbing of {@code dmtree reproduce} on tiny sizes: every figure runs and lands in the JSON and the chart. */
class ReproduceCommandTest {
    @TempDir
    Path dir;

    private static int run(StringWriter err, String... args) {
        CommandLine cl = new CommandLine(new DmtreeCli());
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void lockModularizationWritesEveryFigureToJsonAndChart() throws Exception {
        StringWriter err = new StringWriter();
        int code = run(err, "reproduce", "lock-modularization", "--short", "--clients", "1,2", "--index-clients", "2",
                "--ops", "200", "--records", "50", "--duration", "0.1", "--warmup", "0", "--zipf-locks", "4",
                "--variants", "aside,hol", "--nic-option", "dilation=20", "--out", dir.toString());
        assertEquals(0, code, err.toString());
        JsonNode doc = new ObjectMapper().readTree(dir.resolve("lock-modularization.json").toFile());
        assertEquals("modelled", doc.get("figures").asText());
        assertEquals(2, doc.get("variants").size());
        for (JsonNode v : doc.get("variants")) {
            assertEquals(20.0, v.get("nic_model").get("dilation").asDouble());
            assertEquals(3 * 2 * 2, v.get("lock_verbs").size(), "3 designs x 2 client counts x 2 lock sets");
            for (JsonNode r : v.get("lock_verbs")) {
                assertTrue(r.get("mn_verbs_per_op").asDouble() > 0, r.toString());
            }
            assertEquals(3, v.get("index").size());
            for (JsonNode set : v.get("adaptive_vs_best_fixed")) {
                assertEquals(2, set.size(), "adaptive against the best fixed design at each client count: " + set);
                for (JsonNode r : set) {
                    assertTrue(r.get("adaptive_vs_best").asDouble() > 0, r.toString());
                    assertTrue(java.util.Set.of("modular", "cas-spin").contains(r.get("best_fixed").asText()), r.toString());
                }
            }
            assertEquals(2, v.get("adaptive_vs_best_fixed").size(), "both lock sets");
            assertEquals(1, v.get("index_adaptive_vs_best_fixed").size());
            for (JsonNode r : v.get("index")) {
                assertTrue(r.get("throughput_ops_s_dilated").asDouble() > 0, r.toString());
                if (r.get("lock").asText().equals("cas-spin")) {
                    assertEquals(1.0, r.get("vs_cas_spin").asDouble(), 1e-9);
                }
            }
            assertTrue(Files.size(dir.resolve("lock-modularization-" + v.get("variant").asText() + ".png")) > 1000);
        }
        assertEquals(true, doc.get("variants").get(1).get("nic_model").get("atomic_hol").asBoolean());
        JsonNode um = doc.get("unmodelled");
        assertEquals("measured", um.get("figures").asText());
        assertEquals(3 * 2 * 2, um.get("lock_verbs").size());
        assertEquals(2, um.get("adaptive_vs_best_fixed").size());
        assertTrue(Files.size(dir.resolve("lock-modularization-unmodelled.png")) > 1000);
    }

    @Test
    void alockWritesEveryShareToJsonAndChart() throws Exception {
        StringWriter err = new StringWriter();
        int code = run(err, "reproduce", "alock", "--short", "--nodes", "2", "--threads", "1", "--locks", "4",
                "--local", "0.5,0.9", "--duration", "0.1", "--warmup", "0", "--nic-option", "dilation=20",
                "--out", dir.toString());
        assertEquals(0, code, err.toString());
        JsonNode doc = new ObjectMapper().readTree(dir.resolve("alock.json").toFile());
        assertEquals("modelled", doc.get("figures").asText());
        JsonNode results = doc.get("variants").get(0).get("results");
        assertEquals(3 * 2, results.size(), "3 designs x 2 local shares");
        for (JsonNode r : results) {
            assertTrue(r.get("throughput_ops_s_dilated").asDouble() > 0, r.toString());
            if (r.get("lock").asText().equals("alock")) {
                assertEquals(1.0, r.get("alock_throughput_ratio").asDouble(), 1e-9);
            }
        }
        assertTrue(Files.size(dir.resolve("alock-aside.png")) > 1000);
    }

    @Test
    void patronusRunsProtectionOnAndOffSideBySideAndWritesJsonAndChart() throws Exception {
        StringWriter err = new StringWriter();
        int code = run(err, "reproduce", "patronus", "--short", "--records", "200", "--ops", "400", "--slices", "2",
                "--threads", "1", "--out", dir.toString());
        assertEquals(0, code, err.toString());
        JsonNode doc = new ObjectMapper().readTree(dir.resolve("patronus.json").toFile());
        assertEquals("measured", doc.get("figures").asText());
        assertEquals(2, doc.get("rounds").size(), "YCSB A and C, one round each");
        for (JsonNode r : doc.get("rounds")) {
            assertTrue(r.get("on_ops_s").asDouble() > 0 && r.get("off_ops_s").asDouble() > 0, r.toString());
            assertEquals(r.get("on_ops_s").asDouble() / r.get("off_ops_s").asDouble(), r.get("on_over_off").asDouble(), 1e-9);
            assertTrue(r.get("on_mn_verbs_per_op").asDouble() > 0, r.toString());
            assertEquals(0, r.get("on_read_misses").asLong(), "every loaded record is found with protection on");
            assertEquals(0, r.get("off_read_misses").asLong(), r.toString());
        }
        assertTrue(doc.get("summary").has("A") && doc.get("summary").has("C"), doc.toString());
        assertTrue(Files.size(dir.resolve("patronus.png")) > 1000);
    }

    @Test
    void badOptionsExitTwo() {
        assertEquals(2, run(new StringWriter(), "reproduce", "patronus", "--workloads", "A,Q"));
        assertEquals(2, run(new StringWriter(), "reproduce", "patronus", "--lock", "nolock"));
        assertEquals(2, run(new StringWriter(), "reproduce", "patronus", "--rounds", "0"));
        assertEquals(2, run(new StringWriter(), "reproduce", "alock", "--designs", "cas-spin"));
        assertEquals(2, run(new StringWriter(), "reproduce", "alock", "--local", "1.5"));
        assertEquals(2, run(new StringWriter(), "reproduce", "alock", "--nodes", "1"));
        assertEquals(2, run(new StringWriter(), "reproduce"));
        assertEquals(2, run(new StringWriter(), "reproduce", "lock-modularization", "--designs", "modular"));
        assertEquals(2, run(new StringWriter(), "reproduce", "lock-modularization", "--clients", "9"));
        assertEquals(2, run(new StringWriter(), "reproduce", "lock-modularization", "--variants", "fast"));
        assertEquals(2, run(new StringWriter(), "reproduce", "lock-modularization", "--nic-option", "rtt=1"));
        assertEquals(2, run(new StringWriter(), "reproduce", "lock-modularization", "--figures", "all"));
    }
}
