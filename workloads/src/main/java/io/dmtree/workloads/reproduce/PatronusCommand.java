package io.dmtree.workloads.reproduce;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dmtree.lock.LockDesigns;
import io.dmtree.workloads.kv.KvShape;
import io.dmtree.workloads.ycsb.Contestant;
import io.dmtree.workloads.ycsb.CoreWorkload;
import io.dmtree.workloads.ycsb.KeySpace;
import io.dmtree.workloads.ycsb.OperationStream;
import io.dmtree.workloads.ycsb.OperationType;
import io.dmtree.workloads.ycsb.RequestDistribution;
import io.dmtree.workloads.ycsb.StreamShare;
import io.dmtree.workloads.ycsb.SystemResult;
import io.dmtree.workloads.ycsb.ValueSource;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code dmtree reproduce patronus}: Patronus's claim that fine-grained, leased permissions on
 * disaggregated memory cost 2.4–27.7% of throughput, measured on dmtree: the same index over tcp
 * on loopback with protection on (a cluster secret proved by every connection, every verb checked
 * against its sender's leased rights, {@link ProtectedTcpSystem}) and off (no secret,
 * {@code tcp.rights=off}), side by side in one run, on YCSB A and C.
 *
 * <p>Each round starts both clusters, loads both with the same records and runs the same pre-drawn
 * operation stream on both, slice by slice in turns (on, off, on, off, ... with the first of each
 * round alternating), so a change in the host's load falls on both alike. A round's figure is the
 * ratio of their throughputs; the figure printed is the median over rounds. Figures are measured
 * (no model), on a host whose other load this command cannot see: a ratio near 1 with spread
 * across rounds says the cost is below the host's noise, not that it is zero.
 */
@Command(name = "patronus", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = {"Patronus's claim (protection costs 2.4-27.7%% of throughput): dmtree over tcp with protection"
                + " on vs off, side by side in one run, YCSB A and C (measured)."})
public final class PatronusCommand implements Callable<Integer> {
    static final String PAPER = "protection costs 2.4-27.7% of throughput";
    static final double GOAL = 0.10;

    @Spec
    CommandSpec spec;

    @Option(names = "--short", description = "small sizes: one round, a few thousand operations (well under a minute)")
    boolean shortMode;

    @Option(names = "--workloads", split = ",", defaultValue = "A,C", description = "YCSB core workloads")
    List<String> workloads;

    @Option(names = "--records", description = "records loaded (default 20000; --short: 2000)")
    Long records;

    @Option(names = "--ops", description = "operations per run (default 100000; --short: 6000)")
    Integer ops;

    @Option(names = "--threads", description = "worker threads (default 2)")
    Integer threads;

    @Option(names = "--cns", defaultValue = "1", description = "compute nodes per cluster (in this JVM)")
    int cns;

    @Option(names = "--rounds", description = "rounds, each with fresh clusters (default 3; --short: 1)")
    Integer rounds;

    @Option(names = "--slices", description = "turns each system takes per run (default 10; --short: 4)")
    Integer slices;

    @Option(names = "--lock", defaultValue = "modular", description = "lock design")
    String lock;

    @Option(names = "--lease", defaultValue = "10000", paramLabel = "MS", description = "lease of every member")
    int leaseMillis;

    @Option(names = "--out", defaultValue = "reproduce", description = "directory for the JSON and the PNG chart")
    Path out;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the records and the operation streams")
    long seed;

    @Option(names = "--baseline", defaultValue = "unprotected", description = "the off side: unprotected (no secret,"
            + " tcp.rights=off) or no-chunk-owners (protection on with tcp.chunk-owners=off: the cost of the chunk"
            + " table's per-owner rules alone)")
    String baseline;

    /** One round of one workload: both systems' results from the same run. */
    record Round(String workload, int round, SystemResult on, SystemResult off) {
        double ratio() {
            return on.throughputOpsPerSec() / off.throughputOpsPerSec();
        }
    }

    private CommandLine.ParameterException bad(String m) {
        return new CommandLine.ParameterException(spec.commandLine(), m);
    }

    @Override
    public Integer call() throws Exception {
        long recs = records != null ? records : shortMode ? 2_000 : 20_000;
        int n = ops != null ? ops : shortMode ? 6_000 : 100_000;
        int thr = threads != null ? threads : 2;
        int rs = rounds != null ? rounds : shortMode ? 1 : 3;
        int sl = slices != null ? slices : shortMode ? 4 : 10;
        if (recs < 1 || recs > 10_000_000 || n < 1 || thr < 1 || thr > 64 || cns < 1 || cns > 8 || rs < 1 || rs > 100
                || sl < 1 || sl > n || leaseMillis < 1000 || leaseMillis > 600_000) {
            throw bad("need --records in [1, 10^7], --ops >= 1, --threads in [1, 64], --cns in [1, 8], --rounds in [1, 100],"
                    + " --slices in [1, ops], --lease in [1000, 600000] ms");
        }
        if (!LockDesigns.names().contains(lock)) {
            throw bad("unknown lock design '" + lock + "'; known: " + String.join(", ", LockDesigns.names()));
        }
        List<CoreWorkload> wls = new ArrayList<>();
        for (String w : workloads) {
            CoreWorkload c;
            try {
                c = CoreWorkload.valueOf(w.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw bad("unknown YCSB workload '" + w + "'; known: " + Arrays.toString(CoreWorkload.values()));
            }
            if (wls.contains(c)) {
                throw bad("workload " + c + " is listed twice");
            }
            wls.add(c);
        }
        if (!baseline.equals("unprotected") && !baseline.equals("no-chunk-owners")) {
            throw bad("--baseline is unprotected or no-chunk-owners, not '" + baseline + "'");
        }
        PrintStream o = System.out;
        if (ownersOnly()) {
            o.println("baseline no-chunk-owners: 'off' below is protection on with tcp.chunk-owners=off, so on/off is the"
                    + " cost of the chunk table's per-owner rules alone");
        }
        o.printf(Locale.ROOT, "dmtree reproduce patronus%s: protection on vs off over tcp (loopback, this JVM), %d records,"
                        + " %d operations per run, %d thread(s), %d CN, lock %s, %d round(s) of %d turns; %d cores; MEASURED"
                        + " on a shared host%n", shortMode ? " --short" : "", recs, n, thr, cns, lock, rs, sl,
                Runtime.getRuntime().availableProcessors());
        KvShape shape = new KvShape(8, 8, recs + n, thr);
        List<Round> done = new ArrayList<>();
        for (CoreWorkload w : wls) {
            OperationStream stream = OperationStream.generate(w, RequestDistribution.ZIPFIAN, recs, n, seed);
            KvShape sized = new KvShape(8, 8, recs + stream.inserts(), thr);
            for (int r = 0; r < rs; r++) {
                done.add(round(w, r, stream, sized, sl));
                Round last = done.get(done.size() - 1);
                o.printf(Locale.ROOT, "  %s round %d: on %.0f ops/s, off %.0f ops/s, on/off %.3f%n", w, r + 1,
                        last.on.throughputOpsPerSec(), last.off.throughputOpsPerSec(), last.ratio());
            }
        }
        o.println();
        o.printf("%-9s %12s %12s %8s %8s %10s %10s %10s %10s %9s %9s%n", "workload", "off ops/s", "on ops/s", "on/off",
                "cost", "off p50us", "on p50us", "off p99us", "on p99us", "off v/op", "on v/op");
        Map<String, Double> costs = new LinkedHashMap<>();
        for (CoreWorkload w : wls) {
            List<Round> mine = done.stream().filter(x -> x.workload.equals(w.name())).toList();
            double ratio = median(mine.stream().mapToDouble(Round::ratio).toArray());
            Round mid = medianRound(mine, ratio);
            costs.put(w.name(), 1 - ratio);
            o.printf(Locale.ROOT, "%-9s %12.0f %12.0f %8.3f %7.1f%% %10.1f %10.1f %10.1f %10.1f %9.2f %9.2f%n", "YCSB " + w,
                    median(mine.stream().mapToDouble(x -> x.off.throughputOpsPerSec()).toArray()),
                    median(mine.stream().mapToDouble(x -> x.on.throughputOpsPerSec()).toArray()), ratio, 100 * (1 - ratio),
                    micros(mid.off, 50), micros(mid.on, 50), micros(mid.off, 99), micros(mid.on, 99), verbsPerOp(mid.off),
                    verbsPerOp(mid.on));
        }
        o.println();
        o.println("Patronus's claim beside ours (ours MEASURED, median over rounds of the on/off ratio from one run each):");
        for (Map.Entry<String, Double> e : costs.entrySet()) {
            o.printf(Locale.ROOT, "  YCSB %s: paper %s; ours %.1f%% (goal <= %.0f%%)%s%n", e.getKey(), PAPER, 100 * e.getValue(),
                    100 * GOAL, e.getValue() < 0 ? " - negative: the difference is below this host's noise" : "");
        }
        Files.createDirectories(out);
        Path json = out.resolve("patronus.json");
        writeJson(json, done, costs, recs, n, thr, rs, sl);
        o.println("json: " + json.toAbsolutePath());
        Path png = out.resolve("patronus.png");
        chart(png, done, wls);
        o.println("chart: " + png.toAbsolutePath());
        return 0;
    }

    private boolean ownersOnly() {
        return "no-chunk-owners".equals(baseline);
    }

    private Round round(CoreWorkload w, int r, OperationStream stream, KvShape shape, int sl) {
        KeySpace keys = new KeySpace(shape.keyBytes(), seed);
        keys.requireCapacity(shape.entries());
        ValueSource values = new ValueSource(shape.valueBytes(), seed);
        Duration lease = Duration.ofMillis(leaseMillis);
        boolean onFirst = r % 2 == 0;
        List<Contestant> both = new ArrayList<>();
        try {
            for (boolean protection : onFirst ? new boolean[]{true, false} : new boolean[]{false, true}) {
                both.add(new Contestant(ProtectedTcpSystem.start(protection || ownersOnly(), protection, shape, cns, lock,
                        lease), lock, shape.threads(),
                        StreamShare.WHOLE));
            }
            for (Contestant c : both) {
                c.load(StreamShare.WHOLE, stream.records(), shape, keys, values);
            }
            System.gc();
            for (Contestant c : both) {
                c.beforeRun();
            }
            for (int s = 0; s < sl; s++) {
                int from = (int) ((long) stream.size() * s / sl);
                int to = (int) ((long) stream.size() * (s + 1) / sl);
                for (Contestant c : both) {
                    c.runSlice(stream, from, to, shape, keys, values, x -> { });
                }
            }
            SystemResult first = both.get(0).result(stream);
            SystemResult second = both.get(1).result(stream);
            return onFirst ? new Round(w.name(), r, first, second) : new Round(w.name(), r, second, first);
        } finally {
            for (Contestant c : both) {
                c.close();
            }
        }
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    private static Round medianRound(List<Round> rounds, double ratio) {
        Round best = rounds.get(0);
        for (Round r : rounds) {
            if (Math.abs(r.ratio() - ratio) < Math.abs(best.ratio() - ratio)) {
                best = r;
            }
        }
        return best;
    }

    private static Histogram all(SystemResult r) {
        Histogram h = new Histogram(3);
        for (OperationType t : OperationType.values()) {
            Histogram x = r.latencies().get(t);
            if (x != null) {
                h.add(x);
            }
        }
        return h;
    }

    private static double micros(SystemResult r, double percentile) {
        return all(r).getValueAtPercentile(percentile) / 1e3;
    }

    private static double verbsPerOp(SystemResult r) {
        return r.memoryNodes() == null ? Double.NaN : r.memoryNodes().verbsPerOp();
    }

    private void writeJson(Path json, List<Round> done, Map<String, Double> costs, long recs, int n, int thr, int rs, int sl)
            throws java.io.IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("claim", "patronus");
        doc.put("figures", "measured");
        doc.put("paper", PAPER);
        doc.put("goal_cost", GOAL);
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("short", shortMode);
        cfg.put("carrier", "tcp (loopback, one JVM)");
        cfg.put("records", recs);
        cfg.put("operations", n);
        cfg.put("threads", thr);
        cfg.put("compute_nodes", cns);
        cfg.put("rounds", rs);
        cfg.put("slices", sl);
        cfg.put("lock", lock);
        cfg.put("lease_ms", leaseMillis);
        cfg.put("seed", seed);
        cfg.put("cores", Runtime.getRuntime().availableProcessors());
        doc.put("config", cfg);
        Map<String, Object> summary = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : costs.entrySet()) {
            summary.put(e.getKey(), Map.of("median_on_over_off", 1 - e.getValue(), "cost", e.getValue()));
        }
        doc.put("summary", summary);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Round r : done) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("workload", r.workload);
            m.put("round", r.round + 1);
            m.put("on_ops_s", r.on.throughputOpsPerSec());
            m.put("off_ops_s", r.off.throughputOpsPerSec());
            m.put("on_over_off", r.ratio());
            m.put("on_p50_us", micros(r.on, 50));
            m.put("off_p50_us", micros(r.off, 50));
            m.put("on_p99_us", micros(r.on, 99));
            m.put("off_p99_us", micros(r.off, 99));
            m.put("on_mn_verbs_per_op", verbsPerOp(r.on));
            m.put("off_mn_verbs_per_op", verbsPerOp(r.off));
            m.put("on_read_misses", r.on.readMisses());
            m.put("off_read_misses", r.off.readMisses());
            rows.add(m);
        }
        doc.put("rounds", rows);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
    }

    private static void chart(Path png, List<Round> done, List<CoreWorkload> wls) throws java.io.IOException {
        ReproductionChart.Panel thr = new ReproductionChart.Panel("Throughput, protection on vs off [MEASURED, tcp]",
                "ops/s", false).linearX();
        ReproductionChart.Panel ratio = new ReproductionChart.Panel("On / off per round (Patronus: 0.72-0.98)",
                "on/off", false).linearX();
        for (CoreWorkload w : wls) {
            for (Round r : done) {
                if (r.workload.equals(w.name())) {
                    thr.point("YCSB " + w + " off", r.round + 1, r.off.throughputOpsPerSec());
                    thr.point("YCSB " + w + " on", r.round + 1, r.on.throughputOpsPerSec());
                    ratio.point("YCSB " + w, r.round + 1, r.ratio());
                }
            }
        }
        ReproductionChart.write(List.of(thr, ratio), "round", png);
    }
}
