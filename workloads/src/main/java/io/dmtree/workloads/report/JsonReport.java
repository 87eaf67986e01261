package io.dmtree.workloads.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dmtree.workloads.ycsb.MemoryNodeCost;
import io.dmtree.workloads.ycsb.OperationType;
import io.dmtree.workloads.ycsb.SystemResult;
import io.dmtree.workloads.ycsb.YcsbReport;
import io.dmtree.workloads.ycsb.YcsbSettings;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a finished run as JSON:
 *
 * <pre>
 * { "workload": "A", "records": 100000, "operations": 200000, "threads": 2, ...,
 *   "systems": [ { "name": "dmtree", "lock": "cas-spin", "throughput_ops_s": ...,
 *                  "latency_us": { "READ": { "p50": ..., "p99": ..., "p999": ... }, ... },
 *                  "mn": { "verbs_per_op": ..., "round_trips_per_op": ..., "bytes_per_op": ..., ... },
 *                  "cache": { "hits": ..., "misses": ..., "hit_ratio": ... }, ... },
 *                { "name": "csl", "throughput_ops_s": ..., "latency_us": { ... }, ... } ],
 *   "ratios": [ { "lock": "cas-spin", "peer": "csl", "dmtree_over_peer": ... } ] }
 * </pre>
 */
public final class JsonReport {
    private JsonReport() {
    }

    public static Map<String, Object> toTree(YcsbReport report) {
        YcsbSettings s = report.settings();
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("workload", s.workload().name());
        root.put("mix", s.workload().mix());
        root.put("distribution", s.distribution().label());
        root.put("records", s.records());
        root.put("operations", s.operations());
        root.put("threads", s.threads());
        root.put("compute_nodes", s.computeNodes());
        root.put("memory_nodes", s.memoryNodes());
        root.put("key_size", s.keyBytes());
        root.put("value_size", s.valueBytes());
        root.put("seed", s.seed());
        root.put("slices", s.slices());
        root.put("inserts", report.stream().inserts());
        Map<String, Object> byType = new LinkedHashMap<>();
        for (Map.Entry<OperationType, Long> e : report.stream().counts().entrySet()) {
            byType.put(e.getKey().name(), e.getValue());
        }
        root.put("operations_by_type", byType);

        List<Object> systems = new ArrayList<>();
        List<SystemResult> peers = new ArrayList<>();
        for (SystemResult r : report.systems()) {
            systems.add(system(r));
            if (r.memoryNodes() == null) {
                peers.add(r);
            }
        }
        root.put("systems", systems);
        List<Object> ratios = new ArrayList<>();
        for (SystemResult r : report.systems()) {
            if (r.memoryNodes() == null) {
                continue;
            }
            for (SystemResult p : peers) {
                Map<String, Object> ratio = new LinkedHashMap<>();
                ratio.put("lock", r.lock());
                ratio.put("peer", p.name());
                ratio.put("dmtree_over_peer", p.throughputOpsPerSec() == 0 ? null
                        : r.throughputOpsPerSec() / p.throughputOpsPerSec());
                ratios.add(ratio);
            }
        }
        root.put("ratios", ratios);
        return root;
    }

    private static Map<String, Object> system(SystemResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        if (r.lock() != null) {
            m.put("lock", r.lock());
        }
        m.put("setup", r.setup());
        m.put("throughput_ops_s", r.throughputOpsPerSec());
        m.put("run_seconds", r.runNanos() / 1e9);
        m.put("load_ops_s", r.loadOpsPerSec());
        m.put("load_seconds", r.loadNanos() / 1e9);
        Map<String, Object> counts = new LinkedHashMap<>();
        Map<String, Object> latency = new LinkedHashMap<>();
        for (Map.Entry<OperationType, Histogram> e : r.latencies().entrySet()) {
            Histogram h = e.getValue();
            counts.put(e.getKey().name(), h.getTotalCount());
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("p50", h.getValueAtPercentile(50.0) / 1000.0);
            p.put("p99", h.getValueAtPercentile(99.0) / 1000.0);
            p.put("p999", h.getValueAtPercentile(99.9) / 1000.0);
            latency.put(e.getKey().name(), p);
        }
        m.put("operations_by_type", counts);
        m.put("latency_us", latency);
        m.put("read_misses", r.readMisses());
        m.put("scanned_entries", r.scannedEntries());
        m.put("result_digest", Long.toHexString(r.digest()));
        MemoryNodeCost c = r.memoryNodes();
        if (c != null) {
            Map<String, Object> mn = new LinkedHashMap<>();
            mn.put("verbs_per_op", c.verbsPerOp());
            mn.put("round_trips_per_op", c.roundTripsPerOp());
            mn.put("bytes_per_op", c.bytesPerOp());
            mn.put("reads_per_op", c.readsPerOp());
            mn.put("writes_per_op", c.writesPerOp());
            mn.put("cas_per_op", c.casPerOp());
            mn.put("faa_per_op", c.faaPerOp());
            mn.put("verbs", c.traffic().verbs());
            mn.put("round_trips", c.traffic().roundTrips());
            mn.put("bytes", c.traffic().bytes());
            m.put("mn", mn);
            Map<String, Object> cache = new LinkedHashMap<>();
            cache.put("hits", r.cache().hits());
            cache.put("misses", r.cache().misses());
            cache.put("hit_ratio", r.cache().hitRatio());
            m.put("cache", cache);
        }
        return m;
    }

    public static void write(YcsbReport report, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), toTree(report));
    }
}
