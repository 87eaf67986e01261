package io.dmtree.workloads.lockbench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class LockRecoveryCommandTest {
    @TempDir
    Path dir;

    private int run(StringWriter err, String... args) {
        CommandLine cl = new CommandLine(new LockBenchCommand());
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void recoveryTimesPerDesignAndHeldLocksAsJson() throws Exception {
        Path json = dir.resolve("rec.json");
        int code = run(new StringWriter(), "recovery", "--designs", "modular,cas-spin,rdma-mcs", "--held", "1,4",
                "--samples", "4", "--json", json.toString());
        assertEquals(0, code);
        JsonNode results = new ObjectMapper().readTree(json.toFile()).get("results");
        assertEquals(6, results.size());
        for (JsonNode r : results) {
            for (String f : new String[]{"lock", "held", "samples", "trials", "recovery_us", "recover_call_mean_us"}) {
                assertTrue(r.has(f), "missing " + f + " in " + r);
            }
            assertTrue(r.get("samples").asLong() >= 4, r.toString());
            assertTrue(r.get("recovery_us").get("p50").asDouble() > 0, r.toString());
            assertTrue(r.get("recovery_us").get("p99").asDouble() >= r.get("recovery_us").get("p50").asDouble());
        }
    }

    @Test
    void badOptionsExitTwo() {
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "recovery", "--held", "0"));
        assertTrue(err.toString().contains("Usage"), err.toString());
        assertEquals(2, run(new StringWriter(), "recovery", "--designs", "no-such-lock"));
        assertEquals(2, run(new StringWriter(), "recovery", "--samples", "-1"));
    }
}
