package io.dmtree.mn.membership;

import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.LeaseState;
import io.dmtree.core.membership.LeaseStatus;
import io.dmtree.core.membership.Member;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * A lease on ZooKeeper: one ZooKeeper session of its own, whose timeout is the lease length, and
 * whose ephemeral nodes ({@link ZooKeeperPaths}: the id node and the lease node) are the lease.
 * The ZooKeeper client renews it by pinging every third of the timeout.
 *
 * <p>What the holder learns and when: a lost connection suspends the lease (Curator's {@code
 * SUSPENDED}, after two thirds of the timeout without a reply); a reconnect within the same session
 * resumes it; the session's end lapses it, whether the server expired it (the holder hears {@code
 * Expired} on reconnecting), or Curator concluded it after a full timeout out of touch (its
 * simulated expiry: the holder lapses no later than the server could have expired it, even with no
 * server to tell it), or the lease node vanished under a live session (someone deleted it). After
 * a lapse the session is closed, so a holder never silently holds a fresh session without a lease.
 */
final class ZooKeeperLease implements Lease {
    private final ZooKeeperMembership owner;
    private final Member member;
    private final CuratorFramework client;
    private final long sessionId;
    private final int grantedMillis;
    private final LeaseStatus status = new LeaseStatus();
    private final Watcher ownNode = this::onOwnNode;

    ZooKeeperLease(ZooKeeperMembership owner, Member member, CuratorFramework client, long sessionId, int grantedMillis) {
        this.owner = owner;
        this.member = member;
        this.client = client;
        this.sessionId = sessionId;
        this.grantedMillis = grantedMillis;
    }

    /** Starts listening for the session's fate and the lease node's removal. */
    void arm() throws Exception {
        client.getConnectionStateListenable().addListener(this::onState);
        if (client.checkExists().usingWatcher(ownNode).forPath(owner.paths().lease(member)) == null) {
            lapse();
        }
        if (!client.getZookeeperClient().isConnected()) {
            status.suspend();
        }
    }

    ZooKeeperMembership owner() {
        return owner;
    }

    CuratorFramework client() {
        return client;
    }

    /** The lease length ZooKeeper granted (it bounds what a client asks by its tick). */
    Duration granted() {
        return Duration.ofMillis(grantedMillis);
    }

    private void onState(CuratorFramework c, ConnectionState s) {
        switch (s) {
            case SUSPENDED, READ_ONLY -> status.suspend();
            case CONNECTED, RECONNECTED -> {
                if (currentSession() == sessionId) {
                    status.resume();
                } else {
                    lapse(); // a new session: the old one, and the lease with it, is gone
                }
            }
            case LOST -> lapse();
            default -> { }
        }
    }

    private long currentSession() {
        try {
            return client.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            return 0;
        }
    }

    private void onOwnNode(WatchedEvent e) {
        if (e.getType() == Watcher.Event.EventType.NodeDeleted) {
            lapse();
        } else if (e.getType() != Watcher.Event.EventType.None && !status.state().ended()) {
            try { // re-arm off the event thread's blocking path
                client.checkExists().usingWatcher(ownNode).inBackground((c, ev) -> {
                    if (ev.getStat() == null && ev.getResultCode() == 0) {
                        lapse();
                    }
                }).forPath(owner.paths().lease(member));
            } catch (Exception ignored) {
                // the connection state listener handles a client that is going away
            }
        }
    }

    private void lapse() {
        if (status.end(LeaseState.LAPSED)) {
            owner.leaseEnded(this, LeaseState.LAPSED);
            owner.closeLater(client);
        }
    }

    @Override
    public Member member() {
        return member;
    }

    @Override
    public LeaseState state() {
        return status.state();
    }

    @Override
    public void onEnd(Consumer<LeaseState> callback) {
        status.onEnd(callback);
    }

    @Override
    public LeaseState awaitEnd(Duration timeout) throws InterruptedException {
        return status.awaitEnd(timeout);
    }

    @Override
    public void close() {
        if (status.end(LeaseState.CLOSED)) {
            owner.leaseEnded(this, LeaseState.CLOSED);
        }
        client.close(); // ends the session: ZooKeeper removes the lease's nodes at once
    }

    @Override
    public String toString() {
        return "lease of " + member + " (" + status.state() + ", session 0x" + Long.toHexString(sessionId) + ")";
    }
}
