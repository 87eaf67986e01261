package io.dmtree.workloads.reproduce;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dmtree.core.nic.NicModelConfig;
import io.dmtree.lock.LockDesigns;
import io.dmtree.workloads.lockbench.LockBenchCommand;
import io.dmtree.workloads.lockbench.LockBenchResult;
import io.dmtree.workloads.lockbench.LockBenchRun;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code dmtree reproduce alock}: ALock's lock-table claim on the modelled NIC. Every node is a
 * memory node with a compute node on its host ({@code --nodes}); each holds {@code --locks} locks
 * of the table. A thread picks a lock of its own node with the local share (50%, 90%, 95%) and one
 * of another node otherwise (the lock bench, {@link LockBenchRun}, with its critical section).
 * {@code alock}'s local cohort reaches its node's memory by CPU access; every other design goes
 * through its node's NIC by loopback ({@link NicModelConfig#loopbackNanos()}), as in the paper.
 * Paper: up to 29x throughput and up to 20x lower latency with a majority of local accesses.
 *
 * <p>CPU accesses to the local node take the model's local access time
 * ({@link NicModelConfig#localAccessNanos()}, dilated) and touch no NIC.
 */
@Command(name = "alock", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = {"ALock's claim (throughput and latency against every design on a lock table with co-located"
                + " compute nodes, 50/90/95%% local accesses) on the modelled memory-node NIC."})
public final class ALockCommand implements Callable<Integer> {
    static final String PAPER_THROUGHPUT = "up to 29x throughput";
    static final String PAPER_LATENCY = "up to 20x lower latency";

    @Spec
    CommandSpec spec;

    @Option(names = "--short", description = "tiny sizes for CI: three designs, short runs")
    boolean shortMode;

    @Option(names = "--designs", split = ",", description = "lock designs (default: all; --short: alock,cas-spin,modular)")
    List<String> designs;

    @Option(names = "--local", split = ",", defaultValue = "0.5,0.9,0.95", description = "shares of local accesses")
    List<Double> local;

    @Option(names = "--nodes", defaultValue = "4", description = "nodes, each a memory node with a compute node on its host")
    int nodes;

    @Option(names = "--threads", description = "threads per compute node (default 8; --short: 2)")
    Integer threads;

    @Option(names = "--locks", defaultValue = "100", description = "locks per node (uniform within a node)")
    int locks;

    @Option(names = "--duration", description = "measured seconds per run (default 1; --short: 0.25)")
    Double duration;

    @Option(names = "--warmup", description = "warm-up seconds per run (default 0.3; --short: 0.05)")
    Double warmup;

    @Option(names = "--variants", split = ",", defaultValue = "aside",
            description = "NIC readings of contended atomics: aside, hol")
    List<String> variants;

    @Option(names = "--nic-option", paramLabel = "KEY=VALUE", description = "a modelled-NIC parameter over the defaults")
    List<String> nicOptions;

    @Option(names = "--out", defaultValue = "reproduce", description = "directory for the JSON and the PNG charts")
    Path out;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the lock choices")
    long seed;

    record Row(String variant, double local, LockBenchResult result, double busyCores) {
    }

    private CommandLine.ParameterException bad(String m) {
        return new CommandLine.ParameterException(spec.commandLine(), m);
    }

    @Override
    public Integer call() throws Exception {
        List<String> names = designs != null && !designs.isEmpty() ? designs
                : shortMode ? List.of("alock", "cas-spin", "modular") : LockDesigns.names();
        for (String n : names) {
            if (!LockDesigns.names().contains(n)) {
                throw bad("unknown lock design '" + n + "'; known: " + String.join(", ", LockDesigns.names()));
            }
        }
        if (!names.contains("alock")) {
            throw bad("--designs must include alock: every ratio is of it");
        }
        for (double l : local) {
            if (!(l >= 0 && l <= 1)) {
                throw bad("--local shares must be in [0, 1]: " + l);
            }
        }
        int thr = threads != null ? threads : shortMode ? 2 : 8;
        double dur = duration != null ? duration : shortMode ? 0.25 : 1.0;
        double warm = warmup != null ? warmup : shortMode ? 0.05 : 0.3;
        if (nodes < 2 || nodes > 16 || thr < 1 || thr > 64 || locks < 1 || !(dur > 0) || !(warm >= 0)) {
            throw bad("need --nodes in [2, 16], --threads in [1, 64], --locks >= 1, --duration > 0, --warmup >= 0");
        }
        List<NicVariant> vs;
        try {
            vs = NicVariant.of(variants, LockBenchCommand.nicConfig(true, nicOptions));
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        PrintStream o = System.out;
        o.printf("dmtree reproduce alock%s: %d nodes (memory node + compute node on its host), %d threads each, %d locks"
                + " each; all figures are MODELLED%n", shortMode ? " --short" : "", nodes, thr, locks);
        List<Row> rows = new ArrayList<>();
        for (NicVariant v : vs) {
            NicModelConfig nic = v.config();
            o.println();
            o.println("== NIC variant " + v.name() + ": " + nic.describe());
            for (double l : local) {
                for (String d : names) {
                    LockBenchRun.Settings s = new LockBenchRun.Settings(nodes, thr, locks, 0.0, (long) (warm * 1e9),
                            (long) (dur * 1e9), 0, 1024, seed, 0, nic, nodes, nodes, l);
                    CpuMeter cpu = CpuMeter.start();
                    LockBenchResult r = LockBenchRun.run(LockDesigns.byName(d, nic.dilation()), s);
                    rows.add(new Row(v.name(), l, r, cpu.busyCores()));
                }
                print(o, rows, v.name(), l, names);
            }
        }
        summary(o, vs, rows, names);
        Files.createDirectories(out);
        Path json = out.resolve("alock.json");
        writeJson(json, vs, rows, names, thr, dur);
        o.println("json: " + json.toAbsolutePath());
        for (NicVariant v : vs) {
            Path png = out.resolve("alock-" + v.name() + ".png");
            chart(png, v, rows);
            o.println("chart: " + png.toAbsolutePath());
        }
        return 0;
    }

    private static Row row(List<Row> rows, String variant, double local, String design) {
        for (Row r : rows) {
            if (r.variant.equals(variant) && r.local == local && r.result.lock().equals(design)) {
                return r;
            }
        }
        return null;
    }

    private static void print(PrintStream o, List<Row> rows, String variant, double local, List<String> names) {
        Row a = row(rows, variant, local, "alock");
        o.println();
        o.printf(Locale.ROOT, "%.0f%% local accesses [%s, MODELLED, dilated]  (paper: %s, %s)%n", 100 * local, variant,
                PAPER_THROUGHPUT, PAPER_LATENCY);
        o.printf("%-17s %12s %10s %10s %10s %14s %14s %7s%n", "design", "ops/s", "p50 us", "p99 us", "verbs/op",
                "alock x ops/s", "p50 / alock's", "cores");
        for (String d : names) {
            Row r = row(rows, variant, local, d);
            o.printf(Locale.ROOT, "%-17s %12.0f %10.1f %10.1f %10.3f %13.2fx %13.2fx %7.2f%n", d,
                    r.result.throughputOpsPerSecond(), r.result.p50Micros(), r.result.p99Micros(), r.result.mnVerbsPerOp(),
                    a.result.throughputOpsPerSecond() / r.result.throughputOpsPerSecond(),
                    r.result.p50Micros() / a.result.p50Micros(), r.busyCores);
        }
    }

    private void summary(PrintStream o, List<NicVariant> vs, List<Row> rows, List<String> names) {
        o.println();
        o.println("Claims of ALock beside ours (ours MODELLED)");
        for (NicVariant v : vs) {
            double bestThr = 0;
            String thrAt = "-";
            double bestLat = 0;
            String latAt = "-";
            for (double l : local) {
                Row a = row(rows, v.name(), l, "alock");
                for (String d : names) {
                    if (d.equals("alock")) {
                        continue;
                    }
                    Row r = row(rows, v.name(), l, d);
                    double t = a.result.throughputOpsPerSecond() / r.result.throughputOpsPerSecond();
                    double lat = r.result.p50Micros() / a.result.p50Micros();
                    if (t > bestThr) {
                        bestThr = t;
                        thrAt = String.format(Locale.ROOT, "against %s at %.0f%% local", d, 100 * l);
                    }
                    if (lat > bestLat) {
                        bestLat = lat;
                        latAt = String.format(Locale.ROOT, "against %s at %.0f%% local", d, 100 * l);
                    }
                }
            }
            o.printf(Locale.ROOT, "  [%s, x%.0f] throughput: paper %s; ours up to %.2fx (%s)%n", v.name(),
                    v.config().dilation(), PAPER_THROUGHPUT, bestThr, thrAt);
            o.printf(Locale.ROOT, "  [%s, x%.0f] p50 latency: paper %s; ours up to %.2fx lower (%s)%n", v.name(),
                    v.config().dilation(), PAPER_LATENCY, bestLat, latAt);
        }
    }

    private void writeJson(Path json, List<NicVariant> vs, List<Row> rows, List<String> names, int thr, double dur)
            throws java.io.IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("claim", "alock");
        doc.put("figures", "modelled");
        doc.put("paper", Map.of("throughput", PAPER_THROUGHPUT, "latency", PAPER_LATENCY));
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("short", shortMode);
        cfg.put("designs", names);
        cfg.put("nodes", nodes);
        cfg.put("threads_per_node", thr);
        cfg.put("locks_per_node", locks);
        cfg.put("duration_s", dur);
        cfg.put("seed", seed);
        doc.put("config", cfg);
        List<Map<String, Object>> vds = new ArrayList<>();
        for (NicVariant v : vs) {
            Map<String, Object> vd = new LinkedHashMap<>();
            vd.put("variant", v.name());
            vd.put("nic_model", v.config().asMap());
            List<Map<String, Object>> rs = new ArrayList<>();
            for (Row r : rows) {
                if (!r.variant.equals(v.name())) {
                    continue;
                }
                Row a = row(rows, v.name(), r.local, "alock");
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("local", r.local);
                m.put("lock", r.result.lock());
                m.put("throughput_ops_s_dilated", r.result.throughputOpsPerSecond());
                m.put("p50_us_dilated", r.result.p50Micros());
                m.put("p99_us_dilated", r.result.p99Micros());
                m.put("mn_verbs_per_op", r.result.mnVerbsPerOp());
                m.put("alock_throughput_ratio", a.result.throughputOpsPerSecond() / r.result.throughputOpsPerSecond());
                m.put("p50_over_alock", r.result.p50Micros() / a.result.p50Micros());
                m.put("busy_cores", r.busyCores);
                rs.add(m);
            }
            vd.put("results", rs);
            vds.add(vd);
        }
        doc.put("variants", vds);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
    }

    private static void chart(Path png, NicVariant v, List<Row> rows) throws java.io.IOException {
        String tag = String.format(Locale.ROOT, " [MODELLED %s, x%.0f]", v.name(), v.config().dilation());
        ReproductionChart.Panel thr = new ReproductionChart.Panel("Lock table ops/s" + tag, "ops/s (dilated)", true).linearX();
        ReproductionChart.Panel lat = new ReproductionChart.Panel("Acquire p50 latency" + tag, "us (dilated)", true).linearX();
        for (Row r : rows) {
            if (r.variant.equals(v.name())) {
                thr.point(r.result.lock(), 100 * r.local, r.result.throughputOpsPerSecond());
                lat.point(r.result.lock(), 100 * r.local, r.result.p50Micros());
            }
        }
        ReproductionChart.write(List.of(thr, lat), "% local accesses", png);
    }
}
