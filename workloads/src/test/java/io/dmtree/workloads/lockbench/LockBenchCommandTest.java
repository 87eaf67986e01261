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
        int code = run(new StringWriter(), "--designs", "modular,cas-spin", "--threads", "1,2", "--duration", "0.2",
                "--warmup", "0", "--json", json.toString(), "--chart", png.toString());
        assertEquals(0, code);
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        JsonNode results = doc.get("results");
        assertEquals(4, results.size());
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

    @Test
    void badOptionsExitTwoWithUsage() {
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "--shared-ratio", "1.5"));
        assertTrue(err.toString().contains("Usage"), err.toString());
        assertEquals(2, run(new StringWriter(), "--designs", "no-such-lock"));
        assertEquals(2, run(new StringWriter(), "--threads", "0"));
        assertEquals(2, run(new StringWriter(), "--cns", "x"));
    }
}
