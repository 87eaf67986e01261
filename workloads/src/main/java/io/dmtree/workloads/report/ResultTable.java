package io.dmtree.workloads.report;

import io.dmtree.workloads.ycsb.MemoryNodeCost;
import io.dmtree.workloads.ycsb.OperationType;
import io.dmtree.workloads.ycsb.SystemResult;
import io.dmtree.workloads.ycsb.YcsbReport;
import io.dmtree.workloads.ycsb.YcsbSettings;
import org.HdrHistogram.Histogram;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prints a finished run as text tables: throughput and dmtree/peer ratios, latency percentiles per
 * operation type, and dmtree's memory node traffic per operation. Every figure comes from the
 * report; nothing is estimated.
 */
public final class ResultTable {
    private ResultTable() {
    }

    public static void print(YcsbReport report, PrintWriter out) {
        print(report, out, MEASURED);
    }

    /** What every table says of where its figures come from, unless a run says otherwise. */
    public static final String MEASURED = "Figures are measured in this run on this machine; compare ratios, not absolute times.";

    /** Prints the table, closing with {@code provenance}: measured, or what model the figures include. */
    public static void print(YcsbReport report, PrintWriter out, String provenance) {
        YcsbSettings s = report.settings();
        out.printf(Locale.ROOT, "YCSB workload %s (%s: %s), %s requests%n", s.workload(), s.workload().title(),
                s.workload().mix(), s.distribution().label());
        List<String> counts = new ArrayList<>();
        for (Map.Entry<OperationType, Long> e : report.stream().counts().entrySet()) {
            counts.add(e.getKey() + " " + e.getValue());
        }
        out.printf(Locale.ROOT, "%,d records, %,d operations (%s), %d threads, %d-byte keys, %d-byte values, seed %d%n",
                s.records(), s.operations(), String.join(", ", counts), s.threads(), s.keyBytes(), s.valueBytes(), s.seed());
        if (s.slices() == 1) {
            out.printf(Locale.ROOT, "run phase in one go%n%n");
        } else {
            out.printf(Locale.ROOT, "run phase in %d slices, systems taking turns slice by slice%n%n", s.slices());
        }

        List<SystemResult> systems = report.systems();
        if (systems.isEmpty()) {
            out.println("no system ran (no lock design and no peer selected)");
            return;
        }
        List<SystemResult> peers = new ArrayList<>();
        boolean anyDmtree = false;
        for (SystemResult r : systems) {
            if (r.memoryNodes() == null) {
                peers.add(r);
            } else {
                anyDmtree = true;
            }
        }
        List<SystemResult> ratioColumns = anyDmtree ? peers : List.of();
        int labelWidth = "latency (us)".length();
        for (SystemResult r : systems) {
            labelWidth = Math.max(labelWidth, r.label().length());
        }

        // throughput
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-" + labelWidth + "s  %12s  %12s", "system",
                "run ops/s", "load ops/s"));
        for (SystemResult p : ratioColumns) {
            head.append(String.format(Locale.ROOT, "  %9s", "/" + p.name()));
        }
        head.append(String.format(Locale.ROOT, "  %10s  %14s", "not found", "scanned"));
        out.println(head);
        for (SystemResult r : systems) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-" + labelWidth + "s  %,12.0f  %,12.0f",
                    r.label(), r.throughputOpsPerSec(), r.loadOpsPerSec()));
            for (SystemResult p : ratioColumns) {
                if (r.memoryNodes() != null && p.throughputOpsPerSec() > 0) {
                    line.append(String.format(Locale.ROOT, "  %8.2fx", r.throughputOpsPerSec() / p.throughputOpsPerSec()));
                } else {
                    line.append(String.format(Locale.ROOT, "  %9s", ""));
                }
            }
            line.append(String.format(Locale.ROOT, "  %,10d  %,14d", r.readMisses(), r.scannedEntries()));
            out.println(line);
        }
        if (!ratioColumns.isEmpty()) {
            out.println("(/peer: dmtree throughput divided by the peer's, same run, same operation stream)");
        }

        // latency
        out.println();
        out.printf(Locale.ROOT, "%-" + labelWidth + "s  %-17s  %12s  %10s  %10s  %10s%n", "latency (us)", "operation", "count",
                "p50", "p99", "p99.9");
        for (SystemResult r : systems) {
            boolean first = true;
            for (Map.Entry<OperationType, Histogram> e : r.latencies().entrySet()) {
                Histogram h = e.getValue();
                out.printf(Locale.ROOT, "%-" + labelWidth + "s  %-17s  %,12d  %10s  %10s  %10s%n", first ? r.label() : "",
                        e.getKey(), h.getTotalCount(), micros(h, 50.0), micros(h, 99.0), micros(h, 99.9));
                first = false;
            }
        }

        // memory node traffic
        if (anyDmtree) {
            out.println();
            out.println("dmtree memory node traffic per operation, run phase (counted by the carrier)");
            out.printf(Locale.ROOT, "%-14s  %7s  %7s  %7s  %7s  %7s  %11s  %10s  %10s%n", "lock", "verbs", "READ", "WRITE",
                    "CAS", "FAA", "round trips", "bytes", "cache hits");
            for (SystemResult r : systems) {
                MemoryNodeCost c = r.memoryNodes();
                if (c == null) {
                    continue;
                }
                long lookups = r.cache().hits() + r.cache().misses();
                String hits = lookups == 0 ? "-" : String.format(Locale.ROOT, "%.2f%%", 100.0 * r.cache().hitRatio());
                out.printf(Locale.ROOT, "%-14s  %7.3f  %7.3f  %7.3f  %7.3f  %7.3f  %11.3f  %10.1f  %10s%n", r.lock(),
                        c.verbsPerOp(), c.readsPerOp(), c.writesPerOp(), c.casPerOp(), c.faaPerOp(), c.roundTripsPerOp(),
                        c.bytesPerOp(), hits);
            }
        }

        if (systems.stream().anyMatch(r -> r.region() != null)) {
            out.println();
            out.println("dmtree region use after the run (chunk tables and a walk of the tree)");
            out.printf(Locale.ROOT, "%-14s  %12s  %12s  %12s  %12s  %12s  %10s  %9s%n", "lock", "records", "allocated",
                    "reachable", "free", "leaked", "B/record", "overhead");
            for (SystemResult r : systems) {
                io.dmtree.core.tree.RegionUse u = r.region();
                if (u == null) {
                    continue;
                }
                out.printf(Locale.ROOT, "%-14s  %,12d  %,12d  %,12d  %,12d  %,12d  %10.1f  %9s%n", r.lock(), u.records(),
                        u.allocated(), u.reachable(), u.free(), u.leaked(), u.bytesPerRecord(),
                        u.records() == 0 ? "-" : String.format(Locale.ROOT, "%.2fx", u.overhead()));
            }
        }

        out.println();
        out.println("setup:");
        for (SystemResult r : systems) {
            out.println("  " + r.setup());
        }
        out.println(provenance);
    }

    static String micros(Histogram h, double percentile) {
        double us = h.getValueAtPercentile(percentile) / 1000.0;
        return us >= 100 ? String.format(Locale.ROOT, "%,.0f", us) : String.format(Locale.ROOT, "%.2f", us);
    }
}
