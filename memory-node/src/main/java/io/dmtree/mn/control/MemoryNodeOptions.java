package io.dmtree.mn.control;

import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.carrier.CarrierRegistry;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ConnectionLimits;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.CarrierServer;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * How to run one memory node process.
 *
 * @param id                memory-node id; 0 coordinates the cluster
 * @param listen            control plane (and tcp verbs) bind address; port 0 picks a free port
 * @param advertise         the host peers reach this memory node by, or null: the listen host, and for a
 *                          wildcard listen address the host each compute node used to reach it
 * @param region            region, chunk and lock-table sizes
 * @param transport         the carrier compute nodes use for the data path, by name (local, shm, tcp, rdma)
 * @param dir               where the id lock and, for shm, the region file live
 * @param maxFrameBytes     the largest frame the memory node accepts (tcp verbs)
 * @param carrierOptions    options for the carrier (e.g. {@code rdma.listen})
 * @param limits            what the front door tolerates from its peers: connections, buffers, timeouts
 * @param controlFrameBytes the largest control-plane frame (at most {@code maxFrameBytes} applies too)
 * @param coordination      the cluster's membership service, or {@link Coordination#none()}
 * @param secret            the cluster secret every peer of the front door must prove and that this memory
 *                          node proves to them ({@link ClusterSecret}), or null: every peer is admitted
 * @param dataDir           where the region persists ({@code --data}: a durable region, restarted from), or
 *                          null: the region lives as long as the process
 */
public record MemoryNodeOptions(int id, InetSocketAddress listen, String advertise, MemoryNodeConfig region, String transport,
                                Path dir, int maxFrameBytes, CarrierOptions carrierOptions, ConnectionLimits limits,
                                int controlFrameBytes, Coordination coordination, ClusterSecret secret, Path dataDir) {
    public static final int DEFAULT_MAX_FRAME_BYTES = 16 << 20;
    public static final int DEFAULT_CONTROL_FRAME_BYTES = ControlService.MAX_REQUEST_BYTES;
    /** The front door's defaults for a memory node (see {@link ConnectionLimits#MEMORY_NODE}). */
    public static final ConnectionLimits DEFAULT_LIMITS = ConnectionLimits.MEMORY_NODE;

    public MemoryNodeOptions {
        if (id < 0 || id >= 0xFFFF) {
            throw new IllegalArgumentException("memory node id must be in [0, 65535): " + id);
        }
        if (maxFrameBytes < 64 * 1024) {
            throw new IllegalArgumentException("frame limit must be at least 64 KiB: " + maxFrameBytes);
        }
        limits = limits == null ? DEFAULT_LIMITS : limits;
        if (controlFrameBytes < 4096) {
            throw new IllegalArgumentException("control frame limit must be at least 4 KiB: " + controlFrameBytes);
        }
        limits.budgetFor(maxFrameBytes); // a receive budget too small for one frame is refused here, with its reason
        transport = CarrierRegistry.find(CarrierServer.class, transport).name();
        carrierOptions = carrierOptions == null ? CarrierOptions.NONE : carrierOptions;
        advertise = advertise == null || advertise.isBlank() ? null : advertise.trim();
        coordination = coordination == null ? Coordination.none() : coordination;
        if (coordination.isEmbedded() && id != 0) {
            throw new IllegalArgumentException("only memory node 0 runs the embedded ZooKeeper; memory node " + id
                    + " connects to memory node 0's");
        }
    }

    /** Options without a cluster secret, of a region in process memory. */
    public MemoryNodeOptions(int id, InetSocketAddress listen, String advertise, MemoryNodeConfig region, String transport,
                             Path dir, int maxFrameBytes, CarrierOptions carrierOptions, ConnectionLimits limits,
                             int controlFrameBytes, Coordination coordination) {
        this(id, listen, advertise, region, transport, dir, maxFrameBytes, carrierOptions, limits, controlFrameBytes,
                coordination, null, null);
    }

    /** Options without membership ({@link Coordination#none()}). */
    public MemoryNodeOptions(int id, InetSocketAddress listen, String advertise, MemoryNodeConfig region, String transport,
                             Path dir, int maxFrameBytes, CarrierOptions carrierOptions, ConnectionLimits limits,
                             int controlFrameBytes) {
        this(id, listen, advertise, region, transport, dir, maxFrameBytes, carrierOptions, limits, controlFrameBytes, null);
    }

    /** A memory node that takes part in membership as {@code c} says. */
    public MemoryNodeOptions withCoordination(Coordination c) {
        return new MemoryNodeOptions(id, listen, advertise, region, transport, dir, maxFrameBytes, carrierOptions, limits,
                controlFrameBytes, c, secret, dataDir);
    }

    /** A memory node with default advertise address, frame limits, carrier options and connection limits, and no membership. */
    public static MemoryNodeOptions of(int id, InetSocketAddress listen, MemoryNodeConfig region, String transport, Path dir) {
        return new MemoryNodeOptions(id, listen, null, region, transport, dir, DEFAULT_MAX_FRAME_BYTES, CarrierOptions.NONE,
                DEFAULT_LIMITS, DEFAULT_CONTROL_FRAME_BYTES);
    }

    public MemoryNodeOptions withMaxFrameBytes(int bytes) {
        return new MemoryNodeOptions(id, listen, advertise, region, transport, dir, bytes, carrierOptions, limits, controlFrameBytes, coordination, secret, dataDir);
    }

    public MemoryNodeOptions withCarrierOptions(CarrierOptions o) {
        return new MemoryNodeOptions(id, listen, advertise, region, transport, dir, maxFrameBytes, o, limits, controlFrameBytes, coordination, secret, dataDir);
    }

    public MemoryNodeOptions withAdvertise(String host) {
        return new MemoryNodeOptions(id, listen, host, region, transport, dir, maxFrameBytes, carrierOptions, limits, controlFrameBytes, coordination, secret, dataDir);
    }

    public MemoryNodeOptions withLimits(ConnectionLimits l) {
        return new MemoryNodeOptions(id, listen, advertise, region, transport, dir, maxFrameBytes, carrierOptions, l, controlFrameBytes, coordination, secret, dataDir);
    }

    public MemoryNodeOptions withControlFrameBytes(int bytes) {
        return new MemoryNodeOptions(id, listen, advertise, region, transport, dir, maxFrameBytes, carrierOptions, limits, bytes, coordination, secret, dataDir);
    }

    /** A memory node whose front door admits only peers that prove {@code s} (null: every peer). */
    public MemoryNodeOptions withSecret(ClusterSecret s) {
        return new MemoryNodeOptions(id, listen, advertise, region, transport, dir, maxFrameBytes, carrierOptions, limits,
                controlFrameBytes, coordination, s, dataDir);
    }

    /**
     * Where memory node 0 writes the cluster secret it generates ({@code dmtree mn} without {@code --secret}):
     * in the data directory for durable regions (kept, as they are), else in {@code dir}.
     */
    public Path secretFile() {
        // a durable cluster outlives this process, and so must its secret: it is kept beside the region
        return (dataDir != null ? dataDir : dir).resolve("dmtree-cluster.secret");
    }

    /** A memory node whose region persists in {@code dir} (a durable region), or in process memory for null. */
    public MemoryNodeOptions withDataDir(Path dir) {
        return new MemoryNodeOptions(id, listen, advertise, region, transport, this.dir, maxFrameBytes, carrierOptions, limits,
                controlFrameBytes, coordination, secret, dir);
    }

    /** Whether the region persists in {@link #dataDir()}. */
    public boolean durable() {
        return dataDir != null;
    }

    public Path lockFile() {
        return dir.resolve("dmtree-mn" + id + ".lock");
    }

    /**
     * Where memory node 0's embedded ZooKeeper keeps its data: with a data directory, in it (kept, so
     * the cluster's membership, epochs and fence book survive with the regions); else in {@code dir},
     * removed when it stops ({@code --clean} after a kill).
     */
    public Path zkDataDir() {
        return dataDir != null ? dataDir.resolve("dmtree-mn" + id + ".zkdata") : dir.resolve("dmtree-mn" + id + ".zk");
    }
}
