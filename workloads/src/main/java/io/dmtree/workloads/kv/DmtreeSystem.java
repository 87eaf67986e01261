package io.dmtree.workloads.kv;

import io.dmtree.cn.ClusterConfig;
import io.dmtree.cn.DmIndex;
import io.dmtree.cn.EmbeddedCluster;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.nic.NicModelConfig;
import io.dmtree.core.tree.NodeLayout;
import io.dmtree.core.tree.TreeConfig;


/**
 * dmtree as a system under test: an {@link EmbeddedCluster} of {@code cns} compute nodes and
 * {@code mns} memory nodes on the {@code local} carrier. Worker {@code t} uses compute node
 * {@code t mod cns}. With 8-byte keys and values sessions take the index's {@code long} path,
 * otherwise its {@code byte[]} path.
 */
public final class DmtreeSystem implements KvSystem, MemoryNodeMetered {
    public static final String NAME = "dmtree";

    private final EmbeddedCluster cluster;
    private final KvShape shape;
    private final String lock;

    private DmtreeSystem(EmbeddedCluster cluster, KvShape shape, String lock) {
        this.cluster = cluster;
        this.shape = shape;
        this.lock = lock;
    }

    /** Starts a cluster sized for {@code shape} with lock design {@code lock}. */
    public static DmtreeSystem start(KvShape shape, int computeNodes, int memoryNodes, String lock) {
        return start(shape, computeNodes, memoryNodes, lock, null);
    }

    /** As {@link #start(KvShape, int, int, String)}, every verb and message through a modelled NIC unless {@code nic} is null. */
    public static DmtreeSystem start(KvShape shape, int computeNodes, int memoryNodes, String lock, NicModelConfig nic) {
        EmbeddedCluster.Builder builder = EmbeddedCluster.builder()
                .memoryNodes(memoryNodes)
                .computeNodes(computeNodes)
                .keyBytes(shape.keyBytes())
                .valueBytes(shape.valueBytes())
                .lock(lock)
                .threadsPerComputeNode(Math.max(ClusterConfig.defaults().threadsPerComputeNode(), shape.threads()))
                .nicModel(nic);
        builder.regionBytes(regionBytes(builder.config(), shape.entries()));
        return new DmtreeSystem(builder.start(), shape, lock);
    }

    /**
     * Bytes per memory node region: enough for the whole tree on one memory node, whatever the
     * placement. Leaves half full after splits, a quarter more for internal nodes, doubled for
     * slack, plus four chunks per compute node, the lock table and 64 MiB; never less than the
     * default. The local carrier touches pages only when it uses them.
     */
    public static long regionBytes(ClusterConfig config, long entries) {
        NodeLayout layout = config.tree().layout();
        long perLeaf = Math.max(1, layout.leafCapacity() / 2);
        long leaves = entries / perLeaf + 1;
        long treeBytes = (leaves + leaves / 4 + 1) * config.tree().nodeBytes();
        long bytes = 2 * treeBytes + 4L * config.computeNodes() * config.chunkBytes() + config.lockTableBytes() + (64L << 20);
        long chunk = config.chunkBytes();
        bytes = (bytes + chunk - 1) / chunk * chunk;
        return Math.max(config.regionBytes(), bytes);
    }

    public EmbeddedCluster cluster() {
        return cluster;
    }

    public String lock() {
        return lock;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String setup() {
        ClusterConfig c = cluster.config();
        TreeConfig t = c.tree();
        return NAME + " " + lock + ": embedded cluster, local carrier, " + c.computeNodes() + " CN, " + c.memoryNodes()
                + " MN of " + (c.regionBytes() >> 20) + " MiB, "
                + (cluster.nicModel() != null ? "MODELLED NIC (dilation " + cluster.nicModel().config().dilation() + "x), " : "")
                + t.nodeBytes() + "-byte nodes, "
                + (t.cacheBytes() >> 20) + " MiB index cache per CN, " + (shape.longPath() ? "long" : "byte[]") + " path";
    }

    /** Traffic of all compute nodes to all memory nodes so far. */
    @Override
    public VerbCounts memoryNodeTraffic() {
        return cluster.memoryNodeTraffic();
    }

    /** Index cache hits and misses summed over compute nodes. */
    @Override
    public io.dmtree.core.tree.RegionUse regionUse() {
        return cluster.check().region();
    }

    @Override
    public DmIndex.CacheStats cacheStats() {
        long hits = 0;
        long misses = 0;
        long bytes = 0;
        long capacity = 0;
        for (int cn = 0; cn < cluster.computeNodes(); cn++) {
            DmIndex.CacheStats s = cluster.index(cn).cacheStats();
            hits += s.hits();
            misses += s.misses();
            bytes += s.bytes();
            capacity += s.capacityBytes();
        }
        return new DmIndex.CacheStats(hits, misses, bytes, capacity);
    }

    @Override
    public KvSession openSession(int thread) {
        return new IndexSession(cluster.index(thread % cluster.computeNodes()));
    }

    @Override
    public void close() {
        cluster.close();
    }
}
