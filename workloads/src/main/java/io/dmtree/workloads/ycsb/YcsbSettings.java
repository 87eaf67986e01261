package io.dmtree.workloads.ycsb;

import io.dmtree.workloads.kv.Peer;

import java.util.List;

/**
 * One YCSB run: the workload, the data shape, and which systems run it side by side.
 *
 * @param workload     core workload A..F
 * @param distribution request distribution (the workload's own unless overridden)
 * @param records      records loaded before the run phase
 * @param operations   operations in the run phase
 * @param threads      worker threads, for loading and running
 * @param computeNodes dmtree compute nodes
 * @param memoryNodes  dmtree memory nodes
 * @param keyBytes     key width
 * @param valueBytes   value width
 * @param seed         seed of the operation stream, keys and values
 * @param locks        lock designs to run dmtree with, one run each; empty runs the peers only
 * @param peers        peers to run after dmtree
 * @param slices       the run phase is cut into this many slices and the systems take turns slice
 *                     by slice, so a change in background load hits every system alike; 1 runs each
 *                     system's whole run phase in one go
 */
public record YcsbSettings(CoreWorkload workload, RequestDistribution distribution, long records, int operations,
                           int threads, int computeNodes, int memoryNodes, int keyBytes, int valueBytes, long seed,
                           List<String> locks, List<Peer> peers, int slices) {
    public YcsbSettings {
        locks = List.copyOf(locks);
        peers = List.copyOf(peers);
        if (records < 1 || operations < 1 || threads < 1 || computeNodes < 1 || memoryNodes < 1) {
            throw new IllegalArgumentException("records, operations, threads, compute nodes and memory nodes must be positive");
        }
        if (slices < 1 || slices > operations) {
            throw new IllegalArgumentException("slices must be in [1, operations]: " + slices);
        }
        new KeySpace(keyBytes, seed).requireCapacity(records);
        new ValueSource(valueBytes, seed);
    }
}
