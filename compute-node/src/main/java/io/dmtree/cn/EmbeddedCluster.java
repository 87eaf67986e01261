package io.dmtree.cn;

import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.TreeReport;

/**
 * Memory nodes and compute nodes in this JVM on the {@code local} carrier, sharing one index. Each
 * compute node has its own index cache, chunk and thread ids; {@link #index(int)} is that node's
 * view of the index.
 */
public final class EmbeddedCluster implements AutoCloseable {
    private final ClusterConfig config;

    private EmbeddedCluster(ClusterConfig config) {
        this.config = config;
        throw new UnsupportedOperationException("the tree is not wired into the embedded cluster yet");
    }

    public static Builder builder() {
        return new Builder();
    }

    public ClusterConfig config() {
        return config;
    }

    public int computeNodes() {
        return config.computeNodes();
    }

    public int memoryNodes() {
        return config.memoryNodes();
    }

    /** Compute node {@code cn}'s view of the index. */
    public DmIndex index(int cn) {
        throw new UnsupportedOperationException();
    }

    /** Traffic of all compute nodes to all memory nodes. */
    public VerbCounts memoryNodeTraffic() {
        throw new UnsupportedOperationException();
    }

    public void resetCounters() {
        throw new UnsupportedOperationException();
    }

    public TreeReport check() {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() {
    }

    /** Options of an embedded cluster; every one has a default. */
    public static final class Builder {
        private ClusterConfig config = ClusterConfig.defaults();

        public Builder memoryNodes(int n) {
            config = config.withMemoryNodes(n);
            return this;
        }

        public Builder computeNodes(int n) {
            config = config.withComputeNodes(n);
            return this;
        }

        public Builder keyBytes(int n) {
            config = config.withKeyBytes(n);
            return this;
        }

        public Builder valueBytes(int n) {
            config = config.withValueBytes(n);
            return this;
        }

        public Builder nodeBytes(int n) {
            config = config.withNodeBytes(n);
            return this;
        }

        public Builder lock(String design) {
            config = config.withLock(design);
            return this;
        }

        public Builder regionBytes(long n) {
            config = config.withRegionBytes(n);
            return this;
        }

        public Builder cacheBytes(long n) {
            config = config.withCacheBytes(n);
            return this;
        }

        public Builder threadsPerComputeNode(int n) {
            config = config.withThreadsPerComputeNode(n);
            return this;
        }

        /** Test aid: the local carrier tears wide reads, shuffling their cache lines. */
        public Builder tornReads(boolean on) {
            config = config.withTornReads(on);
            return this;
        }

        public ClusterConfig config() {
            return config;
        }

        /** Starts the cluster. */
        public EmbeddedCluster start() {
            return new EmbeddedCluster(config);
        }

        /** Starts a cluster and returns its first compute node's index; closing the index stops the cluster. */
        public DmIndex open() {
            throw new UnsupportedOperationException();
        }
    }
}
