package io.dmtree.cn;

import io.dmtree.cn.replica.GatedVerbs;
import io.dmtree.cn.replica.ReplicaFailover;
import io.dmtree.cn.replica.ReplicaGate;
import io.dmtree.cn.replica.ReplicaPlacement;
import io.dmtree.cn.replica.ReplicatedChunkSource;
import io.dmtree.cn.replica.ReplicatingVerbs;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.InJvmMessageBus;
import io.dmtree.core.nic.NicModel;
import io.dmtree.core.nic.NicModelConfig;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.lock.LockDesigns;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.local.LocalVerbs;
import io.dmtree.mn.carrier.local.RegionHostMemory;
import io.dmtree.mn.local.LocalControlPlane;

import java.util.ArrayList;
import java.util.List;

/**
 * Memory nodes and compute nodes in this JVM on the {@code local} carrier, sharing one index. Each
 * compute node has its own index cache, chunk and thread ids; {@link #index(int)} is that node's
 * view of the index. With a {@link NicModelConfig} ({@link Builder#nicModel}) every compute node's
 * verbs and messages pass through one shared {@link NicModel} (figures modelled). With
 * {@link Builder#replicas} R above 1 each of the {@code memoryNodes} regions has a primary and R-1
 * mirrors, R memory nodes per region ({@link ReplicaPlacement#grouped}), and every compute node's
 * verbs mirror through {@link ReplicatingVerbs}.
 */
public final class EmbeddedCluster implements AutoCloseable {
    private final ClusterConfig config;
    private final List<MemoryNode> memoryNodes = new ArrayList<>();
    private final List<ComputeNode> computeNodes = new ArrayList<>();
    private final NicModel nic;
    private final ReplicaPlacement placement;
    private final ReplicaGate gate;
    private final List<ReplicatingVerbs> mirroring = new ArrayList<>();
    private ReplicaFailover failover;
    private final java.nio.file.Path dataDir;
    private ReopenReport reopened;
    private volatile boolean closed;

    private EmbeddedCluster(ClusterConfig config, NicModelConfig nicConfig, int replicas, java.nio.file.Path dataDir) {
        this.config = config;
        this.dataDir = dataDir;
        this.placement = ReplicaPlacement.grouped(config.memoryNodes(), replicas);
        this.gate = replicas > 1 ? new ReplicaGate(config.memoryNodes() * replicas) : null;
        if (replicas > 1 && (nicConfig != null || config.colocated())) {
            throw new IllegalArgumentException("replicas above 1 go with neither a NIC model nor colocated compute nodes");
        }
        if (replicas > 1 && dataDir != null) {
            throw new IllegalArgumentException("replicas above 1 do not yet go with a data directory: choose one of them");
        }
        this.nic = nicConfig == null ? null : new NicModel(nicConfig, config.memoryNodes());
        LockDesign design = nic == null ? LockDesigns.byName(config.lock()) : LockDesigns.byName(config.lock(), nicConfig.dilation());
        MemoryNodeConfig mnConfig = new MemoryNodeConfig(config.regionBytes(), config.chunkBytes(), config.lockTableBytes());
        try {
            if (dataDir != null) {
                memoryNodes.addAll(EmbeddedRestore.open(dataDir, config.memoryNodes(), mnConfig));
            } else {
                for (int i = 0; i < config.memoryNodes() * replicas; i++) {
                    memoryNodes.add(new MemoryNode(i, mnConfig));
                }
            }
            for (MemoryNode mn : memoryNodes) {
                mn.region().setTornReads(config.tornReads());
            }
            boolean restored = dataDir != null && EmbeddedRestore.restored(memoryNodes);
            List<Integer> recovered = restored
                    ? EmbeddedRestore.recoverEarlierLife(memoryNodes, config.tree(), design, config.threadsPerComputeNode())
                    : List.of();
            LocalControlPlane controlPlane = new LocalControlPlane(memoryNodes);
            InJvmMessageBus bus = new InJvmMessageBus();
            for (int i = 0; i < config.computeNodes(); i++) {
                boolean onHost = config.colocated() && i < memoryNodes.size();
                Verbs verbs = LocalVerbs.counted(memoryNodes);
                ChunkSource chunks = controlPlane;
                if (replicas > 1) {
                    GatedVerbs gated = new GatedVerbs(verbs, gate);
                    ReplicatingVerbs replicating = new ReplicatingVerbs(gated, placement, controlPlane.lockTableOffset(),
                            controlPlane.lockTableBytes());
                    gated.issuer(replicating);
                    mirroring.add(replicating);
                    verbs = replicating;
                    chunks = new ReplicatedChunkSource(controlPlane, replicating);
                }
                CnMessaging messaging = bus.join();
                if (nic != null) {
                    verbs = nic.verbs(verbs, onHost ? i : -1);
                    messaging = nic.messaging(messaging);
                }
                computeNodes.add(new ComputeNode(i, config.computeNodes(), verbs, chunks,
                        messaging, config.tree(), design, config.threadsPerComputeNode(), onHost ? i : -1,
                        !onHost ? null : nic != null ? nic.hostMemory(new RegionHostMemory(memoryNodes.get(i).region()))
                                : new RegionHostMemory(memoryNodes.get(i).region())));
            }
            if (replicas > 1) {
                failover = new ReplicaFailover(gate, placement, mirroring, (mn, epoch) ->
                        memoryNodes.get(mn).region().zero(controlPlane.lockTableOffset(), controlPlane.lockTableBytes()));
            }
            if (restored) {
                TreeReport check = computeNodes.get(0).check();
                reopened = new ReopenReport(memoryNodes.get(0).previousStopWasClean(), recovered, check);
                if (!check.ok()) {
                    System.err.println("dmtree: the index reopened from " + dataDir + " fails the tree checker: " + check);
                }
            }
        } catch (RuntimeException e) {
            abandon();
            throw e;
        }
    }

    /**
     * Crashes memory node {@code mn} (replicated clusters only): from now on every verb to it fails
     * with {@link io.dmtree.cn.replica.ReplicaDownException}, while its region has not failed over
     * yet (membership has not yet seen its session end); {@link #failOver} then fails it over.
     */
    public void killMemoryNode(int mn) {
        requireReplicated().kill(mn);
    }

    /**
     * Membership saw memory node {@code mn}'s session end: its region fails over
     * ({@link ReplicaFailover}); returns the placement published.
     */
    public ReplicaPlacement failOver(int mn) {
        requireReplicated();
        return failover.memoryNodeLost(mn);
    }

    /** The current placement (after any failover). */
    public ReplicaPlacement currentPlacement() {
        return failover == null ? placement : failover.placement();
    }

    private ReplicaGate requireReplicated() {
        if (gate == null) {
            throw new IllegalStateException("the cluster has one replica per region: nothing to fail over to");
        }
        return gate;
    }

    /**
     * Closes what a failed start opened without recording a clean stop in durable regions: what the
     * earlier life left may not be recovered yet, so the next open must still treat it as unclean.
     */
    private void abandon() {
        closed = true;
        for (ComputeNode cn : computeNodes) {
            cn.close();
        }
        for (MemoryNode mn : memoryNodes) {
            if (mn.durability() instanceof io.dmtree.mn.durable.DurableRegionFile f) {
                f.close();
            } else {
                mn.close();
            }
        }
    }

    /** The data directory the memory nodes' regions persist in, or null (process memory). */
    public java.nio.file.Path dataDirectory() {
        return dataDir;
    }

    /**
     * What opening found in the data directory: whether the last life stopped cleanly, which compute
     * nodes of it were recovered, and the tree checker's report; null for a cluster formatted at
     * this open (or one without a data directory).
     */
    public ReopenReport reopened() {
        return reopened;
    }

    public static Builder builder() {
        return new Builder();
    }

    public ClusterConfig config() {
        return config;
    }

    /** The modelled NIC every verb and message goes through, or null (measured as is). */
    public NicModel nicModel() {
        return nic;
    }

    public int computeNodes() {
        return config.computeNodes();
    }

    /** Regions the index addresses (memory nodes without replicas). */
    public int memoryNodes() {
        return config.memoryNodes();
    }

    /** Where each region's replicas lived at the start; with one replica, region i is memory node i. */
    public ReplicaPlacement placement() {
        return placement;
    }

    /** Memory-node processes of the cluster, mirrors included: regions times replicas. */
    public int memoryNodeProcesses() {
        return memoryNodes.size();
    }

    /** Compute node {@code cn}'s view of the index. */
    public DmIndex index(int cn) {
        return computeNode(cn).index();
    }

    /** Compute node {@code cn}'s runtime (tree, lock client, cache, verbs). */
    public ComputeNode computeNode(int cn) {
        if (closed) {
            throw new IllegalStateException("the embedded cluster is closed");
        }
        if (cn < 0 || cn >= computeNodes.size()) {
            throw new IllegalArgumentException("no compute node " + cn + "; the cluster has " + computeNodes.size());
        }
        return computeNodes.get(cn);
    }

    public MemoryNode memoryNode(int mn) {
        return memoryNodes.get(mn);
    }

    /** Traffic of all compute nodes to all memory nodes. */
    public VerbCounts memoryNodeTraffic() {
        VerbCounts sum = VerbCounts.ZERO;
        for (ComputeNode cn : computeNodes) {
            sum = sum.plus(cn.verbs().totalCounts());
        }
        return sum;
    }

    public void resetCounters() {
        for (ComputeNode cn : computeNodes) {
            if (cn.verbs() instanceof ReplicatingVerbs r) {
                r.resetCounters();
                continue;
            }
            for (int mn = 0; mn < cn.verbs().memoryNodeCount(); mn++) {
                cn.verbs().counters(mn).reset();
            }
        }
    }

    /** Runs the tree checker; quiescent use only. */
    public TreeReport check() {
        return computeNode(0).check();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ComputeNode cn : computeNodes) {
            cn.close();
        }
        for (MemoryNode mn : memoryNodes) {
            mn.close(); // a durable region: forced, then marked stopped cleanly
            if (mn.durability() instanceof io.dmtree.mn.durable.DurableRegionFile f) {
                f.close(); // the file's lock too, so the directory can be opened again
            }
        }
    }

    /**
     * Options of an embedded cluster; every one has a default. Each setter checks the whole
     * configuration at once, so a bad option fails where it is given.
     */
    public static final class Builder {
        private static final ClusterConfig DEFAULTS = ClusterConfig.defaults();
        private int memoryNodes = DEFAULTS.memoryNodes();
        private int computeNodes = DEFAULTS.computeNodes();
        private TreeConfig tree = DEFAULTS.tree();
        private String lock = DEFAULTS.lock();
        private long regionBytes = DEFAULTS.regionBytes();
        private long chunkBytes = DEFAULTS.chunkBytes();
        private long lockTableBytes = DEFAULTS.lockTableBytes();
        private int threadsPerComputeNode = DEFAULTS.threadsPerComputeNode();
        private boolean tornReads = DEFAULTS.tornReads();
        private boolean colocated = DEFAULTS.colocated();
        private NicModelConfig nicModel;
        private int replicas = 1;
        private java.nio.file.Path dataDir;

        private Builder checked() {
            config();
            return this;
        }

        public Builder memoryNodes(int n) {
            memoryNodes = n;
            return checked();
        }

        public Builder computeNodes(int n) {
            computeNodes = n;
            return checked();
        }

        public Builder keyBytes(int n) {
            tree = tree.withKeyBytes(n);
            return checked();
        }

        public Builder valueBytes(int n) {
            tree = tree.withValueBytes(n);
            return checked();
        }

        /**
         * Variable-length values (0 to {@link io.dmtree.core.tree.ValueLayout#MAX_VALUE_BYTES} bytes,
         * through {@link CnIndex#values()}): the value width is then the leaf's value slot, and values
         * longer than the slot less 4 bytes go to value blocks. Off by default (fixed-width values).
         */
        public Builder variableValues(boolean on) {
            tree = tree.withValueFormat(on ? io.dmtree.core.tree.ValueFormat.VARIABLE : io.dmtree.core.tree.ValueFormat.FIXED);
            return checked();
        }

        /**
         * Variable-length keys of 0 to {@code maxKeyBytes} bytes (at most
         * {@link io.dmtree.core.tree.KeyLayout#MAX_KEY_BYTES}), in unsigned lexicographic order, through
         * {@link CnIndex#values()}; implies variable-length values. Each key takes the slot of the
         * longest ({@link io.dmtree.core.tree.KeyLayout}), so the maximum sizes the nodes.
         */
        public Builder variableKeys(int maxKeyBytes) {
            tree = tree.withVariableKeys(maxKeyBytes);
            return checked();
        }

        public Builder nodeBytes(int n) {
            tree = tree.withNodeBytes(n);
            return checked();
        }

        public Builder lock(String design) {
            lock = design;
            return checked();
        }

        public Builder regionBytes(long n) {
            regionBytes = n;
            return checked();
        }

        public Builder chunkBytes(long n) {
            chunkBytes = n;
            return checked();
        }

        public Builder lockTableBytes(long n) {
            lockTableBytes = n;
            return checked();
        }

        public Builder cacheBytes(long n) {
            tree = tree.withCacheBytes(n);
            return checked();
        }

        public Builder threadsPerComputeNode(int n) {
            threadsPerComputeNode = n;
            return checked();
        }

        /**
         * Compute node i shares a host with memory node i (for i below both counts) and reaches its
         * memory by CPU access; lock designs with a local path ({@code alock}) use it.
         */
        public Builder colocated(boolean on) {
            colocated = on;
            return this;
        }

        /** Every verb and compute-node message through a modelled NIC (null: none); figures are then modelled. */
        public Builder nicModel(NicModelConfig nic) {
            nicModel = nic;
            return this;
        }

        /**
         * Replicas of each region: 1 (none, the default), 2 or 3. The cluster then runs
         * {@code memoryNodes * replicas} memory nodes and mirrors every region synchronously.
         */
        public Builder replicas(int r) {
            if (r < 1 || r > ReplicaPlacement.MAX_REPLICAS) {
                throw new IllegalArgumentException("replicas must be 1, 2 or 3: " + r);
            }
            replicas = r;
            return this;
        }

        /**
         * Keeps the index in {@code dir} (created if missing; null: in memory, the default): each
         * memory node's region is a memory-mapped file there, restored by every later open, in this
         * JVM or another, with every write acknowledged before. Closing forces the files and marks a
         * clean stop; after a process that was killed, opening recovers what its compute nodes left
         * half done and runs the tree checker ({@link EmbeddedCluster#reopened()}). Only one open
         * cluster at a time may use a directory. See {@link io.dmtree.mn.durable.DurableRegionFile}
         * for what survives a process kill and what a host crash.
         */
        public Builder data(java.nio.file.Path dir) {
            dataDir = dir;
            return this;
        }

        /** Test aid: the local carrier tears wide reads, shuffling their cache lines. */
        public Builder tornReads(boolean on) {
            tornReads = on;
            return this;
        }

        public ClusterConfig config() {
            return new ClusterConfig(memoryNodes, computeNodes, tree, lock, regionBytes, chunkBytes, lockTableBytes,
                    threadsPerComputeNode, tornReads, colocated);
        }

        /** Starts the cluster. */
        public EmbeddedCluster start() {
            return new EmbeddedCluster(config(), nicModel, replicas, dataDir);
        }

        /** Starts a cluster and returns its first compute node's index; closing the index stops the cluster. */
        public DmIndex open() {
            EmbeddedCluster cluster = start();
            CnIndex index = (CnIndex) cluster.index(0);
            index.onClose(cluster::close);
            return index;
        }
    }
}
