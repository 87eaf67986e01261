package io.dmtree.mn.control;

import io.dmtree.core.membership.MembershipOptions;
import io.dmtree.core.wire.HostPort;
import io.dmtree.mn.membership.ZooKeeperMembershipOptions;
import io.dmtree.mn.membership.ZooKeeperPaths;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * How a memory node takes part in the cluster's membership ({@code dmtree mn --zk}, {@code
 * --zk-listen}, {@code --lease}): not at all ({@link #none()}: no leases, no fencing, the old
 * control-plane barriers), with a ZooKeeper server of its own in its process ({@link #embedded},
 * memory node 0 only), or through a ZooKeeper ensemble ({@link #zooKeeper}).
 *
 * @param connectString  ZooKeeper servers {@code host:port[,host:port...]}; null for none or embedded
 * @param root           the cluster's root node in ZooKeeper (default {@code /dmtree})
 * @param embeddedListen where the embedded server binds; null unless embedded
 * @param lease          the lease length memory node 0 writes into the cluster configuration
 */
public record Coordination(String connectString, String root, InetSocketAddress embeddedListen, Duration lease) {
    /** The key of the lease length in the cluster configuration (milliseconds). */
    public static final String LEASE_MS = "lease.ms";
    /** The key of the cluster's identity in the cluster configuration (hexadecimal; durable regions record it). */
    public static final String CLUSTER_ID = "cluster.id";

    public Coordination {
        if (connectString != null && embeddedListen != null) {
            throw new IllegalArgumentException("a memory node either runs its own ZooKeeper or connects to one, not both");
        }
        root = root == null ? ZooKeeperMembershipOptions.DEFAULT_ROOT : root;
        new ZooKeeperPaths(root); // checks it
        lease = lease == null ? Duration.ofMillis(MembershipOptions.DEFAULT_PROCESS_LEASE_MILLIS) : lease;
        MembershipOptions.DEFAULTS.withLease(lease); // checks it
        if (connectString != null) {
            ZooKeeperMembershipOptions.of(connectString); // checks it
        }
    }

    public static Coordination none() {
        return new Coordination(null, null, null, null);
    }

    /** A ZooKeeper server inside this memory node's process, bound to {@code listen}. */
    public static Coordination embedded(InetSocketAddress listen, Duration lease) {
        if (listen == null) {
            throw new IllegalArgumentException("the embedded ZooKeeper needs an address");
        }
        return new Coordination(null, null, listen, lease);
    }

    /**
     * The ensemble {@code zk}: {@code host:port[,host:port...]}, optionally followed by the
     * cluster's root ({@code 10.0.0.1:2181,10.0.0.2:2181/clusters/a}); the {@code zk:} prefix of a
     * region description's coordination string is accepted too.
     */
    public static Coordination zooKeeper(String zk, Duration lease) {
        String s = zk.trim();
        if (s.startsWith("zk:")) {
            s = s.substring(3);
        }
        int slash = s.indexOf('/');
        String connect = slash < 0 ? s : s.substring(0, slash);
        String root = slash < 0 ? null : s.substring(slash);
        return new Coordination(connect, root, null, lease);
    }

    /** Whether the memory node joins a membership at all. */
    public boolean enabled() {
        return connectString != null || embeddedListen != null;
    }

    public boolean isEmbedded() {
        return embeddedListen != null;
    }

    /** The coordination string of region descriptions for {@code connect} (the servers actually reached). */
    public String describe(String connect) {
        return "zk:" + connect + root;
    }

    @Override
    public String toString() {
        if (!enabled()) {
            return "none";
        }
        return isEmbedded() ? "embedded ZooKeeper on " + HostPort.format(embeddedListen) : describe(connectString);
    }
}
