package io.dmtree.workloads.cn;

import io.dmtree.cn.DmIndex;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.workloads.ycsb.MemoryNodeCost;
import io.dmtree.workloads.ycsb.OperationType;
import io.dmtree.workloads.ycsb.SystemResult;
import org.HdrHistogram.Histogram;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The results of the compute-node processes of one run, by compute-node id, and their aggregate:
 * operations, records, misses, scanned entries, digests, memory node traffic and cache counts are
 * summed; latency histograms are merged; the wall times are the longest process's (all started
 * together at the barrier), so the aggregate throughput is all operations over the slowest
 * process's run time. {@code departed} are compute nodes that left before reporting; their work is
 * not in the aggregate.
 */
public record RunAggregate(SortedMap<Integer, SystemResult> byComputeNode, Set<Integer> departed) {
    public RunAggregate {
        byComputeNode = new TreeMap<>(byComputeNode);
        departed = Set.copyOf(departed);
        if (byComputeNode.isEmpty()) {
            throw new IllegalArgumentException("no compute node reported");
        }
    }

    /** Decodes the payloads of a results barrier. */
    public static RunAggregate of(Map<Integer, byte[]> reports, Set<Integer> departed) {
        SortedMap<Integer, SystemResult> results = new TreeMap<>();
        for (Map.Entry<Integer, byte[]> e : reports.entrySet()) {
            try {
                results.put(e.getKey(), ShareReport.decode(e.getValue(), io.dmtree.workloads.kv.DmtreeSystem.NAME));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("compute node " + e.getKey() + ": " + ex.getMessage(), ex);
            }
        }
        return new RunAggregate(results, departed);
    }

    /** The merged result; its setup names the processes, {@code setup} describes the cluster. */
    public SystemResult merged(String setup) {
        List<SystemResult> all = List.copyOf(byComputeNode.values());
        SystemResult first = all.get(0);
        long loaded = 0;
        long loadNanos = 0;
        long operations = 0;
        long runNanos = 0;
        long misses = 0;
        long scanned = 0;
        long digest = 0;
        VerbCounts traffic = VerbCounts.ZERO;
        long hits = 0;
        long cacheMisses = 0;
        long cacheBytes = 0;
        long capacity = 0;
        Map<OperationType, Histogram> latencies = new EnumMap<>(OperationType.class);
        for (SystemResult r : all) {
            loaded += r.loadedRecords();
            loadNanos = Math.max(loadNanos, r.loadNanos());
            operations += r.operations();
            runNanos = Math.max(runNanos, r.runNanos());
            misses += r.readMisses();
            scanned += r.scannedEntries();
            digest += r.digest();
            traffic = traffic.plus(r.memoryNodes().traffic());
            hits += r.cache().hits();
            cacheMisses += r.cache().misses();
            cacheBytes += r.cache().bytes();
            capacity += r.cache().capacityBytes();
            for (Map.Entry<OperationType, Histogram> e : r.latencies().entrySet()) {
                latencies.computeIfAbsent(e.getKey(), k -> new Histogram(3)).add(e.getValue());
            }
        }
        return new SystemResult(first.name(), first.lock(), setup, loaded, loadNanos, operations, runNanos, latencies, misses,
                scanned, digest, new MemoryNodeCost(traffic, operations), new DmIndex.CacheStats(hits, cacheMisses, cacheBytes,
                capacity));
    }
}
