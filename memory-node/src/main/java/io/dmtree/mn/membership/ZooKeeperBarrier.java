package io.dmtree.mn.membership;

import io.dmtree.core.membership.BarrierParties;
import io.dmtree.core.membership.BarrierRelease;
import io.dmtree.core.membership.BarrierTimeoutException;
import io.dmtree.core.membership.LeaseLapsedException;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberId;
import io.dmtree.core.membership.Membership;
import io.dmtree.core.membership.MembershipException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.WatcherRemoveCuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * One arrival at a barrier on ZooKeeper (nodes in {@link ZooKeeperPaths}). Curator's {@code
 * DistributedDoubleBarrier} counts members but neither excuses a lapsed one nor carries payloads
 * nor tells every waiter the same outcome, so the barrier is built from ephemeral arrival nodes
 * and one release record per round:
 *
 * <ol>
 * <li><b>Open round.</b> The barrier node's data version is the open round {@code r}; the first
 * arrival creates {@code r<r>} holding the parties, later ones compare theirs (an empty round whose
 * arrivals all left may be re-opened with other parties).</li>
 * <li><b>Arrive.</b> An ephemeral node in the arriver's lease session, named after its incarnation,
 * holding its payload. Ephemeral, so an arriver whose lease ends is withdrawn with it.</li>
 * <li><b>Evaluate.</b> Every waiter looks at the round whenever a watch fires (arrivals, the
 * release node, the lease nodes of missing parties) or at the latest every poll interval.
 * Complete means: for a count, that many distinct slots arrived; for members, every party
 * arrived or its lease node is gone (epochs never return, so a gone lease node is a lapse; it was
 * live when the party list was made, and ZooKeeper applies changes in one order on every server,
 * so a server that shows the round node also shows every lease node created before it).</li>
 * <li><b>Release.</b> The first waiter to see it complete writes, in one transaction, the release
 * record {@code release-<r>} (arrivals with payloads, lapsed parties) and bumps the barrier node's
 * version to {@code r+1} conditionally on {@code r}. The transaction succeeds once; everyone else
 * reads the record, so all waiters get the same release. An arrival that finds a release that does
 * not list it arrived too late and goes to the next round.</li>
 * <li><b>Retire.</b> Each waiter deletes its arrival once released; the releaser of round {@code r}
 * deletes round {@code r-2} and its record, so a name keeps at most two released rounds.</li>
 * </ol>
 *
 * A waiter that times out withdraws its arrival (and the round node if it was the last) and throws
 * {@link BarrierTimeoutException}; one whose lease ends throws {@link LeaseLapsedException}.
 */
final class ZooKeeperBarrier {
    private final ZooKeeperLease lease;
    private final ZooKeeperPaths paths;
    private final CuratorFramework c;
    private final String name;
    private final BarrierParties parties;
    private final long pollNanos;
    private final ChangeSignal changed = new ChangeSignal();
    private final Watcher wake = e -> changed.signal();

    ZooKeeperBarrier(ZooKeeperMembership owner, ZooKeeperLease lease, String name, BarrierParties parties, long pollNanos) {
        this.lease = lease;
        this.paths = owner.paths();
        this.c = lease.client();
        this.name = name;
        this.parties = parties;
        this.pollNanos = pollNanos;
    }

    BarrierRelease arrive(byte[] payload, Duration timeout) throws InterruptedException {
        Member me = lease.member();
        parties.checkParty(me, name);
        lease.checkLive();
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        // the lease's end is seen at the latest one poll interval later (no callback: a long-lived
        // lease would collect one per barrier)
        WatcherRemoveCuratorFramework w = c.newWatcherRemoveCuratorFramework();
        try {
            while (true) {
                long round = openRound();
                String arrival = paths.arrival(name, round, me);
                try {
                    c.create().withMode(CreateMode.EPHEMERAL).forPath(arrival, payload);
                } catch (KeeperException.NodeExistsException e) {
                    if (!ownedBySession(arrival)) {
                        throw new IllegalStateException(me + " already waits at barrier '" + name + "'");
                    }
                    // our own create: it took effect, the reply was lost to a connection loss and the retry found it
                } catch (KeeperException.NoNodeException e) {
                    continue; // the round node was removed between our look and our arrival: open again
                }
                BarrierRelease r = await(w, round, me, started, deadline);
                if (r != null) {
                    return r;
                }
            }
        } catch (MembershipException | InterruptedException | IllegalArgumentException | IllegalStateException e) {
            if (e instanceof IllegalStateException && lease.state().ended()) {
                throw new LeaseLapsedException(me, lease.state()); // the lease's client closed with it
            }
            throw e;
        } catch (Exception e) {
            throw ZooKeeperMembership.failed("arrive at barrier '" + name + "'", e);
        } finally {
            w.removeWatchers();
        }
    }

    /**
     * Whether the ephemeral node at {@code path} belongs to this lease's session: a create retried
     * after a connection loss (a leader change) finds the node its first attempt made.
     */
    private boolean ownedBySession(String path) throws Exception {
        Stat st = c.checkExists().forPath(path);
        return st != null && st.getEphemeralOwner() == c.getZookeeperClient().getZooKeeper().getSessionId();
    }

    /** The open round's number, with its round node created or checked against our parties. */
    private long openRound() throws Exception {
        String base = paths.barrier(name);
        while (true) {
            Stat b = c.checkExists().forPath(base);
            if (b == null) {
                try {
                    c.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).forPath(base, new byte[0]);
                } catch (KeeperException.NodeExistsException e) {
                    // made by a concurrent arrival
                }
                continue;
            }
            long round = b.getVersion();
            if (c.checkExists().forPath(paths.release(name, round)) != null) {
                continue; // released since we read the version
            }
            String roundPath = paths.round(name, round);
            try {
                c.create().withMode(CreateMode.PERSISTENT).forPath(roundPath, ZooKeeperRecords.parties(parties));
                return round;
            } catch (KeeperException.NodeExistsException e) {
                Stat rs = new Stat();
                BarrierParties theirs;
                try {
                    theirs = ZooKeeperRecords.parties(c.getData().storingStatIn(rs).forPath(roundPath));
                } catch (KeeperException.NoNodeException gone) {
                    continue;
                }
                if (theirs.equals(parties)) {
                    return round;
                }
                if (rs.getNumChildren() == 0) {
                    try { // every arrival left: the round may start over with other parties
                        c.delete().withVersion(rs.getVersion()).forPath(roundPath);
                    } catch (KeeperException.NoNodeException | KeeperException.BadVersionException
                             | KeeperException.NotEmptyException raced) {
                        // someone arrived or re-opened meanwhile: look again
                    }
                    continue;
                }
                throw new IllegalArgumentException("barrier '" + name + "' round " + round + " waits for " + theirs
                        + ", not " + parties + ": start every member with the same settings");
            }
        }
    }

    /** Waits for round {@code round}'s release; null if it released without us (we came too late). */
    private BarrierRelease await(WatcherRemoveCuratorFramework w, long round, Member me, long started, long deadline)
            throws Exception {
        String roundPath = paths.round(name, round);
        String releasePath = paths.release(name, round);
        String mine = paths.arrival(name, round, me);
        SortedSet<Member> arrived = new TreeSet<>(List.of(me));
        while (true) {
            long seen = changed.seen();
            if (w.checkExists().usingWatcher(wake).forPath(releasePath) != null) {
                BarrierRelease r = readRelease(releasePath);
                deleteQuietly(mine);
                return r.arrivals().containsKey(me) ? r : null;
            }
            if (lease.state().ended()) { // the arrival goes with the session
                throw new LeaseLapsedException(me, lease.state());
            }
            List<String> names;
            try {
                names = w.getChildren().usingWatcher(wake).forPath(roundPath);
            } catch (KeeperException.NoNodeException e) {
                if (c.checkExists().forPath(releasePath) != null) {
                    continue;
                }
                throw new MembershipException("barrier '" + name + "' round " + round
                        + " was retired before this member read its release (two later rounds released without it)");
            }
            SortedMap<MemberId, Member> bySlot = new TreeMap<>();
            for (String n : names) {
                Member m = ZooKeeperPaths.parseIncarnation(n);
                if (m != null && (bySlot.get(m.id()) == null || bySlot.get(m.id()).epoch() < m.epoch())) {
                    bySlot.put(m.id(), m);
                }
            }
            arrived = new TreeSet<>(bySlot.values());
            arrived.add(me);
            SortedSet<Member> counted = new TreeSet<>();
            SortedSet<Member> lapsed = new TreeSet<>();
            boolean complete;
            if (parties instanceof BarrierParties.Count cnt) {
                for (Member m : bySlot.values()) {
                    if (m.kind() == cnt.kind()) {
                        counted.add(m);
                    }
                }
                complete = counted.size() >= cnt.count();
            } else {
                complete = true;
                for (Member p : ((BarrierParties.Members) parties).members()) {
                    if (p.sameIncarnation(bySlot.get(p.id()))) {
                        counted.add(p);
                    } else if (w.checkExists().usingWatcher(wake).forPath(paths.lease(p)) != null) {
                        complete = false; // live, not here yet
                    } else {
                        lapsed.add(p);
                    }
                }
            }
            if (complete && counted.contains(me)) {
                BarrierRelease r = release(round, counted, lapsed);
                if (r != null) {
                    deleteQuietly(mine);
                    return r;
                }
                continue; // an arrival vanished while we read it, or another waiter released: look again
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                deleteQuietly(mine);
                if (names.size() <= 1) {
                    try {
                        c.delete().forPath(roundPath); // we were the last: let the round start over
                    } catch (KeeperException.NoNodeException | KeeperException.NotEmptyException raced) {
                        // another arrival is there
                    }
                }
                throw new BarrierTimeoutException(name, parties, arrived,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            }
            changed.await(seen, Math.min(left, pollNanos));
        }
    }

    /** Writes the release of {@code round}; null if someone else did or an arrival vanished. */
    private BarrierRelease release(long round, SortedSet<Member> counted, SortedSet<Member> lapsed) throws Exception {
        SortedMap<Member, byte[]> arrivals = new TreeMap<>();
        long bytes = 0;
        for (Member m : counted) {
            try {
                byte[] p = c.getData().forPath(paths.arrival(name, round, m));
                arrivals.put(m, p);
                bytes += p.length;
            } catch (KeeperException.NoNodeException gone) {
                return null; // it lapsed or timed out: evaluate again
            }
        }
        if (bytes > Membership.MAX_BARRIER_ROUND_BYTES) {
            throw new IllegalArgumentException("barrier '" + name + "': payloads of " + bytes
                    + " bytes in one round; at most " + Membership.MAX_BARRIER_ROUND_BYTES);
        }
        BarrierRelease r = new BarrierRelease(name, round, arrivals, lapsed);
        try {
            c.transaction().forOperations(
                    c.transactionOp().create().withMode(CreateMode.PERSISTENT).forPath(paths.release(name, round),
                            ZooKeeperRecords.release(r)),
                    c.transactionOp().setData().withVersion((int) round).forPath(paths.barrier(name), new byte[0]));
        } catch (KeeperException.NodeExistsException | KeeperException.BadVersionException raced) {
            return null; // another waiter released it: read its record
        }
        if (round >= 2) {
            deleteQuietly(paths.release(name, round - 2));
            try {
                c.delete().deletingChildrenIfNeeded().forPath(paths.round(name, round - 2));
            } catch (KeeperException.NoNodeException gone) {
                // retired already
            }
        }
        return r;
    }

    private BarrierRelease readRelease(String path) throws Exception {
        BarrierRelease r = ZooKeeperRecords.release(name, c.getData().forPath(path));
        // a copy whose payload arrays the caller may keep
        SortedMap<Member, byte[]> copy = new TreeMap<>();
        r.arrivals().forEach((m, p) -> copy.put(m, Arrays.copyOf(p, p.length)));
        return new BarrierRelease(r.barrier(), r.round(), copy, r.lapsed());
    }

    private void deleteQuietly(String path) {
        try {
            c.delete().forPath(path);
        } catch (Exception e) {
            // gone already, or our session ended and took it along
        }
    }
}
