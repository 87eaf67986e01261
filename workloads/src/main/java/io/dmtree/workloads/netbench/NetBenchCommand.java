package io.dmtree.workloads.netbench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dmtree.cn.carrier.tcp.WireStats;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.memory.VerbCounts;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code dmtree netbench}: how close the tcp carrier comes to the wire. In one run, side by side on
 * loopback: a raw TCP ping-pong of {@code --bytes} against a blocking echo server, and a READ of
 * {@code --bytes} through the tcp carrier from an in-process memory node. Both do the same number of
 * round trips after a warm-up, taking turns slice by slice so background load hits them alike;
 * it prints p50/p99/p99.9 (HdrHistogram) and throughput of each, the carrier's exact round trips
 * per READ, and the ratio tcp READ p50 / raw p50. With {@code --threads N} it then does the same
 * with N threads at once (N raw connections against N threads sharing the carrier's connections),
 * where the carrier's request batching shows in the throughput ratio.
 */
@Command(name = "netbench", sortOptions = false, mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Raw TCP ping-pong against a READ through the tcp carrier, side by side on loopback.",
                "Prints p50/p99/p99.9 latency and throughput of both and the ratio tcp READ p50 / raw p50 (goal <= 1.5);"
                        + " --threads N adds a run with N concurrent threads each."})
public final class NetBenchCommand implements Callable<Integer> {
    /** The latency goal the ratio is printed against. */
    static final double GOAL = 1.5;
    private static final long PHASE_TIMEOUT_MILLIS = 600_000;

    @Spec
    CommandSpec spec;

    @Option(names = {"-n", "--iterations"}, defaultValue = "20000", description = "timed round trips of each kind per thread count")
    long iterations;

    @Option(names = "--warmup", defaultValue = "5000", description = "untimed round trips of each kind first")
    long warmup;

    @Option(names = "--bytes", defaultValue = "1024", description = "bytes each way (raw) and bytes read (tcp)")
    int bytes;

    @Option(names = {"-t", "--threads"}, defaultValue = "1",
            description = "also run with this many concurrent threads (1: the single-thread latency run only)")
    int threads;

    @Option(names = "--slices", defaultValue = "4", description = "the kinds take turns this many times")
    int slices;

    @Option(names = "--carrier-option", paramLabel = "KEY=VALUE",
            description = "a tcp carrier setting, repeatable (e.g. tcp.connections=2)")
    List<String> carrierOptions = new ArrayList<>();

    @Option(names = "--tls", paramLabel = "KEYSTORE",
            description = "also READ through a second memory node whose connections run TLS 1.3 with this PKCS12 keystore "
                    + "(tls_read, side by side with tcp_read; both then hold the same cluster secret)")
    String tls;

    @Option(names = "--tls-password", paramLabel = "FILE", description = "the --tls keystore's password file")
    String tlsPassword;

    @Option(names = "--timeout-ms", defaultValue = "30000", description = "the carrier's verb timeout")
    int timeoutMillis;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the results as JSON")
    Path json;

    /** One kind at one thread count. */
    record Result(String system, String description, int threads, long iterations, double throughputOpsPerSecond,
                  double p50Micros, double p99Micros, double p999Micros, Double roundTripsPerOp, WireStats wire) {
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    @Override
    public Integer call() throws Exception {
        if (iterations < 1 || iterations > 1_000_000_000L) {
            throw usage("--iterations must be in [1, 1000000000]: " + iterations);
        }
        if (warmup < 0 || warmup > 1_000_000_000L) {
            throw usage("--warmup must be in [0, 1000000000]: " + warmup);
        }
        if (bytes < 8 || bytes > 1 << 20) {
            throw usage("--bytes must be in [8, 1048576]: " + bytes);
        }
        if (threads < 1 || threads > 256) {
            throw usage("--threads must be in [1, 256]: " + threads);
        }
        if (slices < 1 || slices > iterations) {
            throw usage("--slices must be in [1, --iterations]: " + slices);
        }
        if (timeoutMillis < 1) {
            throw usage("--timeout-ms must be positive: " + timeoutMillis);
        }
        CarrierOptions options;
        try {
            options = CarrierOptions.parse(carrierOptions);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        List<Integer> levels = threads == 1 ? List.of(1) : List.of(1, threads);
        out.printf(Locale.ROOT, "netbench: %d-byte round trips on loopback, %,d timed after %,d warm-up per kind and thread count,"
                        + " threads %s, %d slices taking turns, carrier options %s, %d cores%n", bytes, iterations, warmup,
                levels, slices, options.values().isEmpty() ? "none" : options.values(), Runtime.getRuntime().availableProcessors());
        io.dmtree.core.wire.ClusterSecret secret = null;
        io.dmtree.core.wire.ClusterSecret tlsSecret = null;
        if (tls != null) {
            secret = io.dmtree.core.wire.ClusterSecret.generate();
            try {
                tlsSecret = secret.withTls(io.dmtree.core.wire.ClusterTls.fromFlags(tls, tlsPassword, null, true));
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
        }
        List<Result> results = new ArrayList<>();
        try (RawPingPong raw = new RawPingPong(bytes);
             CarrierRead tcp = new CarrierRead(bytes, threads, options, timeoutMillis, secret);
             CarrierRead tlsRead = tlsSecret == null ? null : new CarrierRead(bytes, threads, options, timeoutMillis, tlsSecret)) {
            out.println("  raw:      " + raw.description());
            out.println("  tcp_read: " + tcp.description());
            if (tlsRead != null) {
                out.println("  tls_read: " + tlsRead.description());
            }
            for (int level : levels) {
                results.addAll(compare(out, tlsRead == null ? new RoundTrips[]{raw, tcp} : new RoundTrips[]{raw, tcp, tlsRead},
                        level));
            }
        }
        printSummary(out, results);
        if (json != null) {
            writeJson(results, options);
            out.println("json: " + json.toAbsolutePath());
        }
        out.flush();
        return 0;
    }

    private List<Result> compare(PrintWriter out, RoundTrips[] kinds, int level) throws Exception {
        for (RoundTrips k : kinds) {
            if (warmup > 0) {
                Phase.run(k, level, Math.max(warmup, level), PHASE_TIMEOUT_MILLIS);
            }
        }
        Histogram[] latencies = new Histogram[kinds.length];
        long[] elapsed = new long[kinds.length];
        VerbCounts[] counts = new VerbCounts[kinds.length];
        WireStats[] wires = new WireStats[kinds.length];
        for (int k = 0; k < kinds.length; k++) {
            latencies[k] = Phase.newHistogram();
            counts[k] = VerbCounts.ZERO;
            wires[k] = WireStats.ZERO;
        }
        for (int s = 0; s < slices; s++) {
            long share = iterations / slices + (s < iterations % slices ? 1 : 0);
            for (int j = 0; j < kinds.length; j++) {
                int k = (s + j) % kinds.length; // rotate which kind goes first
                CarrierRead c = kinds[k] instanceof CarrierRead cr ? cr : null;
                VerbCounts before = c != null ? c.verbs().totalCounts() : null;
                WireStats wireBefore = c != null ? c.wireStats() : null;
                Phase.Outcome o = Phase.run(kinds[k], level, share, PHASE_TIMEOUT_MILLIS);
                if (c != null) {
                    counts[k] = counts[k].plus(c.verbs().totalCounts().minus(before));
                    wires[k] = wires[k].plus(c.wireStats().minus(wireBefore));
                }
                latencies[k].add(o.latencies());
                elapsed[k] += o.elapsedNanos();
            }
        }
        List<Result> rs = new ArrayList<>();
        for (int k = 0; k < kinds.length; k++) {
            Histogram h = latencies[k];
            boolean carrier = kinds[k] instanceof CarrierRead;
            Double rtPerOp = carrier ? (double) counts[k].roundTrips() / h.getTotalCount() : null;
            WireStats wire = carrier ? wires[k] : null;
            Result r = new Result(kinds[k].name(), kinds[k].description(), level, h.getTotalCount(),
                    h.getTotalCount() * 1e9 / elapsed[k], micros(h, 50), micros(h, 99), micros(h, 99.9), rtPerOp, wire);
            rs.add(r);
            out.printf(Locale.ROOT, "  threads %3d  %-9s %,12.0f ops/s  p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us%s%n",
                    level, r.system(), r.throughputOpsPerSecond(), r.p50Micros(), r.p99Micros(), r.p999Micros(),
                    rtPerOp == null ? "" : String.format(Locale.ROOT, "  %.3f MN round trips/op", rtPerOp));
            if (wire != null) {
                out.printf(Locale.ROOT, "  %12s %-9s %.2f request frames per socket write, %.2f replies per socket read,"
                                + " %.1f%% of replies read by another waiting caller%n", "", "", wire.framesPerWrite(),
                        wire.socketReads() == 0 ? 0.0 : (double) wire.repliesRead() / wire.socketReads(), 100 * wire.handOffShare());
            }
        }
        return rs;
    }

    private static double micros(Histogram h, double percentile) {
        return h.getValueAtPercentile(percentile) / 1000.0;
    }

    private void printSummary(PrintWriter out, List<Result> results) {
        out.println();
        out.println("ratios, tcp_read against raw at the same thread count (from this run):");
        for (Map<String, Object> r : ratios(results)) {
            int level = (Integer) r.get("threads");
            double p50 = (Double) r.get("p50_tcp_read_over_raw");
            double thr = (Double) r.get("throughput_tcp_read_over_raw");
            out.printf(Locale.ROOT, "  threads %3d  p50 tcp_read / raw %.2fx%s  throughput tcp_read / raw %.2fx%n", level, p50,
                    level == 1 ? String.format(Locale.ROOT, " (goal <= %.1fx: %s)", GOAL, p50 <= GOAL ? "met" : "missed") : "",
                    thr);
        }
        for (Result t : results) {
            if (!t.system().equals("tls_read")) {
                continue;
            }
            for (Result r : results) {
                if (r.system().equals("tcp_read") && r.threads() == t.threads()) {
                    out.printf(Locale.ROOT, "  threads %3d  TLS on / off: p50 %.2fx  p99 %.2fx  throughput %.2fx%n", t.threads(),
                            t.p50Micros() / r.p50Micros(), t.p99Micros() / r.p99Micros(),
                            t.throughputOpsPerSecond() / r.throughputOpsPerSecond());
                }
            }
        }
    }

    private static List<Map<String, Object>> ratios(List<Result> results) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Result t : results) {
            if (!t.system().equals("tcp_read")) {
                continue;
            }
            for (Result r : results) {
                if (r.system().equals("raw") && r.threads() == t.threads()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("threads", t.threads());
                    m.put("p50_tcp_read_over_raw", t.p50Micros() / r.p50Micros());
                    m.put("throughput_tcp_read_over_raw", t.throughputOpsPerSecond() / r.throughputOpsPerSecond());
                    out.add(m);
                }
            }
        }
        return out;
    }

    private void writeJson(List<Result> results, CarrierOptions options) throws java.io.IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("bytes", bytes);
        config.put("iterations", iterations);
        config.put("warmup", warmup);
        config.put("threads", threads);
        config.put("slices", slices);
        config.put("carrier_options", options.values());
        config.put("cores", Runtime.getRuntime().availableProcessors());
        doc.put("config", config);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Result r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("system", r.system());
            row.put("description", r.description());
            row.put("threads", r.threads());
            row.put("iterations", r.iterations());
            row.put("throughput_ops_s", r.throughputOpsPerSecond());
            Map<String, Object> lat = new LinkedHashMap<>();
            lat.put("p50", r.p50Micros());
            lat.put("p99", r.p99Micros());
            lat.put("p999", r.p999Micros());
            row.put("latency_us", lat);
            if (r.roundTripsPerOp() != null) {
                row.put("mn_round_trips_per_op", r.roundTripsPerOp());
            }
            if (r.wire() != null) {
                Map<String, Object> wire = new LinkedHashMap<>();
                wire.put("request_frames", r.wire().framesWritten());
                wire.put("socket_writes", r.wire().socketWrites());
                wire.put("replies", r.wire().repliesRead());
                wire.put("socket_reads", r.wire().socketReads());
                wire.put("replies_read_for_another_caller", r.wire().repliesForOthers());
                row.put("wire", wire);
            }
            rows.add(row);
        }
        doc.put("results", rows);
        doc.put("ratios", ratios(results));
        doc.put("goal_p50_ratio", GOAL);
        if (json.toAbsolutePath().getParent() != null) {
            Files.createDirectories(json.toAbsolutePath().getParent());
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
    }
}
