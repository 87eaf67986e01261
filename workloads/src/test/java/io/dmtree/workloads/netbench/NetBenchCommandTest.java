package io.dmtree.workloads.netbench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dmtree.workloads.cli.DmtreeCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code dmtree netbench} in a short mode: the fields of its output and JSON, never the figures. */
class NetBenchCommandTest {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = DmtreeCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 1];
        all[0] = "netbench";
        System.arraycopy(args, 0, all, 1, args.length);
        int code = cl.execute(all);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void shortRunPrintsBothKindsAtBothThreadCountsAndWritesJson() throws Exception {
        Path json = dir.resolve("nb.json");
        Run r = run("--iterations", "300", "--warmup", "50", "--threads", "3", "--slices", "2",
                "--carrier-option", "tcp.connections=2", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        for (String field : new String[]{"raw", "tcp_read", "ops/s", "p50", "p99 ", "p99.9", "MN round trips/op",
                "p50 tcp_read / raw", "goal <= 1.5x", "request frames per socket write", "throughput tcp_read / raw", "threads   1", "threads   3"}) {
            assertTrue(r.out().contains(field), "missing '" + field + "' in:\n" + r.out());
        }
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertEquals(3, doc.get("config").get("threads").asInt());
        assertEquals("2", doc.get("config").get("carrier_options").get("tcp.connections").asText());
        JsonNode results = doc.get("results");
        assertEquals(4, results.size());
        int tcpRows = 0;
        for (JsonNode row : results) {
            for (String f : new String[]{"system", "threads", "iterations", "throughput_ops_s", "latency_us"}) {
                assertTrue(row.has(f), "missing " + f + " in " + row);
            }
            for (String p : new String[]{"p50", "p99", "p999"}) {
                assertTrue(row.get("latency_us").has(p), "missing latency " + p + " in " + row);
            }
            assertEquals(300, row.get("iterations").asLong(), "every kind does the same timed round trips");
            if (row.get("system").asText().equals("tcp_read")) {
                tcpRows++;
                assertTrue(row.has("mn_round_trips_per_op"), row.toString());
                assertTrue(row.has("wire") && row.get("wire").has("socket_writes"), row.toString());
            }
        }
        assertEquals(2, tcpRows);
        JsonNode ratios = doc.get("ratios");
        assertEquals(2, ratios.size());
        for (JsonNode q : ratios) {
            assertTrue(q.has("threads") && q.has("p50_tcp_read_over_raw") && q.has("throughput_tcp_read_over_raw"), q.toString());
        }
    }

    @Test
    void badOptionsExitTwo() {
        assertEquals(2, run("--iterations", "0").code());
        assertEquals(2, run("--threads", "0").code());
        assertEquals(2, run("--bytes", "4").code());
        assertEquals(2, run("--carrier-option", "novalue").code());
        Run r = run("--slices", "10", "--iterations", "5");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--slices"), r.err());
    }
}
