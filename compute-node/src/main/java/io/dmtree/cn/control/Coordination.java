package io.dmtree.cn.control;

import io.dmtree.core.membership.ClusterConfiguration;
import io.dmtree.core.membership.FenceBook;
import io.dmtree.core.membership.Membership;
import io.dmtree.core.membership.MembershipOptions;
import io.dmtree.mn.membership.ZooKeeperMembership;
import io.dmtree.mn.membership.ZooKeeperMembershipOptions;

import java.time.Duration;

/**
 * A compute node's handles on the cluster's coordination service: its {@link Membership} (leases,
 * epochs, configuration, barriers) and the {@link FenceBook}. Memory node 0 names the service in
 * its region description ({@link io.dmtree.core.wire.RegionDescription#coordination()}); a process
 * that hosts membership itself may hand its own handles in instead ({@link #embedded}), which the
 * compute node then does not close.
 *
 * @param owned whether {@link #close} closes the handles (they were connected for this compute node)
 */
public record Coordination(Membership membership, FenceBook book, boolean owned) implements AutoCloseable {
    /** The configuration entry memory node 0 writes the cluster's lease length into, in milliseconds. */
    public static final String LEASE_MILLIS_KEY = "lease.ms";
    /** The scheme of a ZooKeeper coordination address: {@code zk:HOST:PORT[,HOST:PORT...]/ROOT}. */
    public static final String ZOOKEEPER_SCHEME = "zk:";

    public Coordination {
        if (membership == null || book == null) {
            throw new IllegalArgumentException("coordination needs a membership and a fence book");
        }
    }

    /** Handles this process already holds (the caller closes them). */
    public static Coordination embedded(Membership membership, FenceBook book) {
        return new Coordination(membership, book, false);
    }

    /** Where a ZooKeeper coordination address points: servers and root node. */
    public record ZooKeeperAddress(String connectString, String root) {
        /** Parses {@code zk:HOST:PORT[,HOST:PORT...]/ROOT}; a bad address is refused naming it. */
        public static ZooKeeperAddress parse(String coordination) {
            if (coordination == null || !coordination.startsWith(ZOOKEEPER_SCHEME)) {
                throw new ControlException("memory node 0 names the coordination service '" + coordination + "', which this"
                        + " compute node cannot reach (it knows " + ZOOKEEPER_SCHEME + "HOST:PORT[,HOST:PORT...]/ROOT)");
            }
            String rest = coordination.substring(ZOOKEEPER_SCHEME.length());
            int slash = rest.indexOf('/');
            String connect = slash < 0 ? rest : rest.substring(0, slash);
            String root = slash < 0 ? ZooKeeperMembershipOptions.DEFAULT_ROOT : rest.substring(slash);
            try {
                ZooKeeperMembershipOptions.of(connect).withRoot(root); // checks servers and root
            } catch (IllegalArgumentException e) {
                throw new ControlException("memory node 0 names the coordination service '" + coordination + "': "
                        + e.getMessage());
            }
            return new ZooKeeperAddress(connect, root);
        }
    }

    /**
     * Connects to the service memory node 0 described as {@code coordination}, with calls bounded
     * by {@code timeoutMillis}, and with the lease length the cluster configuration names
     * ({@value #LEASE_MILLIS_KEY}, written by memory node 0; the default when absent).
     */
    public static Coordination connect(String coordination, int timeoutMillis) throws InterruptedException {
        return connect(coordination, timeoutMillis, null);
    }

    /**
     * ... authenticating to ZooKeeper with the cluster's {@code secret} (null: none), without which a
     * cluster with a secret lets this process neither read membership nor take a slot.
     */
    public static Coordination connect(String coordination, int timeoutMillis, io.dmtree.core.wire.ClusterSecret secret)
            throws InterruptedException {
        ZooKeeperAddress a = ZooKeeperAddress.parse(coordination);
        MembershipOptions base = MembershipOptions.DEFAULTS.withOperationTimeout(Duration.ofMillis(timeoutMillis));
        ZooKeeperMembershipOptions zk = ZooKeeperMembershipOptions.of(a.connectString()).withRoot(a.root())
                .withMembership(base).withSecret(secret);
        ZooKeeperMembership m = ZooKeeperMembership.connect(zk);
        try {
            Duration lease = leaseOf(m.configuration(), coordination);
            if (!lease.equals(base.lease())) {
                m.close(); // leases take their length from the connection's options: connect again with the cluster's
                m = ZooKeeperMembership.connect(zk.withMembership(base.withLease(lease)));
            }
            return new Coordination(m, zooKeeperFenceBook(m), true);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** The cluster's lease length from its configuration: {@value #LEASE_MILLIS_KEY}, or the default. */
    static Duration leaseOf(ClusterConfiguration configuration, String where) {
        String v = configuration.get(LEASE_MILLIS_KEY).orElse(null);
        if (v == null) {
            return Duration.ofMillis(MembershipOptions.DEFAULT_PROCESS_LEASE_MILLIS);
        }
        try {
            long ms = Long.parseLong(v.trim());
            if (ms < 1 || ms > Duration.ofMinutes(10).toMillis()) {
                throw new NumberFormatException();
            }
            return Duration.ofMillis(ms);
        } catch (NumberFormatException e) {
            throw new ControlException("the cluster configuration at " + where + " names lease length '" + v + "' ("
                    + LEASE_MILLIS_KEY + "), not a number of milliseconds in [1, 600000]");
        }
    }

    /** The fence book kept in ZooKeeper next to {@code membership}: the one place that builds it. */
    static FenceBook zooKeeperFenceBook(ZooKeeperMembership membership) {
        return new io.dmtree.mn.membership.ZooKeeperFenceBook(membership);
    }

    @Override
    public void close() {
        if (owned) {
            book.close();
            membership.close();
        }
    }
}
