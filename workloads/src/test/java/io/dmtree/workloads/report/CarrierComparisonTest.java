package io.dmtree.workloads.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The carrier table: medians over rounds, the ratio as the median of per-round ratios, one row per carrier. */
class CarrierComparisonTest {
    @TempDir
    Path dir;

    private String result(String name, double tput, double readP99, double verbs) throws Exception {
        Path f = dir.resolve(name + ".json");
        Files.writeString(f, String.format(Locale.ROOT, "{\"systems\":[{\"throughput_ops_s\":%f,"
                + "\"operations_by_type\":{\"READ\":600,\"UPDATE\":400},"
                + "\"latency_us\":{\"READ\":{\"p99\":%f},\"UPDATE\":{\"p99\":2.5}},"
                + "\"mn\":{\"verbs_per_op\":%f,\"round_trips_per_op\":2.0,\"bytes_per_op\":1000.0}}]}", tput, readP99, verbs));
        return f.toString();
    }

    @Test
    void ratiosAreMediansOfPerRoundRatios() throws Exception {
        List<String> args = new ArrayList<>();
        double[] embedded = {100, 200, 400};
        double[] shm = {90, 100, 380}; // per round 0.90, 0.50, 0.95 -> median 0.90 (a ratio of medians would say 0.50)
        for (int r = 0; r < 3; r++) {
            args.add("A/embedded=" + result("e" + r, embedded[r], 1 + r, 3));
            args.add("A/shm=" + result("s" + r, shm[r], 2 + r, 4));
        }
        StringWriter text = new StringWriter();
        CarrierComparison.print(args.toArray(new String[0]), new PrintWriter(text));
        String[] lines = text.toString().split("\n");
        assertTrue(lines[0].startsWith("workload"), lines[0]);
        String[] e = lines[1].trim().split("\\s+");
        String[] s = lines[2].trim().split("\\s+");
        assertEquals(List.of("A", "embedded", "3", "1,000", "200", "1.00x", "2.00", "2.50", "3.000", "2.000", "1000.0"), List.of(e));
        assertEquals(List.of("A", "shm", "3", "1,000", "100", "0.90x", "3.00", "2.50", "4.000", "2.000", "1000.0"), List.of(s));
    }
}
