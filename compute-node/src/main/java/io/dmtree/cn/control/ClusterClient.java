package io.dmtree.cn.control;

import io.dmtree.cn.carrier.CarrierClient;
import io.dmtree.cn.carrier.CarrierLink;
import io.dmtree.cn.carrier.ConnectContext;
import io.dmtree.cn.recovery.CleanLeave;
import io.dmtree.cn.recovery.FencedMessaging;
import io.dmtree.cn.recovery.FencedVerbs;
import io.dmtree.cn.recovery.MemberFence;
import io.dmtree.cn.recovery.SlotHandover;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.carrier.CarrierRegistry;
import io.dmtree.core.membership.BarrierParties;
import io.dmtree.core.membership.FenceBook;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberId;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.Membership;
import io.dmtree.core.membership.MembershipException;
import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.CountingVerbs;
import io.dmtree.core.memory.ModelledLatencyVerbs;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.ModelledLatencyMessaging;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.HostPort;
import io.dmtree.core.wire.RegionDescription;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

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
 * <p>With membership (memory node 0's region description names a coordination service, or the
 * options hand one in): before anything else the compute node joins membership as a compute node
 * (its id is its membership slot; its lease has the cluster's length) and waits, bounded by the
 * timeout, until every earlier incarnation of its slot is recovered ({@link SlotHandover}); then it
 * joins every memory node's control plane with that id and connects the carrier with its epoch.
 * When its lease ends it is fenced ({@link MemberFence}): every later verb and message throws
 * {@link io.dmtree.core.memory.FencedException} on this side too ({@link FencedVerbs},
 * {@link FencedMessaging}). Barriers are then membership barriers ({@link Membership#arrive}).
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
    /** Null in a cluster without membership. */
    private final Coordination coordination;
    private final Lease lease;
    private final MemberFence fence;
    /** The incarnations of compute nodes met at barriers, by id (membership barriers name incarnations). */
    private final Map<Integer, Member> barrierMembers = new ConcurrentHashMap<>();
    private final MemoryNodeLossNotices lossNotices = new MemoryNodeLossNotices();
    /** Why this compute node cannot vouch it leaves nothing behind, or null when it can (see {@link #vouchedBy}). */
    private volatile java.util.function.Supplier<String> uncleanBecause = () -> null;

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
     * @param coordination       null: the coordination service memory node 0 names, if any; else handles
     *                           this process holds already, used whatever memory node 0 names
     * @param secret             the cluster secret this compute node proves on every connection and
     *                           expects every memory node and peer to prove ({@link ClusterSecret}), or
     *                           null: a cluster without one
     */
    public record Options(List<InetSocketAddress> memoryNodes, int computeNodeId, int timeoutMillis,
                          InetSocketAddress messagingListen, String messagingAdvertise, CarrierOptions carrierOptions,
                          long modelledRttNanos, Coordination coordination, ClusterSecret secret) {
        /** Options without a cluster secret. */
        public Options(List<InetSocketAddress> memoryNodes, int computeNodeId, int timeoutMillis,
                       InetSocketAddress messagingListen, String messagingAdvertise, CarrierOptions carrierOptions,
                       long modelledRttNanos, Coordination coordination) {
            this(memoryNodes, computeNodeId, timeoutMillis, messagingListen, messagingAdvertise, carrierOptions,
                    modelledRttNanos, coordination, null);
        }

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
            return new Options(memoryNodes, ControlFrame.ANY_COMPUTE_NODE, 30_000, null, null, CarrierOptions.NONE, 0, null);
        }

        public Options withTimeoutMillis(int ms) {
            return new Options(memoryNodes, computeNodeId, ms, messagingListen, messagingAdvertise, carrierOptions,
                    modelledRttNanos, coordination, secret);
        }

        public Options withComputeNodeId(int id) {
            return new Options(memoryNodes, id, timeoutMillis, messagingListen, messagingAdvertise, carrierOptions,
                    modelledRttNanos, coordination, secret);
        }

        public Options withMessaging(InetSocketAddress listen, String advertise) {
            return new Options(memoryNodes, computeNodeId, timeoutMillis, listen, advertise, carrierOptions, modelledRttNanos,
                    coordination, secret);
        }

        public Options withCarrierOptions(CarrierOptions o) {
            return new Options(memoryNodes, computeNodeId, timeoutMillis, messagingListen, messagingAdvertise, o,
                    modelledRttNanos, coordination, secret);
        }

        /** Every verb round trip takes {@code micros} longer, every message half of it (modelled). */
        public Options withModelledRttMicros(long micros) {
            if (micros < 0 || micros > 10_000_000) {
                throw new IllegalArgumentException("modelled round-trip time must be in [0, 10 s]: " + micros + " us");
            }
            return new Options(memoryNodes, computeNodeId, timeoutMillis, messagingListen, messagingAdvertise, carrierOptions,
                    micros * 1000, coordination, secret);
        }

        /** Proves {@code s} on every connection (null: none); see {@link ClusterSecret}. */
        public Options withSecret(ClusterSecret s) {
            return new Options(memoryNodes, computeNodeId, timeoutMillis, messagingListen, messagingAdvertise, carrierOptions,
                    modelledRttNanos, coordination, s);
        }

        /** Joins through membership handles this process holds, whatever memory node 0 names. */
        public Options withCoordination(Coordination c) {
            return new Options(memoryNodes, computeNodeId, timeoutMillis, messagingListen, messagingAdvertise, carrierOptions,
                    modelledRttNanos, c, secret);
        }
    }

    private ClusterClient(int computeNode, String transport, List<ControlClient> control, ControlClient directoryConnection,
                          List<RegionDescription> regions, CarrierLink link, long rootPointer, long modelledRttNanos,
                          Coordination coordination, Lease lease, MemberFence fence) {
        this.computeNode = computeNode;
        this.coordination = coordination;
        this.lease = lease;
        this.fence = fence;
        this.transport = transport;
        this.control = control;
        this.directoryConnection = directoryConnection;
        this.regions = regions;
        this.link = link;
        Verbs carried = modelledRttNanos > 0 ? new ModelledLatencyVerbs(link.verbs(), modelledRttNanos) : link.verbs();
        this.verbs = CountingVerbs.over(fence == null ? carried : new FencedVerbs(carried, fence));
        CnMessaging m = modelledRttNanos > 0 ? new ModelledLatencyMessaging(link.messaging(), modelledRttNanos / 2)
                : link.messaging();
        this.messaging = fence == null ? m : new FencedMessaging(m, fence);
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
        Coordination coordination = null;
        Lease lease = null;
        try {
            for (int i = 0; i < o.memoryNodes().size(); i++) {
                ControlClient c = ControlClient.connect(o.memoryNodes().get(i), o.timeoutMillis(), o.secret());
                control.add(c);
                if (c.memoryNodeId() != i) {
                    throw new ControlException("the memory node at " + ControlClient.describe(c.address()) + " has id "
                            + c.memoryNodeId() + " but is listed at position " + i + "; list memory nodes in id order, 0 first");
                }
            }
            String described = control.get(0).describe().coordination();
            MemberFence fence = null;
            int wanted = o.computeNodeId();
            if (o.coordination() != null || !described.isEmpty()) {
                coordination = o.coordination() != null ? o.coordination()
                        : connectCoordination(described, o.timeoutMillis(), o.secret());
                lease = joinMembership(coordination, wanted, control.size(), o.timeoutMillis());
                wanted = lease.member().id().id();
                fence = new MemberFence(wanted, lease.member().epoch());
                MemberFence f = fence;
                lease.onEnd(state -> f.fence("its lease ended (" + state.name().toLowerCase(java.util.Locale.ROOT)
                        + "): the cluster counts it failed and recovers what it held"));
            }
            long epoch = lease == null ? 0 : lease.member().epoch();
            int cn = control.get(0).join(wanted, epoch);
            if (lease != null && cn != wanted) {
                throw new ControlException("memory node 0 gave compute node id " + cn + " to the member of slot " + wanted);
            }
            List<RegionDescription> regions = new ArrayList<>();
            for (int i = 0; i < control.size(); i++) {
                if (i > 0) {
                    control.get(i).join(cn, epoch);
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
            directory = ControlClient.connect(o.memoryNodes().get(0), o.timeoutMillis(), o.secret());
            ControlClient dir = directory;
            io.dmtree.cn.messaging.PeerDirectory peers = (peer, wait) -> lookup(dir, peer, wait);
            ConnectContext context = new ConnectContext(cn, lease == null ? 0 : lease.member().epoch(), regions, o.memoryNodes(), peers, o.messagingListen(),
                    advertisedHost(o, control.get(0)), o.timeoutMillis(), o.carrierOptions(), o.secret());
            try {
                link = carrier.connect(context);
            } catch (RuntimeException e) {
                throw new ControlException("compute node " + cn + " cannot connect the " + t + " carrier: " + e.getMessage()
                        + " [" + endpoints(context) + "; timeout " + o.timeoutMillis() + " ms]", e);
            }
            control.get(0).registerEndpoint(link.endpoint());
            long root = control.get(0).rootHome();
            ClusterClient client = new ClusterClient(cn, t, control, directory, regions, link, root, o.modelledRttNanos(),
                    coordination, lease, fence);
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
            for (ControlClient c : control) { // leave, so the id is free when this returns (and nothing is left to fence)
                try {
                    c.leave();
                } catch (RuntimeException gone) {
                    // not joined there, or the memory node is gone: closing is all there is
                }
                c.close();
            }
            if (lease != null) {
                lease.close();
            }
            if (coordination != null) {
                coordination.close();
            }
            throw e;
        }
    }

    private static Coordination connectCoordination(String described, int timeoutMillis, ClusterSecret secret) {
        try {
            return Coordination.connect(described, timeoutMillis, secret);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ControlException("interrupted while connecting to the coordination service " + described);
        } catch (MembershipException e) {
            throw new ControlException("cannot reach the coordination service " + described + " that memory node 0 names: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Joins the lowest slot that is neither held nor waiting for the recovery of an earlier
     * incarnation: a slot whose incarnation lapsed is free in membership at once, but its new
     * holder could not start before some other live compute node recovered it, which with no other
     * compute node would be never. A slot taken by a racing joiner in between is skipped.
     */
    private static Lease joinFreeSlot(Coordination c, Duration timeout) throws InterruptedException {
        int pool = c.membership().options().poolSize(MemberKind.COMPUTE_NODE);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            java.util.Set<Integer> busy = new java.util.HashSet<>();
            for (Member m : c.membership().view().members(MemberKind.COMPUTE_NODE)) {
                busy.add(m.id().id());
            }
            for (io.dmtree.core.membership.FenceBook.FenceRecord r : c.book().outstanding()) {
                busy.add(r.member().id().id());
            }
            for (int id = 0; id < pool; id++) {
                if (busy.contains(id)) {
                    continue;
                }
                try {
                    return c.membership().join(MemberKind.COMPUTE_NODE, id, "", Duration.ofMillis(100));
                } catch (io.dmtree.core.membership.MembershipTimeoutException taken) {
                    // a racing joiner holds it: try the next
                }
            }
            if (System.nanoTime() > deadline) {
                return c.membership().join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", Duration.ofMillis(100));
            }
            Thread.sleep(20);
        }
    }

    /**
     * Joins membership as a compute node in slot {@code wanted} (or the lowest free one) and waits
     * until the slot's earlier incarnations are recovered; both bounded by {@code timeoutMillis}.
     */
    private static Lease joinMembership(Coordination c, int wanted, int memoryNodes, int timeoutMillis) {
        Duration timeout = Duration.ofMillis(timeoutMillis);
        Lease lease = null;
        try {
            lease = wanted == ControlFrame.ANY_COMPUTE_NODE ? joinFreeSlot(c, timeout)
                    : c.membership().join(MemberKind.COMPUTE_NODE, wanted, "", timeout);
            Member me = lease.member();
            SlotHandover.awaitRecovered(c.book(), me.id().id(), me.epoch(), timeout, memoryNodes);
            return lease;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (lease != null) {
                lease.close();
            }
            throw new ControlException("interrupted while joining membership");
        } catch (MembershipException | IllegalArgumentException e) {
            if (lease != null) {
                lease.close();
            }
            throw new ControlException("compute node cannot join the cluster's membership: " + e.getMessage(), e);
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
        if (coordination == null) {
            return control.get(0).barrier(name, parties, waitMillis, payload);
        }
        io.dmtree.core.membership.BarrierRelease r = arrive(name, BarrierParties.count(MemberKind.COMPUTE_NODE, parties),
                waitMillis, payload);
        return byId(r).arrivals();
    }

    /**
     * Waits at the barrier {@code name} of {@code members} (this compute node among them) until each
     * member arrived or left the cluster; returns the arrivals' payloads and who left. A member that
     * dies therefore does not hold up the others.
     */
    public BarrierRelease barrierOf(String name, java.util.Set<Integer> members, int waitMillis, byte[] payload) {
        if (coordination == null) {
            return control.get(0).barrier(name, members.size(), members, waitMillis, payload);
        }
        // membership barriers name incarnations: those met at earlier barriers, else the live ones
        Set<Member> parties = new TreeSet<>();
        Set<Integer> gone = new TreeSet<>();
        for (int id : members) {
            Member m = id == computeNode ? lease.member() : barrierMembers.get(id);
            if (m == null) {
                m = coordination.membership().view().member(MemberId.computeNode(id)).orElse(null);
            }
            if (m == null) {
                gone.add(id); // no incarnation of it is known: it left before this barrier
            } else {
                parties.add(m);
            }
        }
        BarrierRelease r = byId(arrive(name, BarrierParties.members(parties), waitMillis, payload));
        Set<Integer> departed = new TreeSet<>(r.departed());
        departed.addAll(gone);
        return new BarrierRelease(r.arrivals(), departed);
    }

    private io.dmtree.core.membership.BarrierRelease arrive(String name, BarrierParties parties, int waitMillis,
                                                            byte[] payload) {
        fence.check();
        try {
            return coordination.membership().arrive(lease, name, parties, payload, Duration.ofMillis(waitMillis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ControlException("interrupted at barrier '" + name + "'");
        }
    }

    private BarrierRelease byId(io.dmtree.core.membership.BarrierRelease r) {
        Map<Integer, byte[]> arrivals = new TreeMap<>();
        for (Map.Entry<Member, byte[]> e : r.arrivals().entrySet()) {
            arrivals.put(e.getKey().id().id(), e.getValue());
            barrierMembers.put(e.getKey().id().id(), e.getKey());
        }
        Set<Integer> lapsed = new TreeSet<>();
        for (Member m : r.lapsed()) {
            lapsed.add(m.id().id());
        }
        return new BarrierRelease(arrivals, lapsed);
    }

    /** The cluster's coordination handles, or null in a cluster without membership. */
    public Coordination coordination() {
        return coordination;
    }

    /** This compute node's lease, or null without membership. */
    public Lease lease() {
        return lease;
    }

    /** This incarnation's epoch, or 0 without membership. */
    public long epoch() {
        return lease == null ? 0 : lease.member().epoch();
    }

    /** This compute node's own fence, or null without membership. */
    public MemberFence fence() {
        return fence;
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

    /**
     * What tells whether this compute node leaves nothing behind when it closes: {@code why}
     * answers null when it does (the node is {@linkplain io.dmtree.cn.InFlightWork quiescent}),
     * else why not. Until set, a client that never ran an index leaves nothing. A clean leave
     * records its own recovery ({@link CleanLeave}); any other is recovered by a live member.
     */
    public void vouchedBy(java.util.function.Supplier<String> why) {
        this.uncleanBecause = why;
    }

    /**
     * Leaves every memory node and closes the carrier; with membership, a compute node that leaves
     * nothing behind then records its own recovery ({@link CleanLeave}) before its lease ends, so
     * its slot is free at once, and says on stderr when it cannot.
     */
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
        if (lease != null) {
            settleLeave();
            lease.close();
        }
        if (coordination != null) {
            coordination.close();
        }
    }

    private void settleLeave() {
        if (lossNotices.lost() != null) {
            return; // a lost memory node cannot fence: the loss was reported, and the slot is recovered if the cluster goes on
        }
        String why = fence != null && fence.fenced() ? "it is fenced" : uncleanBecause.get();
        if (why == null) {
            try {
                why = CleanLeave.settle(coordination.book(), lease, control.size(),
                        coordination.membership().options().operationTimeout());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                why = "interrupted";
            }
        }
        if (why != null && lease.isLive() && !(fence != null && fence.fenced())) { // a fenced node says so itself
            System.err.println("dmtree: compute node " + computeNode + " leaves without recording its recovery (" + why
                    + "): a live compute node recovers it");
        }
    }
}
