package io.dmtree.workloads.reproduce;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dmtree.core.nic.NicModelConfig;
import io.dmtree.lock.LockDesigns;
import io.dmtree.workloads.lockbench.LockBenchCommand;
import io.dmtree.workloads.lockbench.LockBenchResult;
import io.dmtree.workloads.lockbench.LockBenchRun;
import io.dmtree.workloads.ycsb.CoreWorkload;
import io.dmtree.workloads.ycsb.RequestDistribution;
import io.dmtree.workloads.ycsb.SystemResult;
import io.dmtree.workloads.ycsb.YcsbReport;
import io.dmtree.workloads.ycsb.YcsbRunner;
import io.dmtree.workloads.ycsb.YcsbSettings;
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
 * {@code dmtree reproduce lock-modularization}: the lock modularization paper's disaggregated-memory
 * claims on the modelled memory-node NIC, beside the paper's figures.
 * <ol>
 *   <li>MN verbs per acquire+release, every design, 1..64 modelled clients on one lock and on a
 *   zipfian lock set (the lock bench, {@link LockBenchRun}); paper: modularization cuts MN
 *   communication by over 95% under high contention.</li>
 *   <li>Index throughput on YCSB A, zipfian 0.99, a small key space, 8..64 clients, each design
 *   against {@code cas-spin} from the same run (the YCSB runner, {@link YcsbRunner}); paper: up to
 *   27.7x.</li>
 *   <li>The spinlock's drop from its best client count to the most clients; paper: more than 20x.</li>
 * </ol>
 * No compute node shares the memory node's host. Each runs under every {@link NicVariant}. Lock designs' time constants are scaled by the model's
 * dilation ({@link LockDesigns#byName(String, double)}). Writes JSON and one PNG per variant.
 */
@Command(name = "lock-modularization", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = {"The lock modularization paper's claims (MN verbs per lock operation; index throughput against"
                + " cas-spin; the spinlock's collapse) on the modelled memory-node NIC, beside the paper's figures."})
public final class LockModularizationCommand implements Callable<Integer> {
    static final String PAPER_VERBS = "over 95% less MN communication at high contention";
    static final String PAPER_INDEX = "index throughput up to 27.7x";
    static final String PAPER_DROP = "spinlock index throughput drops by more than 20x with dozens of clients";

    @Spec
    CommandSpec spec;

    @Option(names = "--short", description = "tiny sizes for CI: two designs, two client counts, short runs")
    boolean shortMode;

    @Option(names = "--designs", split = ",", description = "lock designs (default: all; --short: modular,cas-spin)")
    List<String> designs;

    @Option(names = "--clients", split = ",", description = "modelled clients of the lock figures (default 1,2,4,8,16,32,64;"
            + " --short: 1,8); up to 8 they are one per compute node, beyond that 8 compute nodes share them")
    List<Integer> clients;

    @Option(names = "--index-clients", split = ",", description = "modelled clients of the index figure (default 8,16,32,64;"
            + " --short: 8,16)")
    List<Integer> indexClients;

    @Option(names = "--zipf-locks", description = "locks of the zipfian lock set (zipf 0.99) (default 100; --short: 16)")
    Integer zipfLocks;

    @Option(names = "--duration", description = "measured seconds per lock-bench run (default 1; --short: 0.25)")
    Double duration;

    @Option(names = "--warmup", description = "warm-up seconds per lock-bench run (default 0.3; --short: 0.05)")
    Double warmup;

    @Option(names = "--records", defaultValue = "100", description = "records of the index (the small key space)")
    long records;

    @Option(names = "--ops", description = "YCSB operations per design and client count (default 6000; --short: 1500)")
    Integer ops;

    @Option(names = "--index-cns", defaultValue = "8", description = "compute nodes the index clients are spread over")
    int indexCns;

    @Option(names = "--variants", split = ",", defaultValue = "aside,hol",
            description = "NIC readings of contended atomics: aside (wait aside), hol (keep their unit)")
    List<String> variants;

    @Option(names = "--nic-option", paramLabel = "KEY=VALUE", description = "a modelled-NIC parameter over the defaults"
            + " (dilation, rtt-us, message-us, loopback-us, rw-mops, atomic-mops, same-address-mops, gbytes, units, spin-us)")
    List<String> nicOptions;

    @Option(names = "--figures", split = ",", defaultValue = "locks,index", description = "which figures: locks, index")
    List<String> figures;

    @Option(names = "--out", defaultValue = "reproduce", description = "directory for the JSON and the PNG charts")
    Path out;

    @Option(names = "--seed", defaultValue = "1", description = "seed of lock choices and of the operation stream")
    long seed;

    record LockRow(String variant, String lockSet, int clients, LockBenchResult result, double busyCores) {
    }

    record IndexRow(String variant, int clients, String lock, double opsPerSecond, double mnVerbsPerOp,
                    double casPerOp, double busyCores) {
    }

    private CommandLine.ParameterException bad(String m) {
        return new CommandLine.ParameterException(spec.commandLine(), m);
    }

    @Override
    public Integer call() throws Exception {
        List<String> names = designs != null && !designs.isEmpty() ? designs
                : shortMode ? List.of("modular", "cas-spin") : LockDesigns.names();
        for (String n : names) {
            if (!LockDesigns.names().contains(n)) {
                throw bad("unknown lock design '" + n + "'; known: " + String.join(", ", LockDesigns.names()));
            }
        }
        if (!names.contains("cas-spin")) {
            throw bad("--designs must include cas-spin: every ratio is against it");
        }
        List<Integer> lockClients = clients != null ? clients : shortMode ? List.of(1, 8) : List.of(1, 2, 4, 8, 16, 32, 64);
        List<Integer> idxClients = indexClients != null ? indexClients : shortMode ? List.of(8, 16) : List.of(8, 16, 32, 64);
        for (int c : lockClients) {
            if (c < 1 || c > 512 || (c > 8 && c % 8 != 0)) {
                throw bad("--clients values must be 1..8 or multiples of 8 up to 512: " + c);
            }
        }
        for (int c : idxClients) {
            if (c < 1 || c > 512) {
                throw bad("--index-clients values must be in [1, 512]: " + c);
            }
        }
        int zl = zipfLocks != null ? zipfLocks : shortMode ? 16 : 100;
        double dur = duration != null ? duration : shortMode ? 0.25 : 1.0;
        double warm = warmup != null ? warmup : shortMode ? 0.05 : 0.3;
        int n = ops != null ? ops : shortMode ? 1500 : 6000;
        if (zl < 2 || zl > 4096 || !(dur > 0) || !(warm >= 0) || n < 1 || records < 10 || indexCns < 1 || indexCns > 64) {
            throw bad("need --zipf-locks in [2, 4096], --duration > 0, --warmup >= 0, --ops >= 1, --records >= 10,"
                    + " --index-cns in [1, 64]");
        }
        for (String f : figures) {
            if (!f.equals("locks") && !f.equals("index")) {
                throw bad("--figures takes locks and index: " + f);
            }
        }
        List<NicVariant> vs;
        try {
            NicModelConfig base = LockBenchCommand.nicConfig(true, nicOptions);
            vs = NicVariant.of(variants, base);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }

        PrintStream o = System.out;
        o.println("dmtree reproduce lock-modularization" + (shortMode ? " --short" : "") + ": all figures are MODELLED");
        List<LockRow> lockRows = new ArrayList<>();
        List<IndexRow> indexRows = new ArrayList<>();
        for (NicVariant v : vs) {
            NicModelConfig nic = v.config();
            o.println();
            o.println("== NIC variant " + v.name() + ": " + nic.describe());
            o.printf(Locale.ROOT, "   lock designs' time constants x%.0f (the dilation)%n", nic.dilation());
            if (figures.contains("locks")) {
                for (String set : List.of("one lock", "zipf " + zl + " locks")) {
                    boolean one = set.equals("one lock");
                    for (int c : lockClients) {
                        int cns = Math.min(c, 8);
                        int thr = c / cns;
                        for (String d : names) {
                            LockBenchRun.Settings s = new LockBenchRun.Settings(cns, thr, one ? 1 : zl, 0.0,
                                    (long) (warm * 1e9), (long) (dur * 1e9), 0, 1024, seed, one ? 0 : 0.99, nic, 1, 0, -1);
                            CpuMeter cpu = CpuMeter.start();
                            LockBenchResult r = LockBenchRun.run(LockDesigns.byName(d, nic.dilation()), s);
                            lockRows.add(new LockRow(v.name(), set, c, r, cpu.busyCores()));
                        }
                    }
                    printLockTable(o, lockRows, v.name(), set, lockClients, names);
                }
            }
            if (figures.contains("index")) {
                for (int c : idxClients) {
                    YcsbSettings ys = new YcsbSettings(CoreWorkload.A, RequestDistribution.ZIPFIAN, records, n, c,
                            Math.min(indexCns, c), 1, 8, 8, seed, names, List.of(), 1);
                    CpuMeter cpu = CpuMeter.start();
                    YcsbReport rep = new YcsbRunner(ys, line -> { }).withNicModel(nic).run();
                    double cores = cpu.busyCores();
                    for (SystemResult r : rep.systems()) {
                        indexRows.add(new IndexRow(v.name(), c, r.lock(), r.throughputOpsPerSec(),
                                r.memoryNodes().verbsPerOp(), r.memoryNodes().casPerOp(), cores));
                    }
                }
                printIndexTable(o, indexRows, v.name(), idxClients, names);
            }
        }
        printSummary(o, vs, lockRows, indexRows, lockClients, idxClients, zl);
        Files.createDirectories(out);
        Path json = out.resolve("lock-modularization.json");
        writeJson(json, vs, lockRows, indexRows, names, zl, dur, n);
        o.println("json: " + json.toAbsolutePath());
        for (NicVariant v : vs) {
            Path png = out.resolve("lock-modularization-" + v.name() + ".png");
            writeChart(png, v, lockRows, indexRows, zl);
            o.println("chart: " + png.toAbsolutePath());
        }
        return 0;
    }

    private static LockRow lockRow(List<LockRow> rows, String variant, String set, int clients, String design) {
        for (LockRow r : rows) {
            if (r.variant.equals(variant) && r.lockSet.equals(set) && r.clients == clients && r.result.lock().equals(design)) {
                return r;
            }
        }
        return null;
    }

    private static IndexRow indexRow(List<IndexRow> rows, String variant, int clients, String design) {
        for (IndexRow r : rows) {
            if (r.variant.equals(variant) && r.clients == clients && r.lock.equals(design)) {
                return r;
            }
        }
        return null;
    }

    /** "97.2% fewer" or "50.0% more": {@code verbs} against {@code base}. */
    static String fewer(double verbs, double base) {
        double f = 1 - verbs / base;
        return f >= 0 ? String.format(Locale.ROOT, "%.1f%% fewer", 100 * f) : String.format(Locale.ROOT, "%.1f%% more", -100 * f);
    }

    private static void printLockTable(PrintStream o, List<LockRow> rows, String variant, String set, List<Integer> clients,
                                       List<String> names) {
        o.println();
        o.println("MN verbs per acquire+release, " + set + " [" + variant + ", MODELLED]  (paper: " + PAPER_VERBS + ")");
        o.printf("%-8s", "clients");
        for (String d : names) {
            o.printf(" %16s", d);
        }
        o.printf(" %16s %12s %10s%n", "modular vs cas", "modular x/s", "cores");
        for (int c : clients) {
            o.printf("%-8d", c);
            for (String d : names) {
                LockRow r = lockRow(rows, variant, set, c, d);
                o.printf(Locale.ROOT, " %16.3f", r.result.mnVerbsPerOp());
            }
            LockRow m = lockRow(rows, variant, set, c, "modular");
            LockRow cas = lockRow(rows, variant, set, c, "cas-spin");
            String red = m == null ? "-" : fewer(m.result.mnVerbsPerOp(), cas.result.mnVerbsPerOp());
            String thr = m == null ? "-" : String.format(Locale.ROOT, "%.2fx",
                    m.result.throughputOpsPerSecond() / cas.result.throughputOpsPerSecond());
            o.printf(Locale.ROOT, " %16s %12s %10.2f%n", red, thr, cas.busyCores);
        }
    }

    private static void printIndexTable(PrintStream o, List<IndexRow> rows, String variant, List<Integer> clients,
                                        List<String> names) {
        o.println();
        o.println("Index throughput, YCSB A zipf 0.99, ratio to cas-spin at the same clients [" + variant
                + ", MODELLED, dilated ops/s]  (paper: " + PAPER_INDEX + ")");
        o.printf("%-8s %12s", "clients", "cas-spin/s");
        for (String d : names) {
            o.printf(" %16s", d);
        }
        o.printf(" %14s %10s%n", "cas-spin CAS/op", "cores");
        for (int c : clients) {
            IndexRow cas = indexRow(rows, variant, c, "cas-spin");
            o.printf(Locale.ROOT, "%-8d %12.0f", c, cas.opsPerSecond);
            for (String d : names) {
                IndexRow r = indexRow(rows, variant, c, d);
                o.printf(Locale.ROOT, " %15.2fx", r.opsPerSecond / cas.opsPerSecond);
            }
            o.printf(Locale.ROOT, " %14.2f %10.2f%n", cas.casPerOp, cas.busyCores);
        }
    }

    private static void printSummary(PrintStream o, List<NicVariant> vs, List<LockRow> lockRows, List<IndexRow> indexRows,
                                     List<Integer> lockClients, List<Integer> idxClients, int zl) {
        o.println();
        o.println("Claims of the lock modularization paper beside ours (ours MODELLED; one column per NIC variant)");
        StringBuilder head = new StringBuilder(String.format("%-58s %-40s", "figure", "paper"));
        for (NicVariant v : vs) {
            head.append(String.format(" %-22s", v.name() + String.format(Locale.ROOT, " (x%.0f)", v.config().dilation())));
        }
        o.println(head);
        int maxC = lockClients.stream().mapToInt(Integer::intValue).max().orElse(1);
        for (String set : List.of("one lock", "zipf " + zl + " locks")) {
            StringBuilder line = new StringBuilder(String.format("%-58s %-40s",
                    "MN verbs, modular vs cas-spin, " + maxC + " clients, " + set, "over 95% fewer"));
            for (NicVariant v : vs) {
                LockRow m = lockRow(lockRows, v.name(), set, maxC, "modular");
                LockRow c = lockRow(lockRows, v.name(), set, maxC, "cas-spin");
                line.append(String.format(Locale.ROOT, " %-22s", m == null || c == null ? "-"
                        : fewer(m.result.mnVerbsPerOp(), c.result.mnVerbsPerOp())));
            }
            o.println(line);
        }
        StringBuilder best = new StringBuilder(String.format("%-58s %-40s", "index, modular / cas-spin, best over "
                + idxClients + " clients", "up to 27.7x"));
        StringBuilder drop = new StringBuilder(String.format("%-58s %-40s", "index, cas-spin best / at most clients",
                "more than 20x"));
        for (NicVariant v : vs) {
            double bestRatio = -1;
            int at = -1;
            double casBest = 0;
            double casLast = -1;
            int maxIdx = idxClients.stream().mapToInt(Integer::intValue).max().orElse(1);
            for (int c : idxClients) {
                IndexRow m = indexRow(indexRows, v.name(), c, "modular");
                IndexRow cas = indexRow(indexRows, v.name(), c, "cas-spin");
                if (m == null || cas == null) {
                    continue;
                }
                double ratio = m.opsPerSecond / cas.opsPerSecond;
                if (ratio > bestRatio) {
                    bestRatio = ratio;
                    at = c;
                }
                casBest = Math.max(casBest, cas.opsPerSecond);
                if (c == maxIdx) {
                    casLast = cas.opsPerSecond;
                }
            }
            best.append(String.format(Locale.ROOT, " %-22s", bestRatio < 0 ? "-"
                    : String.format(Locale.ROOT, "%.2fx at %d", bestRatio, at)));
            drop.append(String.format(Locale.ROOT, " %-22s", casLast <= 0 ? "-"
                    : String.format(Locale.ROOT, "%.2fx", casBest / casLast)));
        }
        o.println(best);
        o.println(drop);
    }

    private void writeJson(Path json, List<NicVariant> vs, List<LockRow> lockRows, List<IndexRow> indexRows,
                           List<String> names, int zl, double dur, int n) throws java.io.IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("claim", "lock-modularization");
        doc.put("figures", "modelled");
        Map<String, Object> paper = new LinkedHashMap<>();
        paper.put("mn_verbs", PAPER_VERBS);
        paper.put("index", PAPER_INDEX);
        paper.put("spinlock_drop", PAPER_DROP);
        doc.put("paper", paper);
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("short", shortMode);
        cfg.put("designs", names);
        cfg.put("zipf_locks", zl);
        cfg.put("lock_duration_s", dur);
        cfg.put("records", records);
        cfg.put("ops", n);
        cfg.put("index_cns", indexCns);
        cfg.put("seed", seed);
        doc.put("config", cfg);
        List<Map<String, Object>> variantDocs = new ArrayList<>();
        for (NicVariant v : vs) {
            Map<String, Object> vd = new LinkedHashMap<>();
            vd.put("variant", v.name());
            vd.put("nic_model", v.config().asMap());
            List<Map<String, Object>> locks = new ArrayList<>();
            for (LockRow r : lockRows) {
                if (!r.variant.equals(v.name())) {
                    continue;
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("lock_set", r.lockSet);
                m.put("clients", r.clients);
                m.put("lock", r.result.lock());
                m.put("mn_verbs_per_op", r.result.mnVerbsPerOp());
                m.put("mn_round_trips_per_op", r.result.mnRoundTripsPerOp());
                m.put("throughput_ops_s_dilated", r.result.throughputOpsPerSecond());
                m.put("p50_us_dilated", r.result.p50Micros());
                m.put("p99_us_dilated", r.result.p99Micros());
                m.put("busy_cores", r.busyCores);
                locks.add(m);
            }
            vd.put("lock_verbs", locks);
            List<Map<String, Object>> idx = new ArrayList<>();
            for (IndexRow r : indexRows) {
                if (!r.variant.equals(v.name())) {
                    continue;
                }
                IndexRow cas = indexRow(indexRows, v.name(), r.clients, "cas-spin");
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("clients", r.clients);
                m.put("lock", r.lock);
                m.put("throughput_ops_s_dilated", r.opsPerSecond);
                m.put("vs_cas_spin", r.opsPerSecond / cas.opsPerSecond);
                m.put("mn_verbs_per_op", r.mnVerbsPerOp);
                m.put("cas_per_op", r.casPerOp);
                m.put("busy_cores", r.busyCores);
                idx.add(m);
            }
            vd.put("index", idx);
            variantDocs.add(vd);
        }
        doc.put("variants", variantDocs);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
    }

    private static void writeChart(Path png, NicVariant v, List<LockRow> lockRows, List<IndexRow> indexRows, int zl)
            throws java.io.IOException {
        String tag = String.format(Locale.ROOT, " [MODELLED %s, x%.0f]", v.name(), v.config().dilation());
        List<ReproductionChart.Panel> panels = new ArrayList<>();
        for (String set : List.of("one lock", "zipf " + zl + " locks")) {
            ReproductionChart.Panel p = new ReproductionChart.Panel("MN verbs per acquire+release, " + set + tag,
                    "MN verbs / op", true);
            for (LockRow r : lockRows) {
                if (r.variant.equals(v.name()) && r.lockSet.equals(set)) {
                    p.point(r.result.lock(), r.clients, r.result.mnVerbsPerOp());
                }
            }
            if (!p.series.isEmpty()) {
                panels.add(p);
            }
        }
        ReproductionChart.Panel thr = new ReproductionChart.Panel("Index ops/s, YCSB A zipf 0.99" + tag, "ops/s (dilated)", true);
        ReproductionChart.Panel ratio = new ReproductionChart.Panel("Index throughput / cas-spin" + tag, "x cas-spin", true);
        for (IndexRow r : indexRows) {
            if (r.variant.equals(v.name())) {
                thr.point(r.lock, r.clients, r.opsPerSecond);
                IndexRow cas = indexRow(indexRows, v.name(), r.clients, "cas-spin");
                ratio.point(r.lock, r.clients, r.opsPerSecond / cas.opsPerSecond);
            }
        }
        if (!thr.series.isEmpty()) {
            panels.add(thr);
            panels.add(ratio);
        }
        if (!panels.isEmpty()) {
            ReproductionChart.write(panels, "modelled clients", png);
        }
    }
}
