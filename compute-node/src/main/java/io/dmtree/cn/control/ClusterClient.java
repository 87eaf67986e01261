package io.dmtree.cn.control;

import io.dmtree.cn.rdma.RdmaMessaging;
import io.dmtree.cn.rdma.RdmaVerbs;
import io.dmtree.cn.shm.ShmMessaging;
import io.dmtree.cn.shm.ShmVerbs;
import io.dmtree.cn.tcp.TcpMessaging;
import io.dmtree.cn.tcp.TcpVerbs;
import io.dmtree.cn.tcp.TcpVerbsConfig;
import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.mn.control.ControlFrame;
import io.dmtree.mn.control.RegionDescription;
import io.dmtree.mn.control.Transport;
import io.dmtree.mn.rdma.RdmaSupport;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A compute node's membership in a cluster of memory-node processes: joins every memory node
 * (memory node 0 assigns the compute-node id), reads each region description, checks they agree
 * (one transport, one chunk size), and builds what the compute-node runtime needs: the
 * {@link Verbs} of the memory nodes' transport, a {@link ChunkSource}, the {@link CnMessaging}
 * endpoint (registered in memory node 0's directory), the root pointer's address, and barriers.
 * It watches every memory node; when one stops, its verbs fail with a message saying so.
 * {@link #close()} leaves the cluster.
 */
public final class ClusterClient implements AutoCloseable {
    private final int computeNode;
    private final Transport transport;
    private final List<ControlClient> control;
    private final ControlClient directoryConnection;
    private final List<RegionDescription> regions;
    private final Verbs verbs;
    private final CnMessaging messaging;
    private final ChunkSource chunks;
    private final long rootPointer;

    /**
     * Options of a compute node joining memory-node processes.
     *
     * @param memoryNodes    control addresses of memory nodes 0..n-1, in id order
     * @param computeNodeId  the id wanted, or {@link ControlFrame#ANY_COMPUTE_NODE}
     * @param timeoutMillis  control calls, connections, verbs and messaging give up after this
     * @param messagingHost  the host a tcp messaging endpoint listens on (loopback by default)
     * @param tcp            options of the tcp carrier
     */
    public record Options(List<InetSocketAddress> memoryNodes, int computeNodeId, int timeoutMillis, String messagingHost,
                          TcpVerbsConfig tcp) {
        public Options {
            memoryNodes = List.copyOf(memoryNodes);
            if (memoryNodes.isEmpty()) {
                throw new IllegalArgumentException("name at least one memory node (--mn HOST:PORT,...)");
            }
        }

        public static Options of(List<InetSocketAddress> memoryNodes) {
            return new Options(memoryNodes, ControlFrame.ANY_COMPUTE_NODE, 30_000, "127.0.0.1", TcpVerbsConfig.defaults());
        }

        public Options withTimeoutMillis(int ms) {
            return new Options(memoryNodes, computeNodeId, ms, messagingHost, tcp.withTimeoutMillis(ms));
        }

        public Options withComputeNodeId(int id) {
            return new Options(memoryNodes, id, timeoutMillis, messagingHost, tcp);
        }
    }

    private ClusterClient(int computeNode, Transport transport, List<ControlClient> control, ControlClient directoryConnection,
                          List<RegionDescription> regions, Verbs verbs, CnMessaging messaging, long rootPointer) {
        this.computeNode = computeNode;
        this.transport = transport;
        this.control = control;
        this.directoryConnection = directoryConnection;
        this.regions = regions;
        this.verbs = verbs;
        this.messaging = messaging;
        this.chunks = new RemoteChunkSource(control, regions);
        this.rootPointer = rootPointer;
    }

    /** Joins the cluster; every failure names the memory node and what to do. */
    public static ClusterClient join(Options o) {
        List<ControlClient> control = new ArrayList<>();
        ControlClient directory = null;
        Verbs verbs = null;
        CnMessaging messaging = null;
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
            Transport t = regions.get(0).transport();
            for (RegionDescription d : regions) {
                if (d.transport() != t) {
                    throw new ControlException("memory node " + d.memoryNode() + " serves " + d.transport().cliName()
                            + " but memory node 0 serves " + t.cliName() + ": start every memory node with the same --transport");
                }
            }
            directory = ControlClient.connect(o.memoryNodes().get(0), o.timeoutMillis());
            ControlClient dir = directory;
            io.dmtree.cn.messaging.PeerDirectory peers = (peer, wait) -> lookup(dir, peer, wait);
            String endpoint;
            switch (t) {
                case LOCAL -> throw new ControlException("memory node 0 runs the local transport, which serves only compute "
                        + "nodes in its own JVM; start memory nodes with --transport shm (one host) or tcp");
                case SHM -> {
                    List<Path> files = new ArrayList<>();
                    List<Long> sizes = new ArrayList<>();
                    for (RegionDescription d : regions) {
                        files.add(Path.of(d.shmPath()));
                        sizes.add(d.regionBytes());
                    }
                    verbs = ShmVerbs.map(files, sizes);
                    ShmMessaging m = ShmMessaging.create(cn, Path.of(regions.get(0).shmPath()).getParent(),
                            ShmMessaging.DEFAULT_CAPACITY, peers, o.timeoutMillis());
                    messaging = m;
                    endpoint = m.endpoint();
                }
                case TCP -> {
                    List<InetSocketAddress> addresses = new ArrayList<>();
                    for (int i = 0; i < regions.size(); i++) {
                        RegionDescription d = regions.get(i);
                        String host = d.host();
                        if (host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0")) {
                            host = o.memoryNodes().get(i).getHostString(); // listening on every interface: use the one we reached
                        }
                        addresses.add(new InetSocketAddress(host, d.port()));
                    }
                    verbs = TcpVerbs.connect(addresses, o.tcp());
                    TcpMessaging m = TcpMessaging.start(cn, new InetSocketAddress(o.messagingHost(), 0), peers, o.timeoutMillis());
                    messaging = m;
                    endpoint = m.endpoint();
                }
                case RDMA -> {
                    String missing = RdmaSupport.missing();
                    if (missing != null) {
                        throw new ControlException(missing);
                    }
                    verbs = RdmaVerbs.connect(regions, o.timeoutMillis());
                    RdmaMessaging m = RdmaMessaging.start(cn, new InetSocketAddress(o.messagingHost(), 0), peers, o.timeoutMillis());
                    messaging = m;
                    endpoint = m.endpoint();
                }
                default -> throw new IllegalStateException("unknown transport " + t);
            }
            control.get(0).registerEndpoint(endpoint);
            long root = control.get(0).rootHome();
            ClusterClient client = new ClusterClient(cn, t, control, directory, regions, verbs, messaging, root);
            for (ControlClient c : control) {
                int mn = c.memoryNodeId();
                c.watch(reason -> client.memoryNodeLost(mn, reason));
            }
            return client;
        } catch (RuntimeException e) {
            if (messaging != null) {
                messaging.close();
            }
            if (verbs instanceof AutoCloseable ac) {
                closeQuietly(ac);
            }
            if (directory != null) {
                directory.close();
            }
            control.forEach(ControlClient::close);
            throw e;
        }
    }

    private static Optional<String> lookup(ControlClient directory, int cn, int waitMillis) {
        return directory.lookupEndpoint(cn, waitMillis);
    }

    private void memoryNodeLost(int mn, String reason) {
        System.err.println("dmtree: " + reason);
        if (verbs instanceof ShmVerbs s) {
            s.memoryNodeLost(mn, reason);
        } else if (verbs instanceof TcpVerbs) {
            // its verb connection breaks by itself; nothing to mark
        } else if (verbs instanceof RdmaVerbs r) {
            r.memoryNodeLost(mn, reason);
        }
    }

    public int computeNodeId() {
        return computeNode;
    }

    public Transport transport() {
        return transport;
    }

    public Verbs verbs() {
        return verbs;
    }

    public CnMessaging messaging() {
        return messaging;
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
        if (verbs instanceof AutoCloseable ac) {
            closeQuietly(ac);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }
}
