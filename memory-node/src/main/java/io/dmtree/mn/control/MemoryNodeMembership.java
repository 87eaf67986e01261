package io.dmtree.mn.control;

import io.dmtree.core.membership.ClusterConfiguration;
import io.dmtree.core.membership.ConfigurationConflictException;
import io.dmtree.core.membership.FenceBook;
import io.dmtree.core.membership.FenceBook.FenceRecord;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.LeaseState;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.MembershipException;
import io.dmtree.core.membership.MembershipListener;
import io.dmtree.core.membership.MembershipOptions;
import io.dmtree.mn.membership.EmbeddedZooKeeper;
import io.dmtree.mn.membership.ZooKeeperFenceBook;
import io.dmtree.mn.membership.ZooKeeperMembership;
import io.dmtree.mn.membership.ZooKeeperMembershipOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A memory node's part in the cluster's membership: its own ZooKeeper server (memory node 0 without
 * {@code --zk}), its lease as a {@link MemberKind#MEMORY_NODE}, the lease length memory node 0 writes
 * into the cluster configuration ({@value Coordination#LEASE_MS}), and its duties in the fence book:
 * it requests the fence of every compute node whose lease it sees lapse, and fences, then
 * acknowledges, every request it has not acknowledged yet.
 *
 * <h2>Invariants</h2>
 * <ul>
 *   <li>An acknowledgement is written only after {@link Fencer#fence} returned for that incarnation
 *   (so only once no verb of it can take effect here); a fence that failed is not acknowledged and
 *   is tried again ({@value #RETRY_MILLIS} ms later, and on every change of the book).</li>
 *   <li>Before the memory node serves anything, every incarnation in the book (acknowledged or
 *   recovered ones too) is fenced on its carrier ({@link #connect}): a memory node restarted after
 *   its previous process acknowledged a fence still refuses that incarnation.</li>
 *   <li>All book and membership work runs on one thread of this object ({@code dmtree-mnN-fencer}):
 *   listener and watch callbacks only hand work to it (they must not block), and a reconcile asked
 *   for while one is queued is coalesced into it; a reconcile reads the book afresh, so no change
 *   seen before it started is missed.</li>
 *   <li>If this memory node's own lease lapses (the ZooKeeper session was lost), it joins again,
 *   with a new epoch, retrying until it is closed.</li>
 * </ul>
 *
 * <p>The cluster's lease length ({@code --lease}) is the compute nodes'; a memory node holds a lease
 * of at least {@link #MIN_OWN_LEASE} itself: nothing is recovered or fenced when a memory node's
 * lease ends (its lease only shows it in the view), and with the compute nodes' tens of
 * milliseconds it lapsed spuriously on a loaded host, where a memory node's ZooKeeper client thread
 * waits behind its event loops.
 */
public final class MemoryNodeMembership implements AutoCloseable {
    static final long RETRY_MILLIS = 1000;
    /** The shortest lease a memory node holds itself (see the class comment). */
    static final Duration MIN_OWN_LEASE = Duration.ofSeconds(5);

    /** Fences a compute node on this memory node's carrier ({@link io.dmtree.mn.carrier.ServedRegion#fence}). */
    @FunctionalInterface
    public interface Fencer {
        void fence(int computeNode, long epochUpTo) throws IOException, InterruptedException;
    }

    private final int memoryNode;
    private final Coordination coordination;
    private final EmbeddedZooKeeper embedded;
    private final ZooKeeperMembership membership;
    private final FenceBook book;
    private final Fencer fencer;
    private final String connectString;
    private final ScheduledExecutorService worker;
    private final AtomicBoolean reconcileQueued = new AtomicBoolean();
    private volatile Lease lease;
    private volatile String endpoint;
    private volatile AutoCloseable membershipWatch;
    private volatile AutoCloseable bookWatch;
    private volatile boolean closed;

    private MemoryNodeMembership(int memoryNode, Coordination coordination, EmbeddedZooKeeper embedded,
                                 ZooKeeperMembership membership, FenceBook book, Fencer fencer, String connectString) {
        this.memoryNode = memoryNode;
        this.coordination = coordination;
        this.embedded = embedded;
        this.membership = membership;
        this.book = book;
        this.fencer = fencer;
        this.connectString = connectString;
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dmtree-mn" + memoryNode + "-fencer");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts the embedded ZooKeeper if {@code c} asks for one, connects to membership and the fence
     * book, and fences every incarnation the book holds; joins nothing yet ({@link #join}).
     *
     * @param advertisedHost the host others reach an embedded ZooKeeper by when it binds every interface
     * @param zkData         the embedded ZooKeeper's data directory: removed first if a killed memory node
     *                       left it (the caller holds the memory node's id lock), and on close
     */
    public static MemoryNodeMembership connect(int memoryNode, Coordination c, String advertisedHost, Path zkData,
                                               Fencer fencer) throws IOException, InterruptedException {
        return connect(memoryNode, c, advertisedHost, zkData, false, fencer, null);
    }

    /**
     * As {@link #connect(int, Coordination, String, Path, Fencer)}; with {@code keepZkData} (memory
     * node 0 of durable regions) the embedded ZooKeeper's data is kept, on start and on close, so a
     * restart finds the cluster's membership, epochs, configuration and fence book again: the
     * compute nodes of the earlier life are members whose sessions expire, and are fenced and
     * recovered as any that fail. Authenticates to ZooKeeper with {@code secret} (null: none), see
     * {@link ZooKeeperMembershipOptions#withSecret}.
     */
    public static MemoryNodeMembership connect(int memoryNode, Coordination c, String advertisedHost, Path zkData,
                                               boolean keepZkData, Fencer fencer, io.dmtree.core.wire.ClusterSecret secret)
            throws IOException, InterruptedException {
        EmbeddedZooKeeper zk = null;
        ZooKeeperMembership m = null;
        FenceBook book = null;
        try {
            String connect;
            if (c.isEmbedded()) {
                if (!keepZkData && Files.exists(zkData)) {
                    EmbeddedZooKeeper.removeData(zkData); // a fresh cluster: the old one died with its memory node 0
                }
                zk = EmbeddedZooKeeper.start(c.embeddedListen(), EmbeddedZooKeeper.DEFAULT_TICK_MILLIS, zkData, !keepZkData,
                        !keepZkData); // kept data: forced at a clean stop, as the regions are (see EmbeddedZooKeeper)
                String host = c.embeddedListen().getAddress() != null && c.embeddedListen().getAddress().isAnyLocalAddress()
                        && advertisedHost != null ? advertisedHost : zk.connectString().substring(0,
                        zk.connectString().lastIndexOf(':'));
                connect = host + ":" + zk.port();
            } else {
                connect = c.connectString();
            }
            MembershipOptions mo = MembershipOptions.DEFAULTS.withLease(ownLease(c.lease()))
                    .withPools(MembershipOptions.DEFAULT_COMPUTE_NODES, Math.max(MembershipOptions.DEFAULT_MEMORY_NODES,
                            Math.min(MembershipOptions.MAX_POOL, memoryNode + 1)));
            m = ZooKeeperMembership.connect(new ZooKeeperMembershipOptions(zk != null ? zk.connectString() : connect,
                    c.root(), mo, ZooKeeperMembershipOptions.DEFAULT_OBSERVER_SESSION).withSecret(secret));
            book = new ZooKeeperFenceBook(m);
            for (FenceRecord r : book.records()) { // before serving: see the class comment
                fencer.fence(r.member().id().id(), r.member().epoch());
            }
            return new MemoryNodeMembership(memoryNode, c, zk, m, book, fencer, connect);
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (book != null) {
                book.close();
            }
            if (m != null) {
                m.close();
            }
            if (zk != null) {
                zk.close();
            }
            if (e instanceof MembershipException me) {
                throw new IOException("cannot reach the cluster's ZooKeeper (" + c + "): " + me.getMessage(), me);
            }
            throw e;
        }
    }

    /** A memory node's own lease: the cluster's, but at least {@link #MIN_OWN_LEASE}. */
    static Duration ownLease(Duration cluster) {
        return cluster.compareTo(MIN_OWN_LEASE) < 0 ? MIN_OWN_LEASE : cluster;
    }

    /**
     * Joins as memory node {@code memoryNode} announcing {@code endpoint} (memory node 0 first
     * writes the lease length into the configuration), then starts watching membership and the book.
     */
    public void join(String endpoint) throws InterruptedException {
        this.endpoint = endpoint;
        if (memoryNode == 0) {
            writeLeaseLength();
        }
        lease = joinOnce();
        membershipWatch = membership.watch(new MembershipListener() {
            @Override
            public void joined(Member member) {
            }

            @Override
            public void lapsed(Member member) {
                if (member.kind() == MemberKind.COMPUTE_NODE) {
                    submit(() -> requestFence(member));
                }
            }
        });
        bookWatch = book.watch(this::reconcileSoon);
    }

    private Lease joinOnce() throws InterruptedException {
        Duration wait = membership.options().operationTimeout().plus(membership.leaseLength().multipliedBy(4));
        Lease l = membership.join(MemberKind.MEMORY_NODE, memoryNode, endpoint, wait);
        l.onEnd(s -> {
            if (s == LeaseState.LAPSED && !closed) {
                submit(this::rejoin);
            }
        });
        return l;
    }

    private void rejoin() {
        if (closed) {
            return;
        }
        try {
            lease = joinOnce();
            System.err.println("dmtree mn " + memoryNode + ": lease lapsed; joined again as " + lease.member());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            System.err.println("dmtree mn " + memoryNode + ": cannot join membership again (" + e.getMessage()
                    + "); retrying in " + RETRY_MILLIS + " ms");
            schedule(this::rejoin);
        }
    }

    private void writeLeaseLength() {
        String want = Long.toString(coordination.lease().toMillis());
        for (int attempt = 0; ; attempt++) {
            ClusterConfiguration c = membership.configuration();
            if (c.get(Coordination.LEASE_MS).map(want::equals).orElse(false)) {
                return;
            }
            try {
                membership.updateConfiguration(c.version(), c.with(Coordination.LEASE_MS, want));
                return;
            } catch (ConfigurationConflictException e) {
                if (attempt >= 20) {
                    throw e;
                }
            }
        }
    }

    /**
     * Fences, on this memory node's carrier, every incarnation of each compute-node slot in
     * {@code slots} that joined before now, and requests those fences in the book, so that every
     * memory node fences them and a live compute node recovers them: what a memory node restarted
     * from a durable region does for the compute nodes of the earlier life that left state in it
     * (a redo block, so possibly half-done writes and held locks), before it serves anything. Their
     * own sessions may have expired before anyone watched, so their lapse is not relied on. Each
     * slot is booked as one incarnation whose epoch is the largest issued so far (a fence covers
     * every epoch up to its own); a compute node that joins later has a larger epoch and is not
     * touched. Returns that epoch.
     */
    public long fenceEarlierLife(java.util.Collection<Integer> slots) throws IOException, InterruptedException {
        long upTo = membership.epochsIssued();
        if (upTo <= 0) {
            return 0; // nobody ever joined: no compute node left anything
        }
        for (int slot : slots) {
            fencer.fence(slot, upTo);
            book.requestFence(new Member(io.dmtree.core.membership.MemberId.computeNode(slot), upTo, ""));
        }
        return upTo;
    }

    /**
     * The cluster's identity, {@value Coordination#CLUSTER_ID} in the configuration: read, or made
     * (a random nonzero number) by the first memory node that asks. Durable regions record it and a
     * region of another cluster is refused.
     */
    public long clusterId() {
        for (int attempt = 0; ; attempt++) {
            ClusterConfiguration c = membership.configuration();
            java.util.Optional<String> held = c.get(Coordination.CLUSTER_ID);
            if (held.isPresent()) {
                try {
                    return Long.parseUnsignedLong(held.get(), 16);
                } catch (NumberFormatException e) {
                    throw new IllegalStateException("the cluster configuration's " + Coordination.CLUSTER_ID + " is not a"
                            + " hexadecimal number: " + held.get());
                }
            }
            long id;
            do {
                id = new java.security.SecureRandom().nextLong();
            } while (id == 0);
            try {
                membership.updateConfiguration(c.version(), c.with(Coordination.CLUSTER_ID, Long.toUnsignedString(id, 16)));
                return id;
            } catch (ConfigurationConflictException e) {
                if (attempt >= 20) {
                    throw e;
                }
            }
        }
    }

    private void requestFence(Member computeNode) {
        try {
            book.requestFence(computeNode);
        } catch (RuntimeException e) {
            if (!closed) {
                System.err.println("dmtree mn " + memoryNode + ": cannot request the fence of " + computeNode + " ("
                        + e.getMessage() + "); retrying in " + RETRY_MILLIS + " ms");
                schedule(() -> requestFence(computeNode));
            }
        }
    }

    private void reconcileSoon() {
        if (reconcileQueued.compareAndSet(false, true)) {
            submit(() -> {
                reconcileQueued.set(false);
                reconcile();
            });
        }
    }

    /** Fences and acknowledges every outstanding record this memory node has not acknowledged. */
    private void reconcile() {
        if (closed) {
            return;
        }
        try {
            for (FenceRecord r : book.outstanding()) {
                if (r.fencedBy().contains(memoryNode)) {
                    continue;
                }
                Member m = r.member();
                fencer.fence(m.id().id(), m.epoch());
                book.acknowledgeFence(memoryNode, m);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                System.err.println("dmtree mn " + memoryNode + ": a fence is not done yet (" + e.getMessage()
                        + "); retrying in " + RETRY_MILLIS + " ms");
                schedule(this::reconcileSoon);
            }
        }
    }

    private void submit(Runnable task) {
        try {
            worker.execute(task);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    private void schedule(Runnable task) {
        try {
            worker.schedule(task, RETRY_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    /** The coordination string of this cluster's region descriptions: {@code zk:CONNECT/ROOT}. */
    public String coordinationString() {
        return coordination.describe(connectString);
    }

    /** The ZooKeeper address others use ({@code HOST:PORT[,...]}); for the embedded one, its own. */
    public String connectString() {
        return connectString;
    }

    public boolean runsZooKeeper() {
        return embedded != null;
    }

    /** This memory node's current lease (null before {@link #join}). */
    public Lease lease() {
        return lease;
    }

    public ZooKeeperMembership membership() {
        return membership;
    }

    public FenceBook book() {
        return book;
    }

    /** Leaves the cluster and stops; the embedded ZooKeeper, if any, last. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (AutoCloseable w : new AutoCloseable[]{bookWatch, membershipWatch}) {
            if (w != null) {
                try {
                    w.close();
                } catch (Exception ignored) {
                    // closing anyway
                }
            }
        }
        worker.shutdownNow();
        try {
            worker.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Lease l = lease;
        if (l != null) {
            l.close();
        }
        book.close();
        membership.close();
        if (embedded != null) {
            embedded.close();
        }
    }
}
