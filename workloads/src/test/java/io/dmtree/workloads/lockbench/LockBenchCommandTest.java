package io.dmtree.workloads.lockbench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class LockBenchCommandTest {
    @TempDir
    Path dir;

    private int run(StringWriter err, String... args) {
        CommandLine cl = new CommandLine(new LockBenchCommand());
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void writesJsonWithOneResultPerDesignAndLevelAndAChart() throws Exception {
        Path json = dir.resolve("lb.json");
        Path png = dir.resolve("lb.png");
        int code = run(new StringWriter(), "--designs", "modular,cas-spin,adaptive", "--threads", "1,2", "--duration", "0.2",
                "--warmup", "0", "--json", json.toString(), "--chart", png.toString());
        assertEquals(0, code);
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        JsonNode results = doc.get("results");
        assertEquals(6, results.size());
        JsonNode adaptive = doc.get("adaptive_vs_best_fixed");
        assertEquals(2, adaptive.size(), "adaptive against the best fixed design at each level");
        for (JsonNode a : adaptive) {
            assertTrue(a.get("adaptive_vs_best").asDouble() > 0, a.toString());
            assertTrue(a.get("best_fixed").asText().equals("modular") || a.get("best_fixed").asText().equals("cas-spin"));
        }
        for (JsonNode r : results) {
            for (String f : new String[]{"lock", "cns", "threads", "locks", "throughput_ops_s", "mn_verbs_per_op",
                    "mn_round_trips_per_op", "latency_us"}) {
                assertTrue(r.has(f), "missing " + f + " in " + r);
            }
            assertTrue(r.get("latency_us").has("p50") && r.get("latency_us").has("p99"));
            assertTrue(r.get("throughput_ops_s").asDouble() > 0);
        }
        assertTrue(Files.size(png) > 1000, "chart not written");
    }

    /** Every design through the modelled NIC on a zipfian lock set; each run checks mutual exclusion itself. */
    @Test
    void everyDesignRunsThroughTheModelledNicOnAZipfianLockSet() throws Exception {
        Path json = dir.resolve("nic.json");
        int code = run(new StringWriter(), "--cns", "3", "--threads", "2", "--locks", "8", "--lock-zipf", "0.99",
                "--duration", "0.3", "--warmup", "0", "--nic-option", "dilation=20", "--json", json.toString(),
                "--chart", dir.resolve("nic.png").toString());
        assertEquals(0, code);
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertEquals("modelled", doc.get("config").get("figures").asText());
        assertEquals(20.0, doc.get("config").get("nic_model").get("dilation").asDouble());
        assertEquals(0.99, doc.get("config").get("lock_zipf").asDouble());
        assertEquals(io.dmtree.lock.LockDesigns.names().size(), doc.get("results").size());
        for (JsonNode r : doc.get("results")) {
            assertTrue(r.get("operations").asLong() > 0, "no operation in " + r);
        }
    }

    @Test
    void badOptionsExitTwoWithUsage() {
        assertEquals(2, run(new StringWriter(), "--nic-option", "rtt=3"));
        assertEquals(2, run(new StringWriter(), "--nic-option", "dilation=0.5"));
        assertEquals(2, run(new StringWriter(), "--nic", "--modelled-rtt-us", "5"));
        assertEquals(2, run(new StringWriter(), "--lock-zipf", "1.5"));
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "--shared-ratio", "1.5"));
        assertTrue(err.toString().contains("Usage"), err.toString());
        assertEquals(2, run(new StringWriter(), "--designs", "no-such-lock"));
        assertEquals(2, run(new StringWriter(), "--threads", "0"));
        assertEquals(2, run(new StringWriter(), "--cns", "x"));
    }
}
