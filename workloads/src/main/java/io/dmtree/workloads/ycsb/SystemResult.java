package io.dmtree.workloads.ycsb;

import io.dmtree.core.tree.RegionUse;
import io.dmtree.cn.DmIndex;
import org.HdrHistogram.Histogram;

import java.util.Map;

/**
 * What one system did with the workload.
 *
 * @param name           system name ("dmtree", "csl", "lmdb")
 * @param lock           lock design for dmtree, null for peers
 * @param setup          how the system was set up, one line
 * @param loadedRecords  records written in the load phase
 * @param loadNanos      wall time of the load phase
 * @param operations     operations of the run phase
 * @param runNanos       wall time of the run phase
 * @param latencies      run-phase latency in nanoseconds by operation type
 * @param readMisses     reads (including those of read-modify-writes) that found no record
 * @param scannedEntries entries all scans returned
 * @param digest         sum of the digests of everything read (equal across systems on one thread)
 * @param memoryNodes    dmtree's memory node traffic over the run phase; null for peers
 * @param cache          dmtree's index cache hits and misses over the run phase; null for peers
 */
public record SystemResult(String name, String lock, String setup, long loadedRecords, long loadNanos,
                           long operations, long runNanos, Map<OperationType, Histogram> latencies, long readMisses,
                           long scannedEntries, long digest, MemoryNodeCost memoryNodes, DmIndex.CacheStats cache,
                           RegionUse region) {
    /** A result without region accounting (systems that have none, or a share of a run). */
    public SystemResult(String name, String lock, String setup, long loadedRecords, long loadNanos, long operations,
                        long runNanos, Map<OperationType, Histogram> latencies, long readMisses, long scannedEntries,
                        long digest, MemoryNodeCost memoryNodes, DmIndex.CacheStats cache) {
        this(name, lock, setup, loadedRecords, loadNanos, operations, runNanos, latencies, readMisses, scannedEntries,
                digest, memoryNodes, cache, null);
    }

    /** "dmtree cas-spin", "csl". */
    public String label() {
        return lock == null ? name : name + " " + lock;
    }

    public double throughputOpsPerSec() {
        return runNanos == 0 ? 0.0 : operations * 1e9 / runNanos;
    }

    public double loadOpsPerSec() {
        return loadNanos == 0 ? 0.0 : loadedRecords * 1e9 / loadNanos;
    }
}
