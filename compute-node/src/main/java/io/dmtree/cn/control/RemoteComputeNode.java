package io.dmtree.cn.control;

import io.dmtree.cn.ComputeNode;
import io.dmtree.cn.DmIndex;
import io.dmtree.cn.recovery.ClusterLiveness;
import io.dmtree.cn.recovery.RecoveryCoordinator;
import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.tree.IndexSuperblock;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.lock.LockDesigns;

/**
 * A compute node of a cluster of memory-node processes: its {@link ClusterClient} membership and
 * the {@link ComputeNode} runtime on top of it (the tree, the lock client, the index cache), with
 * the carrier, chunks and messaging the memory nodes offer. In a cluster with membership its lock
 * client reads a {@link ClusterLiveness}, and a {@link RecoveryCoordinator} of its own takes part
 * in recovering compute nodes that fail. After memory nodes restarted from durable regions, opening
 * runs the tree checker once per restart ({@link io.dmtree.cn.recovery.RestartCheck}). Closing it
 * closes the runtime and leaves the cluster.
 */
public final class RemoteComputeNode implements AutoCloseable {
    /**
     * Compute-node ids a lock design must be able to name in a multi-process cluster, whose size is
     * not known when a compute node joins: 16, what the {@code modular} lock's waiter queue holds by
     * default (memory node 0 hands out the lowest free ids, so a cluster of up to 16 compute nodes
     * fits; a 17th is refused at join with a clear message).
     */
    public static final int DEFAULT_MAX_COMPUTE_NODES = 16;
    /** Longest wait of {@link io.dmtree.cn.recovery.RestartCheck} for the earlier life's recoveries and for the checker. */
    public static final long RESTART_CHECK_TIMEOUT_MILLIS = 60_000;

    private final ClusterClient cluster;
    private final ComputeNode node;
    /** Null without membership. */
    private final ClusterLiveness liveness;
    private final RecoveryCoordinator recovery;

    private RemoteComputeNode(ClusterClient cluster, ComputeNode node, ClusterLiveness liveness, RecoveryCoordinator recovery) {
        cluster.vouchedBy(node.inFlight()::why);
        this.cluster = cluster;
        this.node = node;
        this.liveness = liveness;
        this.recovery = recovery;
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
        ClusterLiveness liveness = null;
        ComputeNode node = null;
        RecoveryCoordinator recovery = null;
        try {
            IndexShape.Resolved shape = wanted.resolve(IndexSuperblock.stored(cluster.verbs()), fresh);
            TreeConfig tree = shape.tree();
            String lock = shape.lock();
            if (cluster.computeNodeId() >= maxComputeNodes) {
                throw new IllegalStateException("compute node id " + cluster.computeNodeId() + " is beyond the "
                        + maxComputeNodes + " compute nodes the lock design was sized for");
            }
            Coordination c = cluster.coordination();
            if (c != null) {
                liveness = new ClusterLiveness(c.membership(), c.book(), maxComputeNodes, cluster.regions().size());
                liveness.ownLease(cluster.lease());
            }
            cluster.vouchedBy(() -> "its index did not finish opening"); // opening writes to the memory nodes
            node = new ComputeNode(cluster.computeNodeId(), maxComputeNodes, cluster.verbs(), cluster.chunkSource(),
                    cluster.messaging(), tree, LockDesigns.byName(lock), threadCapacity, -1, null,
                    liveness == null ? MemberLiveness.EVERYONE_LIVE : liveness, cluster.fence());
            if (c != null) {
                recovery = new RecoveryCoordinator(c.membership(), cluster.lease(), c.book(), liveness, node,
                        RecoveryCoordinator.Options.DEFAULTS, line -> System.err.println("dmtree cn: " + line), null);
            }
            // after a memory node restarted from a durable region: the tree checker, once, before this node works
            io.dmtree.cn.recovery.RestartCheck.afterRestart(node, c == null ? null : c.book(), RESTART_CHECK_TIMEOUT_MILLIS,
                    line -> System.out.println("dmtree cn: " + line));
            return new RemoteComputeNode(cluster, node, liveness, recovery);
        } catch (RuntimeException e) {
            if (recovery != null) {
                recovery.close();
            }
            if (node != null) {
                node.close();
            }
            if (liveness != null) {
                liveness.close();
            }
            throw e;
        }
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

    /**
     * Waits up to {@code seconds} until the compute nodes {@code departed} (ids) are recovered and no
     * other recovery is outstanding: fenced, nodes repaired, locks freed, splits completed. Returns
     * at once in a cluster without membership, where nobody is recovered; throws
     * {@link IllegalStateException} naming what is still outstanding when the time is up.
     */
    public void awaitRecoveries(int seconds, java.util.Set<Integer> departed) throws InterruptedException {
        Coordination c = cluster.coordination();
        if (c == null) {
            return;
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            java.util.List<io.dmtree.core.membership.FenceBook.FenceRecord> records = c.book().records();
            java.util.Set<Integer> missing = new java.util.TreeSet<>(departed);
            java.util.List<String> outstanding = new java.util.ArrayList<>();
            for (io.dmtree.core.membership.FenceBook.FenceRecord r : records) {
                if (r.recovered()) {
                    missing.remove(r.member().id().id());
                } else {
                    outstanding.add(r.member().id().id() + "@" + r.member().epoch() + " (fenced by memory nodes "
                            + r.fencedBy() + ")");
                }
            }
            if (missing.isEmpty() && outstanding.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("recovery not done within " + seconds + " s: outstanding " + outstanding
                        + ", departed without a recovered record " + missing);
            }
            Thread.sleep(20);
        }
    }

    public ClusterClient cluster() {
        return cluster;
    }

    /** This node's part in recovering failed compute nodes, or null in a cluster without membership. */
    public RecoveryCoordinator recovery() {
        return recovery;
    }

    @Override
    public void close() {
        if (recovery != null) {
            recovery.close();
        }
        if (node.inFlight().why() == null && (node.fence() == null || !node.fence().fenced())) {
            try {
                node.releaseMemory(); // a clean leave gives its memory back: no recovery will
            } catch (RuntimeException e) {
                String why = "giving its memory back failed: " + e;
                cluster.vouchedBy(() -> why); // leave it to a live member's recovery
            }
        }
        if (liveness != null) {
            liveness.close();
        }
        node.close();
        cluster.close();
    }
}
