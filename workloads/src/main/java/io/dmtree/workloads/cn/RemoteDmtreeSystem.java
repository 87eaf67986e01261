package io.dmtree.workloads.cn;

import io.dmtree.cn.DmIndex;
import io.dmtree.cn.control.RemoteComputeNode;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.wire.RegionDescription;
import io.dmtree.workloads.kv.IndexSession;
import io.dmtree.workloads.kv.KvSession;
import io.dmtree.workloads.kv.KvShape;
import io.dmtree.workloads.kv.KvSystem;
import io.dmtree.workloads.kv.MemoryNodeMetered;

/**
 * dmtree as a system under test in a compute-node process: every worker uses this process's
 * {@link RemoteComputeNode}. The traffic is this compute node's own (every carrier counts verbs on
 * the compute node that posts them). The compute node belongs to the caller: {@link #close()}
 * leaves it open.
 */
public final class RemoteDmtreeSystem implements KvSystem, MemoryNodeMetered {
    private final RemoteComputeNode node;
    private final KvShape shape;
    private final String lock;
    private final int processes;

    /** {@code processes}: compute-node processes taking part in the run. */
    public RemoteDmtreeSystem(RemoteComputeNode node, KvShape shape, String lock, int processes) {
        this.node = node;
        this.shape = shape;
        this.lock = lock;
        this.processes = processes;
    }

    @Override
    public String name() {
        return io.dmtree.workloads.kv.DmtreeSystem.NAME;
    }

    @Override
    public String setup() {
        TreeConfig t = node.computeNode().treeConfig();
        RegionDescription mn0 = node.cluster().regions().get(0);
        return name() + " " + lock + ": " + processes + " compute-node process" + (processes == 1 ? "" : "es") + ", "
                + node.cluster().transport() + " carrier, " + node.cluster().regions().size() + " MN of "
                + (mn0.regionBytes() >> 20) + " MiB, " + t.nodeBytes() + "-byte nodes, " + (t.cacheBytes() >> 20)
                + " MiB index cache per CN, " + (shape.longPath() ? "long" : "byte[]") + " path";
    }

    @Override
    public VerbCounts memoryNodeTraffic() {
        return node.index().memoryNodeTraffic();
    }

    @Override
    public DmIndex.CacheStats cacheStats() {
        return node.index().cacheStats();
    }

    @Override
    public KvSession openSession(int thread) {
        return new IndexSession(node.index());
    }

    @Override
    public void close() {
        // the compute node is the caller's
    }
}
