package io.dmtree.mn.membership;

import io.dmtree.core.membership.BarrierParties;
import io.dmtree.core.membership.BarrierRelease;
import io.dmtree.core.membership.ClusterConfiguration;
import io.dmtree.core.membership.ConfigurationConflictException;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.LeaseState;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberId;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.MemberTracker;
import io.dmtree.core.membership.Membership;
import io.dmtree.core.membership.MembershipException;
import io.dmtree.core.membership.MembershipListener;
import io.dmtree.core.membership.MembershipOptions;
import io.dmtree.core.membership.MembershipTimeoutException;
import io.dmtree.core.membership.MembershipView;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.WatcherRemoveCuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryUntilElapsed;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@link Membership} on ZooKeeper through Curator, for clusters of several processes. The layout
 * of its nodes is in {@link ZooKeeperPaths}, their records in {@link ZooKeeperRecords}.
 *
 * <h2>How each promise of {@link Membership} is kept</h2>
 * <ul>
 * <li><b>Leases</b> are ZooKeeper sessions, one per {@link Lease} ({@link ZooKeeperLease}), with the
 * lease length as session timeout. A member is live while its session is: ZooKeeper expires a
 * session whose client stopped pinging and removes its ephemeral nodes in one transaction.</li>
 * <li><b>Epochs</b> are the data version of the persistent node {@code epoch}: an unconditional
 * {@code setData} returns a version one above the last, atomically, so every join gets an epoch
 * larger than all before it (it survives restarts with the rest of ZooKeeper's data).</li>
 * <li><b>A join</b> is one ZooKeeper transaction creating the id node (which fails if the id is
 * taken) and the lease node, both ephemeral in the lease's session: slot and incarnation appear
 * together or not at all, and vanish together when the session ends. An id returns to the pool
 * by that vanishing. A process that learns its own lease lapsed before the server noticed (no
 * server to tell it, Curator's simulated expiry) may take the slot back at once: its next join
 * of that slot deletes the lapsed incarnation's nodes, which nothing else would use.</li>
 * <li><b>Watchers</b>: one persistent recursive watch on {@code leases} delivers every creation and
 * removal of a lease node in order while the connection holds; lease node names carry kind, id,
 * epoch and endpoint, so an event needs no read (a node created and removed at once is still
 * seen). After a reconnect or a new session this process re-reads the children (and re-adds the
 * watch on a new session); that is the only gap, as {@link Membership} states. The events feed a
 * {@link MemberTracker}, which turns evidence into exactly-once notices.</li>
 * <li><b>Configuration</b> is the data of {@code config}; its data version is the configuration's
 * version, and an update is a {@code setData} conditional on it.</li>
 * <li><b>Barriers</b>: see {@link ZooKeeperBarrier}.</li>
 * </ul>
 *
 * <p>This process's own watching connection (the observer) holds no lease and has a long session
 * ({@link ZooKeeperMembershipOptions#observerSession()}) so that a ZooKeeper restart costs it no
 * notices. Every call to ZooKeeper retries through connection losses for at most the operation
 * timeout, then fails with {@link MembershipException}.
 */
public final class ZooKeeperMembership implements Membership {
    /** Pause between retries of a call that lost its connection. */
    private static final int RETRY_SLEEP_MS = 10;
    /** How many incarnations lapsed here are remembered for taking their slot back. */
    private static final int LAPSED_MEMORY = 64;
    /** The longest sleep between two looks at a wait's condition when no watch fired (a safety net). */
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final ZooKeeperMembershipOptions options;
    private final ZooKeeperPaths paths;
    private final CuratorFramework observer;
    private final MemberTracker tracker;
    private final Set<ZooKeeperLease> leases = ConcurrentHashMap.newKeySet();
    private final Set<Member> lapsedHere = new LinkedHashSet<>();
    /** Clients of lapsed leases not closed yet (closed by the tracker thread, or by {@link #close}). */
    private final Set<CuratorFramework> closing = ConcurrentHashMap.newKeySet();
    private final ChangeSignal configChanged = new ChangeSignal();
    private final Watcher leaseWatcher = this::onLeaseEvent;
    private final Watcher configWatcher = e -> configChanged.signal();
    private volatile long observerSession;
    private volatile long grantedLeaseMillis;
    private volatile boolean closed;

    private ZooKeeperMembership(ZooKeeperMembershipOptions options) {
        this.options = options;
        this.paths = new ZooKeeperPaths(options.root());
        this.observer = client(options, options.observerSession());
        this.tracker = new MemberTracker("zk");
    }

    /** Connects to ZooKeeper, creates the layout if missing, and starts watching. */
    public static ZooKeeperMembership connect(ZooKeeperMembershipOptions options) throws InterruptedException {
        ZooKeeperMembership m = new ZooKeeperMembership(options);
        try {
            m.start();
            return m;
        } catch (RuntimeException | InterruptedException e) {
            m.close();
            throw e;
        }
    }

    static CuratorFramework client(ZooKeeperMembershipOptions o, Duration session) {
        int op = operationMillis(o);
        CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder()
                .connectString(o.connectString())
                .sessionTimeoutMs((int) Math.min(Integer.MAX_VALUE, session.toMillis()))
                .connectionTimeoutMs(op)
                .retryPolicy(new RetryUntilElapsed(op, RETRY_SLEEP_MS))
                .ensembleTracker(false);
        if (o.digest() != null) { // every node this client makes: all rights for the digest identity, none for others
            b.authorization("digest", o.digest().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            java.util.List<org.apache.zookeeper.data.ACL> own;
            try {
                // ZooKeeper asks the list whether it contains null, which List.of refuses to be asked
                own = java.util.Collections.singletonList(new org.apache.zookeeper.data.ACL(org.apache.zookeeper.ZooDefs.Perms.ALL,
                        new org.apache.zookeeper.data.Id("digest",
                                org.apache.zookeeper.server.auth.DigestAuthenticationProvider.generateDigest(o.digest()))));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException("this JDK has no SHA-1 for ZooKeeper's digest scheme", e);
            }
            b.aclProvider(new org.apache.curator.framework.api.ACLProvider() {
                @Override
                public java.util.List<org.apache.zookeeper.data.ACL> getDefaultAcl() {
                    return own;
                }

                @Override
                public java.util.List<org.apache.zookeeper.data.ACL> getAclForPath(String path) {
                    return own;
                }
            });
        }
        return b.build();
    }

    private static int operationMillis(ZooKeeperMembershipOptions o) {
        return (int) Math.min(Integer.MAX_VALUE, o.membership().operationTimeout().toMillis());
    }

    private void start() throws InterruptedException {
        observer.getConnectionStateListenable().addListener((c, s) -> onObserverState(s));
        observer.start();
        int op = operationMillis(options);
        if (!observer.blockUntilConnected(op, TimeUnit.MILLISECONDS)) {
            throw new MembershipException("no ZooKeeper answered at " + options.connectString() + " within " + op + " ms");
        }
        observerSession = sessionId(observer);
        for (String p : List.of(paths.ids(MemberKind.COMPUTE_NODE), paths.ids(MemberKind.MEMORY_NODE), paths.leases(),
                paths.barriers(), paths.epoch(), paths.config())) {
            ensure(p);
        }
        addWatches();
        tracker.await(tracker.submit(this::resync));
    }

    private void ensure(String path) {
        try {
            observer.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).forPath(path, new byte[0]);
        } catch (KeeperException.NodeExistsException e) {
            // made by an earlier process
        } catch (Exception e) {
            throw failed("create " + path, e);
        }
    }

    private void addWatches() {
        try {
            observer.watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE).usingWatcher(leaseWatcher)
                    .forPath(paths.leases());
            observer.watchers().add().withMode(AddWatchMode.PERSISTENT).usingWatcher(configWatcher).forPath(paths.config());
        } catch (Exception e) {
            throw failed("watch " + paths.leases(), e);
        }
    }

    private void onObserverState(ConnectionState s) {
        if (closed || (s != ConnectionState.RECONNECTED && s != ConnectionState.CONNECTED)) {
            return;
        }
        long sid = sessionId(observer);
        if (sid != observerSession) {
            observerSession = sid;
            try {
                addWatches(); // a new session has none of the old one's watches
            } catch (MembershipException e) {
                return; // the next reconnect tries again
            }
        }
        tracker.submit(this::resync); // changes during the gap were not delivered
        configChanged.signal();
    }

    /** Reads the live incarnations and hands them to the tracker (on the tracker thread). */
    private void resync() {
        List<String> names;
        try {
            names = observer.getChildren().forPath(paths.leases());
        } catch (Exception e) {
            if (!closed) {
                tracker.schedule(this::resync, POLL_NANOS); // try again when the connection is back
            }
            return;
        }
        List<Member> live = new ArrayList<>();
        for (String n : names) {
            Member m = ZooKeeperPaths.parseIncarnation(n);
            if (m != null) {
                live.add(m);
            }
        }
        tracker.resync(live);
    }

    private void onLeaseEvent(WatchedEvent e) {
        String prefix = paths.leases() + "/";
        if (e.getPath() == null || !e.getPath().startsWith(prefix)) {
            return;
        }
        Member m = ZooKeeperPaths.parseIncarnation(e.getPath().substring(prefix.length()));
        if (m == null) {
            return;
        }
        switch (e.getType()) {
            case NodeCreated -> tracker.present(m);
            case NodeDeleted -> tracker.ended(m.id(), m.epoch());
            default -> { }
        }
    }

    ZooKeeperPaths paths() {
        return paths;
    }

    MemberTracker tracker() {
        return tracker;
    }

    CuratorFramework observer() {
        return observer;
    }

    @Override
    public MembershipOptions options() {
        return options.membership();
    }

    /** The lease ZooKeeper granted the latest join (the requested one before any join). */
    @Override
    public Duration leaseLength() {
        long g = grantedLeaseMillis;
        return g > 0 ? Duration.ofMillis(g) : options.membership().lease();
    }

    @Override
    public Lease join(MemberKind kind, int wantedId, String endpoint, Duration timeout) throws InterruptedException {
        Membership.checkWantedId(options.membership(), kind, wantedId);
        Member.checkEndpoint(endpoint);
        checkOpen();
        long deadline = System.nanoTime() + timeout.toNanos();
        CuratorFramework c = client(options, options.membership().lease());
        boolean joined = false;
        try {
            c.getConnectionStateListenable(); // (listeners are added once the lease exists)
            c.start();
            long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            if (!c.blockUntilConnected((int) Math.min(Integer.MAX_VALUE, left), TimeUnit.MILLISECONDS)) {
                throw new MembershipTimeoutException("no ZooKeeper answered at " + options.connectString() + " within "
                        + timeout.toMillis() + " ms");
            }
            long session = sessionId(c);
            int granted = grantedTimeout(c);
            grantedLeaseMillis = granted;
            ChangeSignal changed = new ChangeSignal();
            Watcher wake = e -> changed.signal();
            WatcherRemoveCuratorFramework w = c.newWatcherRemoveCuratorFramework();
            try {
                while (true) {
                    checkOpen();
                    long seen = changed.seen();
                    List<Integer> candidates = candidates(w, wake, kind, wantedId);
                    for (int id : candidates) {
                        Member m = new Member(new MemberId(kind, id), nextEpoch(c), endpoint);
                        try {
                            c.transaction().forOperations(
                                    c.transactionOp().create().withMode(CreateMode.EPHEMERAL)
                                            .forPath(paths.id(m.id()), ZooKeeperRecords.epoch(m.epoch())),
                                    c.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(paths.lease(m)));
                        } catch (KeeperException.NodeExistsException taken) {
                            continue; // another join took it between our look and our try
                        }
                        ZooKeeperLease lease = new ZooKeeperLease(this, m, c, session, granted);
                        leases.add(lease);
                        lease.arm();
                        tracker.await(tracker.present(m)); // read-your-own-join
                        joined = true;
                        return lease;
                    }
                    long wait = deadline - System.nanoTime();
                    if (wait <= 0) {
                        throw new MembershipTimeoutException(holdersMessage(kind, wantedId) + " after waiting "
                                + timeout.toMillis() + " ms");
                    }
                    changed.await(seen, Math.min(wait, POLL_NANOS));
                }
            } finally {
                w.removeWatchers();
            }
        } catch (MembershipException | InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw failed("join as " + kind.noun(), e);
        } finally {
            if (!joined) {
                c.close();
            }
        }
    }

    /** The ids worth trying now, in order; sets a watch that fires when the taken ones change. */
    private List<Integer> candidates(WatcherRemoveCuratorFramework w, Watcher wake, MemberKind kind, int wantedId)
            throws Exception {
        if (wantedId != ANY_ID) {
            MemberId slot = new MemberId(kind, wantedId);
            Stat stat = new Stat();
            byte[] data;
            try {
                data = w.getData().storingStatIn(stat).usingWatcher(wake).forPath(paths.id(slot));
            } catch (KeeperException.NoNodeException free) {
                return List.of(wantedId);
            }
            takeBackIfLapsedHere(w, slot, ZooKeeperRecords.epoch(data), stat.getVersion());
            return List.of();
        }
        Set<Integer> taken = new HashSet<>();
        for (String child : w.getChildren().usingWatcher(wake).forPath(paths.ids(kind))) {
            try {
                taken.add(Integer.parseInt(child));
            } catch (NumberFormatException ignored) {
                // not an id node
            }
        }
        List<Integer> free = new ArrayList<>();
        for (int i = 0; i < options.membership().poolSize(kind); i++) {
            if (!taken.contains(i)) {
                free.add(i);
            }
        }
        return free;
    }

    /**
     * If {@code slot} is held by an incarnation that lapsed in this process (its session lingers on
     * the server), removes its nodes: it is ours, final, and only waiting for the server's expiry.
     */
    private void takeBackIfLapsedHere(CuratorFramework c, MemberId slot, long epoch, int version) throws Exception {
        Member stale = null;
        synchronized (lapsedHere) {
            for (Member m : lapsedHere) {
                if (m.id().equals(slot) && m.epoch() == epoch) {
                    stale = m;
                }
            }
        }
        if (stale == null) {
            return;
        }
        try {
            c.transaction().forOperations(
                    c.transactionOp().delete().withVersion(version).forPath(paths.id(slot)),
                    c.transactionOp().delete().forPath(paths.lease(stale)));
        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException gone) {
            // the server expired it meanwhile, or the slot changed hands: look again
        }
    }

    private long nextEpoch(CuratorFramework c) throws Exception {
        int version = c.setData().forPath(paths.epoch(), new byte[0]).getVersion();
        if (version <= 0) {
            throw new MembershipException("the epoch counter at " + paths.epoch() + " is exhausted (2^31 joins)");
        }
        return version;
    }

    private String holdersMessage(MemberKind kind, int wantedId) {
        MembershipView v = tracker.view();
        if (wantedId != ANY_ID) {
            MemberId slot = new MemberId(kind, wantedId);
            return kind.noun() + " id " + wantedId + " is held by live member " + v.member(slot).map(m -> m
                    + (m.endpoint().isEmpty() ? "" : " at " + m.endpoint())).orElse("(not yet in this view)");
        }
        return "all " + options.membership().poolSize(kind) + " " + kind.noun() + " ids are held by live members "
                + v.members(kind);
    }

    /** A lease of this object ended; its evidence goes to the tracker. */
    void leaseEnded(ZooKeeperLease lease, LeaseState how) {
        leases.remove(lease);
        if (how == LeaseState.LAPSED) {
            synchronized (lapsedHere) {
                lapsedHere.add(lease.member());
                while (lapsedHere.size() > LAPSED_MEMORY) {
                    lapsedHere.remove(lapsedHere.iterator().next());
                }
            }
        }
        tracker.ended(lease.member().id(), lease.member().epoch());
    }

    /** Closes {@code c} off the thread that noticed its end (a Curator thread must not close its own client). */
    void closeLater(CuratorFramework c) {
        closing.add(c);
        tracker.submit(() -> {
            c.close();
            closing.remove(c);
        });
    }

    private static int grantedTimeout(CuratorFramework c) {
        try {
            return c.getZookeeperClient().getZooKeeper().getSessionTimeout();
        } catch (Exception e) {
            throw failed("read the session timeout", e);
        }
    }

    static long sessionId(CuratorFramework c) {
        try {
            return c.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            throw failed("read the session id", e);
        }
    }

    @Override
    public MembershipView view() {
        return tracker.view();
    }

    @Override
    public AutoCloseable watch(MembershipListener listener) {
        checkOpen();
        return tracker.subscribe(listener);
    }

    /**
     * The largest epoch any join has been given so far (0 before the first): every incarnation that
     * ever joined has an epoch at most this, every later join a larger one.
     */
    public long epochsIssued() {
        checkOpen();
        try {
            Stat stat = observer.checkExists().forPath(paths.epoch());
            return stat == null ? 0 : stat.getVersion();
        } catch (Exception e) {
            throw failed("read " + paths.epoch(), e);
        }
    }

    @Override
    public ClusterConfiguration configuration() {
        checkOpen();
        try {
            Stat stat = new Stat();
            byte[] data = observer.getData().storingStatIn(stat).forPath(paths.config());
            return ZooKeeperRecords.configuration(stat.getVersion(), data);
        } catch (MembershipException e) {
            throw e;
        } catch (Exception e) {
            throw failed("read " + paths.config(), e);
        }
    }

    @Override
    public ClusterConfiguration updateConfiguration(long expectedVersion, Map<String, String> entries) {
        checkOpen();
        ClusterConfiguration.checkEntries(entries);
        TreeMap<String, String> doc = new TreeMap<>(entries);
        if (expectedVersion < 0 || expectedVersion >= Integer.MAX_VALUE) {
            throw new ConfigurationConflictException(expectedVersion, configuration());
        }
        try {
            Stat s = observer.setData().withVersion((int) expectedVersion).forPath(paths.config(),
                    ZooKeeperRecords.configuration(doc));
            return new ClusterConfiguration(s.getVersion(), doc);
        } catch (KeeperException.BadVersionException e) {
            throw new ConfigurationConflictException(expectedVersion, configuration());
        } catch (Exception e) {
            throw failed("write " + paths.config(), e);
        }
    }

    @Override
    public ClusterConfiguration awaitConfiguration(long newerThan, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long seen = configChanged.seen();
            ClusterConfiguration c = configuration();
            if (c.version() > newerThan) {
                return c;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new MembershipTimeoutException("cluster configuration still at version " + c.version() + " after "
                        + timeout.toMillis() + " ms (waited for one newer than " + newerThan + ")");
            }
            configChanged.await(seen, Math.min(left, POLL_NANOS));
        }
    }

    @Override
    public BarrierRelease arrive(Lease self, String name, BarrierParties parties, byte[] payload, Duration timeout)
            throws InterruptedException {
        Membership.checkBarrier(name, payload);
        if (!(self instanceof ZooKeeperLease lease) || lease.owner() != this) {
            throw new IllegalArgumentException(self + " is not a lease of this membership");
        }
        checkOpen();
        return new ZooKeeperBarrier(this, lease, name, parties, POLL_NANOS).arrive(payload, timeout);
    }

    private void checkOpen() {
        if (closed) {
            throw new MembershipException("membership is closed");
        }
    }

    static MembershipException failed(String what, Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        return new MembershipException("ZooKeeper: could not " + what + ": " + e, e);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ZooKeeperLease l : List.copyOf(leases)) {
            l.close();
        }
        observer.close();
        tracker.close();
        for (CuratorFramework c : List.copyOf(closing)) {
            c.close();
        }
        configChanged.signal();
    }
}
