package io.dmtree.workloads.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prints one table comparing carriers from the JSON results of {@code dmtree ycsb} (embedded) and
 * {@code dmtree cn} (aggregate of compute-node processes), as {@code scripts/compare-carriers}
 * writes them: per workload and carrier the median over rounds of throughput, p99 latency per
 * operation type and memory node verbs, round trips and bytes per operation, and the throughput
 * ratio against the first carrier of the workload (the embedded one): the median of the per-round
 * ratios, each from two runs next to each other in time, so a change in the machine's background
 * load between rounds cancels out.
 *
 * <p>Arguments: {@code WORKLOAD/CARRIER=FILE.json ...}; files of the same workload and carrier are
 * rounds of one configuration, in round order.
 */
public final class CarrierComparison {
    private CarrierComparison() {
    }

    /** One configuration's rounds. */
    private record Rounds(String workload, String carrier, List<JsonNode> results) {
        double median(java.util.function.ToDoubleFunction<JsonNode> f) {
            double[] v = results.stream().mapToDouble(f).sorted().toArray();
            int n = v.length;
            return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        }
    }

    public static void main(String[] args) throws IOException {
        print(args, new PrintWriter(System.out, true));
    }

    /** Reads the files named by {@code args} and prints the table to {@code out}. */
    static void print(String[] args, PrintWriter out) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Map<String, Rounds> configs = new LinkedHashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            int slash = a.indexOf('/');
            if (eq < 0 || slash < 0 || slash > eq) {
                throw new IllegalArgumentException("expected WORKLOAD/CARRIER=FILE.json, got " + a);
            }
            String workload = a.substring(0, slash);
            String carrier = a.substring(slash + 1, eq);
            JsonNode root = json.readTree(Path.of(a.substring(eq + 1)).toFile());
            JsonNode system = root.get("systems").get(0);
            configs.computeIfAbsent(workload + "/" + carrier, k -> new Rounds(workload, carrier, new ArrayList<>()))
                    .results().add(system);
        }
        print(new ArrayList<>(configs.values()), out);
        out.flush();
    }

    private static double p99(JsonNode system, String type) {
        JsonNode l = system.get("latency_us").get(type);
        return l == null ? Double.NaN : l.get("p99").asDouble();
    }

    private static void print(List<Rounds> configs, PrintWriter out) {
        out.printf(Locale.ROOT, "%-8s  %-10s  %6s  %10s  %12s  %8s  %10s  %10s  %8s  %11s  %9s%n", "workload", "carrier",
                "rounds", "operations", "run ops/s", "ratio", "READ p99", "UPDATE p99", "verbs/op", "round trips", "bytes/op");
        Rounds baseline = null;
        for (Rounds r : configs) {
            double tput = r.median(s -> s.get("throughput_ops_s").asDouble());
            if (baseline == null || !r.workload().equals(baseline.workload())) {
                baseline = r;
            }
            double ratio = perRoundRatio(r, baseline);
            out.printf(Locale.ROOT, "%-8s  %-10s  %6d  %,10.0f  %,12.0f  %7.2fx  %10s  %10s  %8.3f  %11.3f  %9.1f%n",
                    r.workload(), r.carrier(), r.results().size(), r.median(s -> sum(s.get("operations_by_type"))), tput, ratio,
                    us(r.median(s -> p99(s, "READ"))), us(r.median(s -> p99(s, "UPDATE"))),
                    r.median(s -> s.get("mn").get("verbs_per_op").asDouble()),
                    r.median(s -> s.get("mn").get("round_trips_per_op").asDouble()),
                    r.median(s -> s.get("mn").get("bytes_per_op").asDouble()));
        }
        out.println("(medians over rounds; ratio: median over rounds of the run throughput over the first carrier's in the"
                + " same round; p99 in microseconds; MN traffic counted by the carrier)");
    }

    /** Median over rounds of r's throughput over the baseline's in the same round. */
    private static double perRoundRatio(Rounds r, Rounds baseline) {
        int n = Math.min(r.results().size(), baseline.results().size());
        double[] ratios = new double[n];
        for (int i = 0; i < n; i++) {
            ratios[i] = r.results().get(i).get("throughput_ops_s").asDouble()
                    / baseline.results().get(i).get("throughput_ops_s").asDouble();
        }
        java.util.Arrays.sort(ratios);
        return n == 0 ? Double.NaN : n % 2 == 1 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
    }

    private static double sum(JsonNode counts) {
        double n = 0;
        for (JsonNode c : counts) {
            n += c.asDouble();
        }
        return n;
    }

    private static String us(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
    }
}
