package io.dmtree.cn.control;

import io.dmtree.cn.carrier.CarrierClient;
import io.dmtree.cn.carrier.CarrierLink;
import io.dmtree.cn.carrier.ConnectContext;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.carrier.CarrierRegistry;
import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.CountingVerbs;
import io.dmtree.core.memory.ModelledLatencyVerbs;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.ModelledLatencyMessaging;
import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.HostPort;
import io.dmtree.core.wire.RegionDescription;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
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
 *
 * <p>Across hosts: memory nodes advertise the host of their data endpoints in their region
 * descriptions, and this compute node advertises the host of its messaging endpoint in memory
 * node 0's directory (see {@link Options}). The carrier's messaging checks at join that its
 * advertised endpoint reaches it; a failure to reach a memory node's data endpoint fails the join
 * naming the endpoints as advertised. Every such check is bounded by the timeout.
 *
 * <p>With a modelled round-trip time ({@link Options#modelledRttNanos()}), every verb round trip
 * is delayed by it ({@link ModelledLatencyVerbs}) and every message to another compute node by half
 * of it ({@link ModelledLatencyMessaging}): figures taken so are modelled.
 */
public final class ClusterClient implements AutoCloseable {
    private final int computeNode;
    private final String transport;
    private final List<ControlClient> control;
    private final ControlClient directoryConnection;
    private final List<RegionDescription> regions;
    private final CarrierLink link;
    private final CnMessaging messaging;
    private final CountingVerbs verbs;
    private final ChunkSource chunks;
    private final long rootPointer;
    private final long modelledRttNanos;
    private final MemoryNodeLossNotices lossNotices = new MemoryNodeLossNotices();

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
     * @param modelledRttNanos   0, or a modelled network round-trip time added to every verb round trip
     *                           (and half of it to every message to another compute node)
     */
    public record Options(List<InetSocketAddress> memoryNodes, int computeNodeId, int timeoutMillis,
                          InetSocketAddress messagingListen, String messagingAdvertise, CarrierOptions carrierOptions,
                          long modelledRttNanos) {
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
            if (messagingListen.isUnresolved()) {
                throw new IllegalArgumentException("the messaging listen host " + messagingListen.getHostString()
                        + " does not resolve");
            }
            messagingAdvertise = messagingAdvertise == null || messagingAdvertise.isBlank() ? null : messagingAdvertise.trim();
            if (modelledRttNanos < 0) {
                throw new IllegalArgumentException("modelled round-trip time must not be negative: " + modelledRttNanos);
            }
        }

        public static Options of(List<InetSocketAddress> memoryNodes) {
            return new Options(memoryNodes, ControlFrame.ANY_COMPUTE_NODE, 30_000, null, null, CarrierOptions.NONE, 0);
        }

        public Options withTimeoutMillis(int ms) {
            return new Options(memoryNodes, computeNodeId, ms, messagingListen, messagingAdvertise, carrierOptions,
                    modelledRttNanos);
        }

        public Options withComputeNodeId(int id) {
            return new Options(memoryNodes, id, timeoutMillis, messagingListen, messagingAdvertise, carrierOptions,
                    modelledRttNanos);
        }

        public Options withMessaging(InetSocketAddress listen, String advertise) {
            return new Options(memoryNodes, computeNodeId, timeoutMillis, listen, advertise, carrierOptions, modelledRttNanos);
        }

        public Options withCarrierOptions(CarrierOptions o) {
            return new Options(memoryNodes, computeNodeId, timeoutMillis, messagingListen, messagingAdvertise, o,
                    modelledRttNanos);
        }

        /** Every verb round trip takes {@code micros} longer, every message half of it (modelled). */
        public Options withModelledRttMicros(long micros) {
            if (micros < 0 || micros > 10_000_000) {
                throw new IllegalArgumentException("modelled round-trip time must be in [0, 10 s]: " + micros + " us");
            }
            return new Options(memoryNodes, computeNodeId, timeoutMillis, messagingListen, messagingAdvertise, carrierOptions,
                    micros * 1000);
        }
    }

    private ClusterClient(int computeNode, String transport, List<ControlClient> control, ControlClient directoryConnection,
                          List<RegionDescription> regions, CarrierLink link, long rootPointer, long modelledRttNanos) {
        this.computeNode = computeNode;
        this.transport = transport;
        this.control = control;
        this.directoryConnection = directoryConnection;
        this.regions = regions;
        this.link = link;
        this.verbs = CountingVerbs.over(modelledRttNanos > 0 ? new ModelledLatencyVerbs(link.verbs(), modelledRttNanos)
                : link.verbs());
        this.messaging = modelledRttNanos > 0 ? new ModelledLatencyMessaging(link.messaging(), modelledRttNanos / 2)
                : link.messaging();
        this.chunks = new RemoteChunkSource(control, regions);
        this.rootPointer = rootPointer;
        this.modelledRttNanos = modelledRttNanos;
    }

    /** Joins the cluster; every failure names the memory node and what to do. */
    public static ClusterClient join(Options o) {
        List<ControlClient> control = new ArrayList<>();
        ControlClient directory = null;
        CarrierLink link = null;
        ClusterClient joined = null;
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
            ConnectContext context = new ConnectContext(cn, 0, regions, o.memoryNodes(), peers, o.messagingListen(),
                    advertisedHost(o, control.get(0)), o.timeoutMillis(), o.carrierOptions());
            try {
                link = carrier.connect(context);
            } catch (RuntimeException e) {
                throw new ControlException("compute node " + cn + " cannot connect the " + t + " carrier: " + e.getMessage()
                        + " [" + endpoints(context) + "; timeout " + o.timeoutMillis() + " ms]", e);
            }
            control.get(0).registerEndpoint(link.endpoint());
            long root = control.get(0).rootHome();
            ClusterClient client = new ClusterClient(cn, t, control, directory, regions, link, root, o.modelledRttNanos());
            joined = client;
            for (ControlClient c : control) {
                int mn = c.memoryNodeId();
                c.watch(reason -> client.memoryNodeLost(mn, reason));
            }
            return client;
        } catch (RuntimeException e) {
            if (joined != null) {
                joined.messaging.close();
            }
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
     * The endpoints a carrier connects through, as advertised, for error messages: each memory
     * node's data endpoint (from its region description) and this compute node's messaging.
     */
    private static String endpoints(ConnectContext c) {
        StringBuilder b = new StringBuilder("data endpoints as the memory nodes advertise them: ");
        for (int i = 0; i < c.regions().size(); i++) {
            RegionDescription d = c.regions().get(i);
            b.append(i == 0 ? "" : ", ").append("memory node ").append(d.memoryNode()).append(" at ");
            if (!d.shmPath().isEmpty()) {
                b.append(d.shmPath());
            } else if (d.port() > 0) {
                b.append(HostPort.format(InetSocketAddress.createUnresolved(c.dataHost(i), d.port())));
            } else {
                b.append(c.dataHost(i));
            }
        }
        b.append(" (a memory node's --advertise names the host compute nodes reach it by); this compute node's messaging"
                + " binds ").append(HostPort.format(c.messagingListen())).append(" and advertises ").append(c.messagingAdvertise());
        return b.toString();
    }

    /**
     * The host other compute nodes reach this one's messaging endpoint by: as given; else the
     * listen host when it is a specific address; else the local address of this host's
     * connection to memory node 0, which every member of the cluster can reach. A host given that
     * does not resolve, or is a wildcard, is refused here, naming it.
     */
    private static String advertisedHost(Options o, ControlClient memoryNode0) {
        if (o.messagingAdvertise() != null) {
            String host = o.messagingAdvertise();
            InetAddress a;
            try {
                a = InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                throw new ControlException("the advertised messaging host " + host + " does not resolve; --advertise names"
                        + " an address of this host that the other compute nodes can reach");
            }
            if (a.isAnyLocalAddress()) {
                throw new ControlException("the advertised messaging host " + host + " is a wildcard address no other compute"
                        + " node can connect to; --advertise names an address of this host that they can reach");
            }
            return host;
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
        lossNotices.lost(reason);
    }

    /**
     * Runs {@code listener} once with the reason when a memory node of this cluster is lost (at once
     * if one was lost already); a long-lived client uses it to rejoin. It runs on the watching
     * thread, so it must not block.
     */
    public void onMemoryNodeLost(java.util.function.Consumer<String> listener) {
        lossNotices.listen(listener);
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
        return messaging;
    }

    /** The modelled round-trip time added to every verb round trip, or 0 (measured as is). */
    public long modelledRttNanos() {
        return modelledRttNanos;
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

    /**
     * Arrives at barrier {@code name} of memory node 0 with {@code payload} and hangs up at once,
     * which ends this compute node's session there (see {@link ControlClient#arriveAndHangUp}): the
     * other parties of the round still get {@code payload}. Call {@link #close()} afterwards to leave
     * the other memory nodes. {@code members} empty: a counting barrier of {@code parties}.
     */
    public void arriveAndHangUp(String name, int parties, java.util.Set<Integer> members, int waitMillis, byte[] payload,
                                int refusalWaitMillis) {
        control.get(0).arriveAndHangUp(name, parties, members, waitMillis, payload, refusalWaitMillis);
    }

    /** Leaves every memory node and closes the carrier. */
    @Override
    public void close() {
        messaging.close();
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
