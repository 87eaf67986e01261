package io.dmtree.workloads.reproduce;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dmtree.core.nic.NicModelConfig;
import io.dmtree.lock.LockDesigns;
import io.dmtree.workloads.lockbench.AdaptiveAgainstBest;
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
 *   <li>{@code adaptive} against the best fixed design at each client count, in both figures (goal:
 *   at least 0.95x everywhere), modelled and, with {@code --unmodelled}, on the plain local carrier
 *   (measured, no NIC model) for the lock figures.</li>
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

    @Option(names = "--designs", split = ",", description = "lock designs (default: all; --short: modular,cas-spin,adaptive)")
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

    @Option(names = "--unmodelled", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "also run the lock figures on the local carrier without the NIC model (measured), for the"
                    + " adaptive-against-best figure")
    boolean unmodelled;

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
                : shortMode ? List.of("modular", "cas-spin", "adaptive") : LockDesigns.names();
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
        String oneLock = "one lock";
        String zipfSet = "zipf " + zl + " locks";
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
                    AdaptiveAgainstBest.print(o, set + " [" + v.name() + ", MODELLED]", "clients",
                            adaptiveRows(lockRows, v.name(), set, lockClients));
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
                printIndexAdaptive(o, indexRows, v.name(), idxClients);
            }
        }
        if (unmodelled && figures.contains("locks")) {
            o.println();
            o.println("== unmodelled: the local carrier without the NIC model (MEASURED on this host, not modelled;"
                    + " its 2 cores are shared, so ratios are noisy)");
            for (String set : List.of(oneLock, zipfSet)) {
                boolean one = set.equals(oneLock);
                for (int c : lockClients) {
                    int cns = Math.min(c, 8);
                    int thr = c / cns;
                    for (String d : names) {
                        LockBenchRun.Settings s = new LockBenchRun.Settings(cns, thr, one ? 1 : zl, 0.0,
                                (long) (warm * 1e9), (long) (dur * 1e9), 0, 1024, seed, one ? 0 : 0.99, null, 1, 0, -1);
                        CpuMeter cpu = CpuMeter.start();
                        LockBenchResult r = LockBenchRun.run(LockDesigns.byName(d), s);
                        lockRows.add(new LockRow(UNMODELLED, set, c, r, cpu.busyCores()));
                    }
                }
                printLockTable(o, lockRows, UNMODELLED, set, lockClients, names);
                AdaptiveAgainstBest.print(o, set + " [unmodelled, MEASURED]", "clients",
                        adaptiveRows(lockRows, UNMODELLED, set, lockClients));
            }
        }
        printSummary(o, vs, lockRows, indexRows, lockClients, idxClients, zl);
        printAdaptiveSummary(o, vs, lockRows, indexRows, lockClients, idxClients, zl);
        Files.createDirectories(out);
        Path json = out.resolve("lock-modularization.json");
        writeJson(json, vs, lockRows, indexRows, names, zl, dur, n, lockClients, idxClients);
        o.println("json: " + json.toAbsolutePath());
        for (NicVariant v : vs) {
            Path png = out.resolve("lock-modularization-" + v.name() + ".png");
            writeChart(png, v, lockRows, indexRows, zl, lockClients);
            o.println("chart: " + png.toAbsolutePath());
        }
        if (lockRows.stream().anyMatch(r -> r.variant.equals(UNMODELLED))) {
            Path png = out.resolve("lock-modularization-" + UNMODELLED + ".png");
            writeUnmodelledChart(png, lockRows, lockClients, zl);
            o.println("chart: " + png.toAbsolutePath());
        }
        return 0;
    }

    /** The variant name of the lock rows measured without the NIC model. */
    static final String UNMODELLED = "unmodelled";

    private static List<AdaptiveAgainstBest.Row> adaptiveRows(List<LockRow> rows, String variant, String set,
                                                          List<Integer> clients) {
        List<LockBenchResult> rs = new ArrayList<>();
        for (LockRow r : rows) {
            if (r.variant.equals(variant) && r.lockSet.equals(set)) {
                rs.add(r.result);
            }
        }
        return AdaptiveAgainstBest.compare(rs, clients, r -> r.cns() * r.threads());
    }

    /** The index figure's adaptive row at {@code clients}: adaptive ops/s over the best other design's; null if absent. */
    private static double[] indexAdaptive(List<IndexRow> rows, String variant, int clients, String[] bestName) {
        IndexRow a = indexRow(rows, variant, clients, AdaptiveAgainstBest.ADAPTIVE);
        IndexRow best = null;
        for (IndexRow r : rows) {
            if (r.variant.equals(variant) && r.clients == clients && !r.lock.equals(AdaptiveAgainstBest.ADAPTIVE)
                    && (best == null || r.opsPerSecond > best.opsPerSecond)) {
                best = r;
            }
        }
        if (a == null || best == null) {
            return null;
        }
        bestName[0] = best.lock;
        return new double[]{a.opsPerSecond, best.opsPerSecond, a.opsPerSecond / best.opsPerSecond};
    }

    private static void printIndexAdaptive(PrintStream o, List<IndexRow> rows, String variant, List<Integer> clients) {
        if (indexRow(rows, variant, clients.get(0), AdaptiveAgainstBest.ADAPTIVE) == null) {
            return;
        }
        o.println();
        o.println("adaptive against the best fixed design, index YCSB A [" + variant + ", MODELLED]  (goal: >= "
                + AdaptiveAgainstBest.GOAL + "x everywhere)");
        o.printf("%-10s %14s %-17s %14s %12s%n", "clients", "adaptive ops/s", "best fixed", "best ops/s", "adaptive/best");
        for (int c : clients) {
            String[] name = new String[1];
            double[] x = indexAdaptive(rows, variant, c, name);
            if (x != null) {
                o.printf(Locale.ROOT, "%-10d %,14.0f %-17s %,14.0f %11.2fx%n", c, x[0], name[0], x[1], x[2]);
            }
        }
    }

    private static void printAdaptiveSummary(PrintStream o, List<NicVariant> vs, List<LockRow> lockRows,
                                             List<IndexRow> indexRows, List<Integer> lockClients, List<Integer> idxClients,
                                             int zl) {
        List<String> variants = new ArrayList<>();
        vs.forEach(v -> variants.add(v.name()));
        variants.add(UNMODELLED);
        StringBuilder lines = new StringBuilder();
        for (String variant : variants) {
            for (String set : List.of("one lock", "zipf " + zl + " locks")) {
                List<AdaptiveAgainstBest.Row> rows = adaptiveRows(lockRows, variant, set, lockClients);
                if (rows.isEmpty()) {
                    continue;
                }
                AdaptiveAgainstBest.Row worst = rows.get(0);
                for (AdaptiveAgainstBest.Row r : rows) {
                    if (r.ratio() < worst.ratio()) {
                        worst = r;
                    }
                }
                lines.append(String.format(Locale.ROOT, "  %-11s %-18s lowest %.2fx (at %d clients, best there %s)%n",
                        variant, "locks, " + set, worst.ratio(), worst.level(), worst.best().lock()));
            }
            double low = Double.POSITIVE_INFINITY;
            int at = -1;
            String bestThere = "";
            for (int c : idxClients) {
                String[] name = new String[1];
                double[] x = indexAdaptive(indexRows, variant, c, name);
                if (x != null && x[2] < low) {
                    low = x[2];
                    at = c;
                    bestThere = name[0];
                }
            }
            if (at > 0) {
                lines.append(String.format(Locale.ROOT, "  %-11s %-18s lowest %.2fx (at %d clients, best there %s)%n",
                        variant, "index YCSB A", low, at, bestThere));
            }
        }
        if (lines.length() > 0) {
            o.println();
            o.println("adaptive / best fixed design at each level (goal >= " + AdaptiveAgainstBest.GOAL
                    + "x everywhere; NIC variants MODELLED, unmodelled MEASURED):");
            o.print(lines);
        }
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
        o.println("MN verbs per acquire+release, " + set + " [" + variant + ", "
                + (variant.equals(UNMODELLED) ? "MEASURED" : "MODELLED") + "]  (paper: " + PAPER_VERBS + ")");
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
                           List<String> names, int zl, double dur, int n, List<Integer> lockClients,
                           List<Integer> idxClients) throws java.io.IOException {
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
            vd.put("adaptive_vs_best_fixed", adaptiveJson(lockRows, v.name(), zl, lockClients));
            List<Map<String, Object>> ia = new ArrayList<>();
            for (int c : idxClients) {
                String[] name = new String[1];
                double[] x = indexAdaptive(indexRows, v.name(), c, name);
                if (x != null) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("clients", c);
                    m.put("adaptive_ops_s_dilated", x[0]);
                    m.put("best_fixed", name[0]);
                    m.put("best_fixed_ops_s_dilated", x[1]);
                    m.put("adaptive_vs_best", x[2]);
                    ia.add(m);
                }
            }
            vd.put("index_adaptive_vs_best_fixed", ia);
            variantDocs.add(vd);
        }
        doc.put("variants", variantDocs);
        if (lockRows.stream().anyMatch(r -> r.variant.equals(UNMODELLED))) {
            Map<String, Object> um = new LinkedHashMap<>();
            um.put("figures", "measured");
            um.put("carrier", "local, no NIC model");
            List<Map<String, Object>> locks = new ArrayList<>();
            for (LockRow r : lockRows) {
                if (r.variant.equals(UNMODELLED)) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("lock_set", r.lockSet);
                    m.put("clients", r.clients);
                    m.put("lock", r.result.lock());
                    m.put("mn_verbs_per_op", r.result.mnVerbsPerOp());
                    m.put("throughput_ops_s", r.result.throughputOpsPerSecond());
                    m.put("p50_us", r.result.p50Micros());
                    m.put("p99_us", r.result.p99Micros());
                    m.put("busy_cores", r.busyCores);
                    locks.add(m);
                }
            }
            um.put("lock_verbs", locks);
            um.put("adaptive_vs_best_fixed", adaptiveJson(lockRows, UNMODELLED, zl, lockClients));
            doc.put(UNMODELLED, um);
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
    }

    private static Map<String, Object> adaptiveJson(List<LockRow> lockRows, String variant, int zl, List<Integer> clients) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String set : List.of("one lock", "zipf " + zl + " locks")) {
            List<AdaptiveAgainstBest.Row> rows = adaptiveRows(lockRows, variant, set, clients);
            if (!rows.isEmpty()) {
                m.put(set, rows.stream().map(AdaptiveAgainstBest.Row::asMap).toList());
            }
        }
        return m;
    }

    private static void addAdaptivePanel(List<ReproductionChart.Panel> panels, List<LockRow> lockRows, String variant,
                                         int zl, List<Integer> clients, String tag) {
        ReproductionChart.Panel p = new ReproductionChart.Panel("adaptive / best fixed design" + tag, "x best fixed", false);
        for (String set : List.of("one lock", "zipf " + zl + " locks")) {
            for (AdaptiveAgainstBest.Row r : adaptiveRows(lockRows, variant, set, clients)) {
                p.point(set, r.level(), r.ratio());
            }
        }
        if (!p.series.isEmpty()) {
            for (int c : clients) {
                p.point("goal " + AdaptiveAgainstBest.GOAL, c, AdaptiveAgainstBest.GOAL);
            }
            panels.add(p);
        }
    }

    private static void writeUnmodelledChart(Path png, List<LockRow> lockRows, List<Integer> clients, int zl)
            throws java.io.IOException {
        String tag = " [MEASURED, local carrier, no NIC model]";
        List<ReproductionChart.Panel> panels = new ArrayList<>();
        for (String set : List.of("one lock", "zipf " + zl + " locks")) {
            ReproductionChart.Panel p = new ReproductionChart.Panel("lock ops/s, " + set + tag, "ops/s", true);
            for (LockRow r : lockRows) {
                if (r.variant.equals(UNMODELLED) && r.lockSet.equals(set)) {
                    p.point(r.result.lock(), r.clients, r.result.throughputOpsPerSecond());
                }
            }
            if (!p.series.isEmpty()) {
                panels.add(p);
            }
        }
        addAdaptivePanel(panels, lockRows, UNMODELLED, zl, clients, tag);
        ReproductionChart.write(panels, "clients", png);
    }

    private static void writeChart(Path png, NicVariant v, List<LockRow> lockRows, List<IndexRow> indexRows, int zl,
                                   List<Integer> lockClients) throws java.io.IOException {
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
        addAdaptivePanel(panels, lockRows, v.name(), zl, lockClients, tag);
        if (!panels.isEmpty()) {
            ReproductionChart.write(panels, "modelled clients", png);
        }
    }
}
