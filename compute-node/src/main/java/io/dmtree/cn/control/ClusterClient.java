package io.dmtree.cn.control;

import io.dmtree.cn.carrier.CarrierClient;
import io.dmtree.cn.carrier.CarrierLink;
import io.dmtree.cn.carrier.ConnectContext;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.carrier.CarrierRegistry;
import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.CountingVerbs;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.RegionDescription;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A compute node's membership in a cluster of memory-node processes: joins every memory node
 * (memory node 0 assigns the compute-node id), reads each region description, checks they agree
 * (one transport), finds the carrier's client half by the transport's name in the
 * {@link CarrierRegistry}, and builds what the compute-node runtime needs: counted
 * {@link Verbs} ({@link CountingVerbs} over the carrier's), a {@link ChunkSource}, the
 * {@link CnMessaging} endpoint (registered in memory node 0's directory), the root pointer's
 * address, and barriers. It watches every memory node; when one stops, the carrier is told and its
 * verbs fail with a message saying so. {@link #close()} leaves the cluster.
 */
public final class ClusterClient implements AutoCloseable {
    private final int computeNode;
    private final String transport;
    private final List<ControlClient> control;
    private final ControlClient directoryConnection;
    private final List<RegionDescription> regions;
    private final CarrierLink link;
    private final CountingVerbs verbs;
    private final ChunkSource chunks;
    private final long rootPointer;

    /**
     * Options of a compute node joining memory-node processes.
     *
     * @param memoryNodes        control addresses of memory nodes 0..n-1, in id order
     * @param computeNodeId      the id wanted, or {@link ControlFrame#ANY_COMPUTE_NODE}
     * @param timeoutMillis      control calls, connections, verbs and messaging give up after this
     * @param messagingListen    where this compute node's messaging endpoint binds (port 0: any free port;
     *                           default every interface)
     * @param messagingAdvertise the host other compute nodes reach it by; null: the listen host, or for
     *                           a wildcard listen address the local address by which this host reaches
     *                           memory node 0
     * @param carrierOptions     options of the carrier ({@code tcp.connections=2}, ...)
     */
    public record Options(List<InetSocketAddress> memoryNodes, int computeNodeId, int timeoutMillis,
                          InetSocketAddress messagingListen, String messagingAdvertise, CarrierOptions carrierOptions) {
        public Options {
            memoryNodes = List.copyOf(memoryNodes);
            if (memoryNodes.isEmpty()) {
                throw new IllegalArgumentException("name at least one memory node (--mn HOST:PORT,...)");
            }
            if (timeoutMillis < 1) {
                throw new IllegalArgumentException("timeout must be positive: " + timeoutMillis);
            }
            carrierOptions = carrierOptions == null ? CarrierOptions.NONE : carrierOptions;
            messagingListen = messagingListen == null ? new InetSocketAddress("0.0.0.0", 0) : messagingListen;
        }

        public static Options of(List<InetSocketAddress> memoryNodes) {
            return new Options(memoryNodes, ControlFrame.ANY_COMPUTE_NODE, 30_000, null, null, CarrierOptions.NONE);
        }

        public Options withTimeoutMillis(int ms) {
            return new Options(memoryNodes, computeNodeId, ms, messagingListen, messagingAdvertise, carrierOptions);
        }

        public Options withComputeNodeId(int id) {
            return new Options(memoryNodes, id, timeoutMillis, messagingListen, messagingAdvertise, carrierOptions);
        }

        public Options withMessaging(InetSocketAddress listen, String advertise) {
            return new Options(memoryNodes, computeNodeId, timeoutMillis, listen, advertise, carrierOptions);
        }

        public Options withCarrierOptions(CarrierOptions o) {
            return new Options(memoryNodes, computeNodeId, timeoutMillis, messagingListen, messagingAdvertise, o);
        }
    }

    private ClusterClient(int computeNode, String transport, List<ControlClient> control, ControlClient directoryConnection,
                          List<RegionDescription> regions, CarrierLink link, long rootPointer) {
        this.computeNode = computeNode;
        this.transport = transport;
        this.control = control;
        this.directoryConnection = directoryConnection;
        this.regions = regions;
        this.link = link;
        this.verbs = CountingVerbs.over(link.verbs());
        this.chunks = new RemoteChunkSource(control, regions);
        this.rootPointer = rootPointer;
    }

    /** Joins the cluster; every failure names the memory node and what to do. */
    public static ClusterClient join(Options o) {
        List<ControlClient> control = new ArrayList<>();
        ControlClient directory = null;
        CarrierLink link = null;
        try {
            for (int i = 0; i < o.memoryNodes().size(); i++) {
                ControlClient c = ControlClient.connect(o.memoryNodes().get(i), o.timeoutMillis());
                control.add(c);
                if (c.memoryNodeId() != i) {
                    throw new ControlException("the memory node at " + ControlClient.describe(c.address()) + " has id "
                            + c.memoryNodeId() + " but is listed at position " + i + "; list memory nodes in id order, 0 first");
                }
            }
            int cn = control.get(0).join(o.computeNodeId());
            List<RegionDescription> regions = new ArrayList<>();
            for (int i = 0; i < control.size(); i++) {
                if (i > 0) {
                    control.get(i).join(cn);
                }
                regions.add(control.get(i).describe());
            }
            String t = regions.get(0).transport();
            for (RegionDescription d : regions) {
                if (!d.transport().equals(t)) {
                    throw new ControlException("memory node " + d.memoryNode() + " serves " + d.transport()
                            + " but memory node 0 serves " + t + ": start every memory node with the same --transport");
                }
            }
            CarrierClient carrier;
            try {
                carrier = CarrierRegistry.find(CarrierClient.class, t);
            } catch (IllegalArgumentException e) {
                throw new ControlException("memory node 0 serves the " + t + " transport, which this compute node does not have: "
                        + e.getMessage());
            }
            String missing = carrier.unavailableReason();
            if (missing != null) {
                throw new ControlException(missing);
            }
            directory = ControlClient.connect(o.memoryNodes().get(0), o.timeoutMillis());
            ControlClient dir = directory;
            io.dmtree.cn.messaging.PeerDirectory peers = (peer, wait) -> lookup(dir, peer, wait);
            link = carrier.connect(new ConnectContext(cn, regions, o.memoryNodes(), peers, o.messagingListen(),
                    advertisedHost(o, control.get(0)), o.timeoutMillis(), o.carrierOptions()));
            control.get(0).registerEndpoint(link.endpoint());
            long root = control.get(0).rootHome();
            ClusterClient client = new ClusterClient(cn, t, control, directory, regions, link, root);
            for (ControlClient c : control) {
                int mn = c.memoryNodeId();
                c.watch(reason -> client.memoryNodeLost(mn, reason));
            }
            return client;
        } catch (RuntimeException e) {
            if (link != null) {
                link.close();
            }
            if (directory != null) {
                directory.close();
            }
            control.forEach(ControlClient::close);
            throw e;
        }
    }

    /**
     * The host other compute nodes reach this one's messaging endpoint by: as given; else the
     * listen host when it is a specific address; else the local address of this host's
     * connection to memory node 0, which every member of the cluster can reach.
     */
    private static String advertisedHost(Options o, ControlClient memoryNode0) {
        if (o.messagingAdvertise() != null && !o.messagingAdvertise().isBlank()) {
            return o.messagingAdvertise();
        }
        InetSocketAddress listen = o.messagingListen();
        if (listen.getAddress() != null && !listen.getAddress().isAnyLocalAddress()) {
            return listen.getHostString();
        }
        return memoryNode0.localAddress().getAddress().getHostAddress();
    }

    private static Optional<String> lookup(ControlClient directory, int cn, int waitMillis) {
        return directory.lookupEndpoint(cn, waitMillis);
    }

    private void memoryNodeLost(int mn, String reason) {
        System.err.println("dmtree: " + reason);
        link.memoryNodeLost(mn, reason);
    }

    public int computeNodeId() {
        return computeNode;
    }

    /** The carrier's name: local, shm, tcp or rdma. */
    public String transport() {
        return transport;
    }

    public CountingVerbs verbs() {
        return verbs;
    }

    public CnMessaging messaging() {
        return link.messaging();
    }

    public ChunkSource chunkSource() {
        return chunks;
    }

    /** The global address of the root pointer (memory node 0's superblock). */
    public long rootPointer() {
        return rootPointer;
    }

    public List<RegionDescription> regions() {
        return regions;
    }

    /** Waits until {@code parties} compute nodes arrived at {@code name}; returns their payloads by id. */
    public Map<Integer, byte[]> barrier(String name, int parties, int waitMillis, byte[] payload) {
        return control.get(0).barrier(name, parties, waitMillis, payload);
    }

    /**
     * Waits at the barrier {@code name} of {@code members} (this compute node among them) until each
     * member arrived or left the cluster; returns the arrivals' payloads and who left. A member that
     * dies therefore does not hold up the others.
     */
    public BarrierRelease barrierOf(String name, java.util.Set<Integer> members, int waitMillis, byte[] payload) {
        return control.get(0).barrier(name, members.size(), members, waitMillis, payload);
    }

    /** Leaves every memory node and closes the carrier. */
    @Override
    public void close() {
        link.messaging().close();
        for (ControlClient c : control) {
            try {
                c.leave();
            } catch (ControlException e) {
                // the memory node is gone already
            }
            c.close();
        }
        directoryConnection.close();
        link.close();
    }
}
