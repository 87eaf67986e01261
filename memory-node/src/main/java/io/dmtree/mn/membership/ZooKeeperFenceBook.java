package io.dmtree.mn.membership;

import io.dmtree.core.membership.FenceBook;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.MembershipException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * The {@link FenceBook} of a multi-process cluster, in ZooKeeper next to membership (layout in
 * {@link ZooKeeperPaths}: {@code ROOT/fences/cn-3@42} and its children {@code mn-K}, {@code claim},
 * {@code recovered}). Built on a connected {@link ZooKeeperMembership}: it reads and writes through
 * that membership's observer client, and a claim is an ephemeral node made in the claimer's own
 * lease session.
 *
 * <h2>How each promise is kept</h2>
 * <ul>
 * <li><b>Request, acknowledgement, recovered</b> are creations of persistent nodes: a second
 * creation fails with NodeExists, which is the idempotence; nothing ever deletes them, so a
 * request is never withdrawn. An acknowledgement or a recovery of a record nobody requested fails
 * (the parent is missing) with {@link IllegalStateException}, as in the in-process book.</li>
 * <li><b>One claim at a time</b>: the claim node is ephemeral in the claimer's lease session, so at
 * most one exists, and ZooKeeper removes it when that session ends (the lease closed or lapsed),
 * freeing the claim for another. A claim made just as the record became recovered is withdrawn
 * again (the claimer looks for {@code recovered} after creating it), so a recovered record is never
 * claimed.</li>
 * <li><b>Watch</b>: one persistent recursive watch on {@code fences} fires on every creation and
 * deletion below it (requests, acks, claims made and ended, recoveries); each fire runs every
 * watcher once on the book's own thread, in order. After a reconnect or a new observer session
 * (which drops the watch; it is added again) every watcher runs once too, since changes in the gap
 * were not delivered.</li>
 * <li><b>Records</b> are read fresh from ZooKeeper on every call (one listing of {@code fences} and
 * one read per record), so a caller that saw a watch fire reads at least the state that fired
 * it.</li>
 * </ul>
 */
public final class ZooKeeperFenceBook implements FenceBook {
    private final ZooKeeperMembership membership;
    private final ZooKeeperPaths paths;
    private final CuratorFramework observer;
    private final List<Runnable> watchers = new CopyOnWriteArrayList<>();
    private final ExecutorService notifier = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "dmtree-zk-fence-book");
        t.setDaemon(true);
        return t;
    });
    private final Watcher fencesWatcher = this::onEvent;
    private final ConnectionStateListener stateListener = (c, s) -> onState(s);
    private volatile long observerSession;
    private volatile boolean closed;

    /** A book on {@code membership}'s ZooKeeper and root; creates {@code ROOT/fences} if missing. */
    public ZooKeeperFenceBook(ZooKeeperMembership membership) {
        this.membership = membership;
        this.paths = membership.paths();
        this.observer = membership.observer();
        try {
            observer.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).forPath(paths.fences(), new byte[0]);
        } catch (KeeperException.NodeExistsException e) {
            // made by an earlier process
        } catch (Exception e) {
            notifier.shutdown();
            throw ZooKeeperMembership.failed("create " + paths.fences(), e);
        }
        observerSession = ZooKeeperMembership.sessionId(observer);
        observer.getConnectionStateListenable().addListener(stateListener);
        try {
            addWatch();
        } catch (MembershipException e) {
            observer.getConnectionStateListenable().removeListener(stateListener);
            notifier.shutdown();
            throw e;
        }
    }

    private void addWatch() {
        try {
            observer.watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE).usingWatcher(fencesWatcher)
                    .forPath(paths.fences());
        } catch (Exception e) {
            throw ZooKeeperMembership.failed("watch " + paths.fences(), e);
        }
    }

    private void onEvent(WatchedEvent e) {
        if (e.getType() != Watcher.Event.EventType.None) {
            changed();
        }
    }

    private void onState(ConnectionState s) {
        if (closed || (s != ConnectionState.RECONNECTED && s != ConnectionState.CONNECTED)) {
            return;
        }
        long sid = ZooKeeperMembership.sessionId(observer);
        if (sid != observerSession) {
            observerSession = sid;
            try {
                addWatch(); // a new session has none of the old one's watches
            } catch (MembershipException e) {
                // the next reconnect tries again; the watchers still hear of the gap below
            }
        }
        changed();
    }

    @Override
    public void requestFence(Member computeNode) {
        requireComputeNode(computeNode);
        checkOpen();
        try {
            observer.create().withMode(CreateMode.PERSISTENT).forPath(paths.fence(computeNode),
                    computeNode.endpoint().getBytes(StandardCharsets.UTF_8));
        } catch (KeeperException.NodeExistsException e) {
            // requested before: nothing changes
        } catch (Exception e) {
            throw ZooKeeperMembership.failed("request the fence of " + computeNode, e);
        }
    }

    @Override
    public void acknowledgeFence(int memoryNode, Member computeNode) {
        if (memoryNode < 0) {
            throw new IllegalArgumentException("memory node id " + memoryNode + " is negative");
        }
        requireComputeNode(computeNode);
        checkOpen();
        createChild(paths.fenceAck(computeNode, memoryNode), CreateMode.PERSISTENT, new byte[0], computeNode,
                "acknowledge the fence of " + computeNode + " by memory node " + memoryNode);
    }

    @Override
    public boolean claimRecovery(Lease self, Member computeNode) {
        requireComputeNode(computeNode);
        checkOpen();
        if (!(self instanceof ZooKeeperLease lease) || !lease.owner().paths().root().equals(paths.root())) {
            throw new IllegalArgumentException(self + " is not a ZooKeeper lease of cluster root " + paths.root());
        }
        if (!self.isLive()) {
            return false;
        }
        String me = ZooKeeperPaths.incarnationName(self.member());
        String claim = paths.fenceClaim(computeNode);
        try {
            if (observer.checkExists().forPath(paths.fence(computeNode)) == null) {
                throw new IllegalStateException("no fence was requested for " + computeNode);
            }
            if (observer.checkExists().forPath(paths.fenceRecovered(computeNode)) != null) {
                return false;
            }
            try {
                lease.client().create().withMode(CreateMode.EPHEMERAL).forPath(claim, me.getBytes(StandardCharsets.UTF_8));
            } catch (KeeperException.NodeExistsException held) {
                byte[] holder;
                try {
                    holder = observer.getData().forPath(claim);
                } catch (KeeperException.NoNodeException ended) {
                    return false; // the holder's claim just ended; the caller tries again on the next change
                }
                return me.equals(new String(holder, StandardCharsets.UTF_8))
                        && observer.checkExists().forPath(paths.fenceRecovered(computeNode)) == null;
            }
            if (observer.checkExists().forPath(paths.fenceRecovered(computeNode)) != null) {
                deleteQuietly(lease.client(), claim); // recovered between our look and our claim
                return false;
            }
            return true;
        } catch (IllegalStateException | MembershipException e) {
            throw e;
        } catch (Exception e) {
            throw ZooKeeperMembership.failed("claim the recovery of " + computeNode, e);
        }
    }

    @Override
    public void recovered(Member computeNode) {
        requireComputeNode(computeNode);
        checkOpen();
        createChild(paths.fenceRecovered(computeNode), CreateMode.PERSISTENT, new byte[0], computeNode,
                "record the recovery of " + computeNode);
        deleteQuietly(observer, paths.fenceClaim(computeNode)); // the claim has served its purpose
    }

    private void createChild(String path, CreateMode mode, byte[] data, Member computeNode, String what) {
        try {
            observer.create().withMode(mode).forPath(path, data);
        } catch (KeeperException.NodeExistsException e) {
            // done before: nothing changes
        } catch (KeeperException.NoNodeException e) {
            throw new IllegalStateException("no fence was requested for " + computeNode);
        } catch (Exception e) {
            throw ZooKeeperMembership.failed(what, e);
        }
    }

    private static void deleteQuietly(CuratorFramework c, String path) {
        try {
            c.delete().forPath(path);
        } catch (Exception ignored) {
            // gone already, or its session ends it
        }
    }

    @Override
    public List<FenceRecord> records() {
        checkOpen();
        try {
            List<FenceRecord> out = new ArrayList<>();
            for (String name : observer.getChildren().forPath(paths.fences())) {
                String path = paths.fences() + "/" + name;
                byte[] data;
                List<String> children;
                try {
                    data = observer.getData().forPath(path);
                    children = observer.getChildren().forPath(path);
                } catch (KeeperException.NoNodeException e) {
                    continue; // not a record (records are never deleted)
                }
                Member m = ZooKeeperPaths.parseFenceName(name, new String(data, StandardCharsets.UTF_8));
                if (m == null) {
                    continue;
                }
                Set<Integer> fencedBy = new HashSet<>();
                boolean recovered = false;
                for (String c : children) {
                    if (c.equals(ZooKeeperPaths.FENCE_RECOVERED)) {
                        recovered = true;
                    } else if (c.startsWith(ZooKeeperPaths.FENCE_ACK_PREFIX)) {
                        try {
                            fencedBy.add(Integer.parseInt(c.substring(ZooKeeperPaths.FENCE_ACK_PREFIX.length())));
                        } catch (NumberFormatException ignored) {
                            // not an acknowledgement
                        }
                    }
                }
                out.add(new FenceRecord(m, fencedBy, recovered));
            }
            out.sort(Comparator.comparingLong((FenceRecord r) -> r.member().epoch()));
            return out;
        } catch (MembershipException e) {
            throw e;
        } catch (Exception e) {
            throw ZooKeeperMembership.failed("read " + paths.fences(), e);
        }
    }

    @Override
    public AutoCloseable watch(Runnable changed) {
        checkOpen();
        watchers.add(changed);
        try {
            notifier.execute(changed);
        } catch (RejectedExecutionException e) {
            // closed meanwhile
        }
        return () -> watchers.remove(changed);
    }

    private void changed() {
        for (Runnable w : watchers) {
            try {
                notifier.execute(w);
            } catch (RejectedExecutionException e) {
                return; // closed
            }
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        observer.getConnectionStateListenable().removeListener(stateListener);
        try {
            observer.watchers().remove(fencesWatcher).ofType(Watcher.WatcherType.Any).locally().forPath(paths.fences());
        } catch (Exception ignored) {
            // the observer is closed or its session gone: so is the watch
        }
        watchers.clear();
        notifier.shutdown();
    }

    private void checkOpen() {
        if (closed) {
            throw new MembershipException("fence book is closed");
        }
    }

    private static void requireComputeNode(Member m) {
        if (m == null || m.kind() != MemberKind.COMPUTE_NODE) {
            throw new IllegalArgumentException("only compute nodes are fenced: " + m);
        }
    }
}
