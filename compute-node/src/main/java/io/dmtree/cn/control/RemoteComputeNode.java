package io.dmtree.cn.control;

import io.dmtree.cn.ComputeNode;
import io.dmtree.cn.DmIndex;
import io.dmtree.core.tree.IndexSuperblock;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.lock.LockDesigns;

/**
 * A compute node of a cluster of memory-node processes: its {@link ClusterClient} membership and
 * the {@link ComputeNode} runtime on top of it (the tree, the lock client, the index cache), with
 * the carrier, chunks and messaging the memory nodes offer. Closing it closes the runtime and
 * leaves the cluster.
 */
public final class RemoteComputeNode implements AutoCloseable {
    /**
     * Compute-node ids a lock design must be able to name in a multi-process cluster, whose size is
     * not known when a compute node joins: 16, what the {@code modular} lock's waiter queue holds by
     * default (memory node 0 hands out the lowest free ids, so a cluster of up to 16 compute nodes
     * fits; a 17th is refused at join with a clear message).
     */
    public static final int DEFAULT_MAX_COMPUTE_NODES = 16;

    private final ClusterClient cluster;
    private final ComputeNode node;

    private RemoteComputeNode(ClusterClient cluster, ComputeNode node) {
        this.cluster = cluster;
        this.node = node;
    }

    /**
     * Joins the memory nodes of {@code options} and opens the index with {@code tree} and the lock
     * design {@code lock} (creating it if this is the first compute node).
     */
    public static RemoteComputeNode join(ClusterClient.Options options, TreeConfig tree, String lock, int maxComputeNodes,
                                         int threadCapacity) {
        return join(options, new IndexShape(tree.keyBytes(), tree.valueBytes(), tree.nodeBytes(), lock), tree,
                maxComputeNodes, threadCapacity);
    }

    /**
     * Joins the memory nodes of {@code options} and opens the index they hold, or creates it: the
     * settings {@code wanted} leaves open are taken from the stored index, or from {@code fresh}
     * when there is none ({@link IndexShape}).
     */
    public static RemoteComputeNode join(ClusterClient.Options options, IndexShape wanted, TreeConfig fresh, int maxComputeNodes,
                                         int threadCapacity) {
        ClusterClient cluster = ClusterClient.join(options);
        try {
            return open(cluster, wanted, fresh, maxComputeNodes, threadCapacity);
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /**
     * Opens the index on a cluster already joined, as {@link #join(ClusterClient.Options, IndexShape,
     * TreeConfig, int, int)} does; on failure {@code cluster} stays joined (the caller may still
     * tell the others why it cannot take part) and is the caller's to close.
     */
    public static RemoteComputeNode open(ClusterClient cluster, IndexShape wanted, TreeConfig fresh, int maxComputeNodes,
                                         int threadCapacity) {
        IndexShape.Resolved shape = wanted.resolve(IndexSuperblock.stored(cluster.verbs()), fresh);
        TreeConfig tree = shape.tree();
        String lock = shape.lock();
        if (cluster.computeNodeId() >= maxComputeNodes) {
            throw new IllegalStateException("compute node id " + cluster.computeNodeId() + " is beyond the "
                    + maxComputeNodes + " compute nodes the lock design was sized for");
        }
        ComputeNode node = new ComputeNode(cluster.computeNodeId(), maxComputeNodes, cluster.verbs(), cluster.chunkSource(),
                cluster.messaging(), tree, LockDesigns.byName(lock), threadCapacity);
        return new RemoteComputeNode(cluster, node);
    }

    public int id() {
        return cluster.computeNodeId();
    }

    public DmIndex index() {
        return node.index();
    }

    public ComputeNode computeNode() {
        return node;
    }

    public ClusterClient cluster() {
        return cluster;
    }

    @Override
    public void close() {
        node.close();
        cluster.close();
    }
}
