package io.dmtree.workloads.lockbench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.nic.NicModelConfig;
import io.dmtree.lock.LockDesigns;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code dmtree lockbench}: every lock design, side by side, at several contention levels on
 * logical compute nodes in this JVM. Prints throughput, acquire latency and the exact MN traffic
 * of the lock per acquire+release, with ratios against {@code cas-spin} from the same run; writes a
 * PNG chart and, on request, JSON. {@code dmtree lockbench recovery} measures recovery instead
 * ({@link LockRecoveryCommand}).
 */
@Command(name = "lockbench", sortOptions = false, mixinStandardHelpOptions = true, showDefaultValues = true,
        subcommands = LockRecoveryCommand.class,
        description = {"Compare lock designs at several contention levels (waiters per lock = cns x threads / locks).",
                "Critical section: READ the lock's node (--node-bytes), and for exclusive holds write 64 bytes back"
                        + " in the release batch; those two verbs are not counted as lock traffic."})
public final class LockBenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--designs", split = ",", description = "lock designs to run (default: all: ${COMPLETION-CANDIDATES})",
            completionCandidates = DesignNames.class)
    List<String> designs;

    @Option(names = "--cns", defaultValue = "2", description = "logical compute nodes")
    int cns;

    @Option(names = "--threads", split = ",", defaultValue = "1,4,16",
            description = "threads per compute node; a list runs one contention level per value")
    List<Integer> threads;

    @Option(names = "--locks", defaultValue = "2", description = "locks the threads pick from uniformly")
    int locks;

    @Option(names = "--shared-ratio", defaultValue = "0.0", description = "fraction of acquisitions in shared mode")
    double sharedRatio;

    @Option(names = "--duration", defaultValue = "2", description = "measured seconds per design and level")
    double duration;

    @Option(names = "--warmup", defaultValue = "0.5", description = "warm-up seconds before each measured run")
    double warmup;

    @Option(names = "--modelled-rtt-us", defaultValue = "0",
            description = "modelled MN round trip in microseconds (0: none); throughput and latency are then modelled")
    double modelledRttMicros;

    @Option(names = "--lock-zipf", defaultValue = "0", paramLabel = "THETA",
            description = "0: threads pick locks uniformly; else zipfian with this skew (e.g. 0.99), lock 0 hottest")
    double lockZipf;

    @Option(names = "--nic", description = "run every verb and message through the modelled memory-node NIC"
            + " (figures are then modelled; defaults from published ConnectX measurements, see --nic-option)")
    boolean nicModel;

    @Option(names = "--nic-option", paramLabel = "KEY=VALUE",
            description = "a modelled-NIC parameter (implies --nic): dilation, rtt-us, message-us, loopback-us, rw-mops,"
                    + " atomic-mops, same-address-mops, gbytes, units, atomic-hol, local-us, spin-us")
    List<String> nicOptions;

    @Option(names = "--node-bytes", defaultValue = "1024", description = "bytes of the node READ in the critical section")
    int nodeBytes;

    @Option(names = "--seed", description = "seed of the lock and mode choices (default: time)")
    Long seed;

    @Option(names = "--json", description = "write the results as JSON to this file")
    Path json;

    @Option(names = "--chart", defaultValue = "lockbench.png", description = "PNG chart of throughput and MN verbs per op")
    Path chart;

    /** Completion candidates and default of --designs. */
    static final class DesignNames extends ArrayList<String> {
        DesignNames() {
            super(LockDesigns.names());
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new LockBenchCommand()).execute(args));
    }

    /** The designs named by {@code --designs} (all when none are named); an unknown name is a usage error. */
    static List<LockDesign> chosenDesigns(CommandSpec spec, List<String> designs) {
        List<String> names = designs == null || designs.isEmpty() ? LockDesigns.names() : designs;
        List<LockDesign> chosen = new ArrayList<>();
        for (String n : names) {
            try {
                chosen.add(LockDesigns.byName(n.trim()));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        return chosen;
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    @Override
    public Integer call() throws Exception {
        List<LockDesign> chosen = chosenDesigns(spec, designs);
        if (cns < 1 || cns > 64) {
            throw bad("--cns must be in [1, 64]: " + cns);
        }
        if (locks < 1) {
            throw bad("--locks must be positive: " + locks);
        }
        for (int t : threads) {
            if (t < 1 || t > 512) {
                throw bad("--threads values must be in [1, 512]: " + t);
            }
        }
        if (!(sharedRatio >= 0 && sharedRatio <= 1)) {
            throw bad("--shared-ratio must be in [0, 1]: " + sharedRatio);
        }
        if (!(duration > 0) || !(warmup >= 0) || !(modelledRttMicros >= 0)) {
            throw bad("--duration must be positive, --warmup and --modelled-rtt-us not negative");
        }
        if (nodeBytes < 64 || nodeBytes > 1 << 20) {
            throw bad("--node-bytes must be in [64, 1048576]: " + nodeBytes);
        }
        if (!(lockZipf >= 0 && lockZipf < 1) && lockZipf != 0) {
            throw bad("--lock-zipf must be 0 (uniform) or in (0, 1): " + lockZipf);
        }
        NicModelConfig nic;
        try {
            nic = nicConfig(nicModel, nicOptions);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        if (nic != null && modelledRttMicros > 0) {
            throw bad("--modelled-rtt-us and the NIC model exclude each other (the model has its own round trip, rtt-us)");
        }
        long runSeed = seed != null ? seed : System.nanoTime();
        PrintStream out = System.out;
        String modelled = nic != null ? " (" + nic.describe() + "; lock designs' time constants x"
                + Math.round(nic.dilation()) + ")" : modelledRttMicros > 0
                ? String.format(Locale.ROOT, " (MODELLED: every MN round trip parks %.1f us)", modelledRttMicros) : "";
        out.printf(Locale.ROOT, "lockbench: %d CNs, threads/CN %s, %d locks (%s), shared ratio %.2f, %.1f s per run, seed %d%s%n",
                cns, threads, locks, lockZipf > 0 ? "zipf " + lockZipf : "uniform", sharedRatio, duration, runSeed, modelled);

        List<LockBenchResult> results = new ArrayList<>();
        if (nic != null) {
            chosen = chosen.stream().map(d -> LockDesigns.byName(d.name(), nic.dilation())).toList();
        }
        for (int t : threads) {
            for (LockDesign d : chosen) {
                LockBenchRun.Settings s = new LockBenchRun.Settings(cns, t, locks, sharedRatio, (long) (warmup * 1e9),
                        (long) (duration * 1e9), (long) (modelledRttMicros * 1e3), nodeBytes, runSeed, lockZipf, nic);
                LockBenchResult r;
                try {
                    r = LockBenchRun.run(d, s);
                } catch (IllegalArgumentException e) {
                    out.printf("  %s at %d threads/CN cannot run: %s%n", d.name(), t, e.getMessage());
                    continue;
                }
                results.add(r);
                out.printf(Locale.ROOT, "  %-17s threads/CN %3d: %,12.0f ops/s  p50 %8.1f us  p99 %9.1f us  %8.3f MN verbs/op%n",
                        r.lock(), t, r.throughputOpsPerSecond(), r.p50Micros(), r.p99Micros(), r.mnVerbsPerOp());
            }
        }
        printTable(out, results, modelled);
        List<AdaptiveAgainstBest.Row> adaptive = AdaptiveAgainstBest.compare(results, threads, LockBenchResult::threads);
        AdaptiveAgainstBest.print(out, nic != null || modelledRttMicros > 0 ? "MODELLED" : "measured (unmodelled)",
                "thr/CN", adaptive);
        if (chart != null && !results.isEmpty()) {
            LockBenchChart.write(results, String.format(Locale.ROOT, "(%d CNs, %d locks%s)", cns, locks,
                    nic != null ? String.format(Locale.ROOT, ", MODELLED NIC, dilation %.0fx", nic.dilation())
                            : modelledRttMicros > 0 ? ", modelled RTT" : ""), chart);
            out.println("chart: " + chart.toAbsolutePath());
        }
        if (json != null) {
            writeJson(results, adaptive, runSeed, nic);
            out.println("json: " + json.toAbsolutePath());
        }
        return 0;
    }

    private void printTable(PrintStream out, List<LockBenchResult> results, String modelled) {
        out.println();
        out.println("Results" + modelled + "; ratios are against cas-spin at the same level in this run");
        out.printf("%-17s %8s %4s %8s %5s %14s %10s %10s %10s %9s %11s %11s%n", "design", "waiters", "cns",
                "thr/CN", "locks", "ops/s", "p50 us", "p99 us", "verbs/op", "RTs/op", "thr x cas", "verbs x cas");
        for (LockBenchResult r : results) {
            LockBenchResult base = results.stream().filter(b -> b.lock().equals("cas-spin") && b.threads() == r.threads())
                    .findFirst().orElse(null);
            String thr = base == null || base.throughputOpsPerSecond() == 0 ? "-"
                    : String.format(Locale.ROOT, "%.2f", r.throughputOpsPerSecond() / base.throughputOpsPerSecond());
            String vb = base == null || base.mnVerbsPerOp() == 0 ? "-"
                    : String.format(Locale.ROOT, "%.4f", r.mnVerbsPerOp() / base.mnVerbsPerOp());
            out.printf(Locale.ROOT, "%-17s %8.1f %4d %8d %5d %,14.0f %10.1f %10.1f %10.3f %9.3f %11s %11s%n",
                    r.lock(), r.waitersPerLock(), r.cns(), r.threads(), r.locks(), r.throughputOpsPerSecond(),
                    r.p50Micros(), r.p99Micros(), r.mnVerbsPerOp(), r.mnRoundTripsPerOp(), thr, vb);
        }
    }

    /** The NIC model asked for by {@code --nic} and {@code --nic-option}s, or null. */
    public static NicModelConfig nicConfig(boolean on, List<String> options) {
        if (!on && (options == null || options.isEmpty())) {
            return null;
        }
        return NicModelConfig.fromCarrierOptions(CarrierOptions.parse(
                options == null ? List.of() : options.stream().map(o -> "nic." + o.trim()).toList()));
    }

    private void writeJson(List<LockBenchResult> results, List<AdaptiveAgainstBest.Row> adaptive, long runSeed,
                           NicModelConfig nic) throws java.io.IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("cns", cns);
        config.put("threads", threads);
        config.put("locks", locks);
        config.put("shared_ratio", sharedRatio);
        config.put("duration_s", duration);
        config.put("modelled_rtt_us", modelledRttMicros);
        config.put("node_bytes", nodeBytes);
        config.put("lock_zipf", lockZipf);
        config.put("figures", nic != null || modelledRttMicros > 0 ? "modelled" : "measured");
        if (nic != null) {
            config.put("nic_model", nic.asMap());
        }
        config.put("seed", runSeed);
        doc.put("config", config);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (LockBenchResult r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("lock", r.lock());
            row.put("cns", r.cns());
            row.put("threads", r.threads());
            row.put("locks", r.locks());
            row.put("waiters_per_lock", r.waitersPerLock());
            row.put("operations", r.operations());
            row.put("throughput_ops_s", r.throughputOpsPerSecond());
            row.put("mn_verbs_per_op", r.mnVerbsPerOp());
            row.put("mn_round_trips_per_op", r.mnRoundTripsPerOp());
            Map<String, Object> lat = new LinkedHashMap<>();
            lat.put("p50", r.p50Micros());
            lat.put("p99", r.p99Micros());
            lat.put("p999", r.p999Micros());
            row.put("latency_us", lat);
            rows.add(row);
        }
        doc.put("results", rows);
        if (!adaptive.isEmpty()) {
            doc.put("adaptive_vs_best_fixed", adaptive.stream().map(AdaptiveAgainstBest.Row::asMap).toList());
        }
        if (json.getParent() != null) {
            java.nio.file.Files.createDirectories(json.getParent());
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
    }
}
