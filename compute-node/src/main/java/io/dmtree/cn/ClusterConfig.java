package io.dmtree.cn;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.lock.LockDesigns;

/**
 * The options of a cluster, validated on construction with a message naming the bad option.
 *
 * @param memoryNodes          memory nodes, 1..64
 * @param computeNodes         compute nodes, 1..64
 * @param tree                 key and value widths, node size, cache budget
 * @param lock                 lock design name
 * @param regionBytes          bytes of each memory node's region
 * @param chunkBytes           bytes per chunk handed to compute nodes
 * @param lockTableBytes       bytes of each memory node's lock table
 * @param threadsPerComputeNode most threads one compute node serves at once
 * @param tornReads            test aid: the local carrier tears wide reads
 * @param colocated            compute node i shares a host with memory node i (for i below both
 *                             counts) and reaches its memory by CPU access; designs with a local
 *                             path ({@code alock}) use it
 */
public record ClusterConfig(int memoryNodes, int computeNodes, TreeConfig tree, String lock, long regionBytes,
                            long chunkBytes, long lockTableBytes, int threadsPerComputeNode, boolean tornReads,
                            boolean colocated) {
    public static final int MAX_NODES = 64;

    public ClusterConfig {
        if (memoryNodes < 1 || memoryNodes > MAX_NODES) {
            throw new IllegalArgumentException("memory nodes must be in [1, " + MAX_NODES + "]: " + memoryNodes);
        }
        if (computeNodes < 1 || computeNodes > MAX_NODES) {
            throw new IllegalArgumentException("compute nodes must be in [1, " + MAX_NODES + "]: " + computeNodes);
        }
        if (threadsPerComputeNode < 1 || threadsPerComputeNode > 4096) {
            throw new IllegalArgumentException("threads per compute node must be in [1, 4096]: " + threadsPerComputeNode);
        }
        if (chunkBytes < tree.nodeBytes() || chunkBytes % RegionLayout.CHUNK_ALIGNMENT != 0) {
            throw new IllegalArgumentException("chunk size must be a multiple of 4096 and hold a tree node: " + chunkBytes);
        }
        if (lock == null || lock.isBlank()) {
            throw new IllegalArgumentException("lock design name is empty");
        }
    }

    public static ClusterConfig defaults() {
        return new ClusterConfig(1, 1, TreeConfig.defaults(), LockDesigns.defaultName(), 1L << 30, 8L << 20, 4L << 20, 256, false,
                false);
    }
}
