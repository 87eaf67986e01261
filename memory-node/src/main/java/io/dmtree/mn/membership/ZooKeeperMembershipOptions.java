package io.dmtree.mn.membership;

import io.dmtree.core.membership.MembershipOptions;

import java.time.Duration;

/**
 * Where and how {@link ZooKeeperMembership} reaches ZooKeeper.
 *
 * @param connectString   ZooKeeper servers, {@code host:port[,host:port...]}
 * @param root            the node under which this cluster's membership lives ({@link ZooKeeperPaths})
 * @param membership      lease length, id pools and the per-call timeout
 * @param observerSession session timeout of the process's own watching connection, which holds no
 *                        lease: long, so that watchers ride out a ZooKeeper restart without a new
 *                        session (30 s by default)
 */
public record ZooKeeperMembershipOptions(String connectString, String root, MembershipOptions membership,
                                         Duration observerSession) {
    public static final String DEFAULT_ROOT = "/dmtree";
    public static final Duration DEFAULT_OBSERVER_SESSION = Duration.ofSeconds(30);

    public ZooKeeperMembershipOptions {
        if (connectString == null || connectString.isBlank()) {
            throw new IllegalArgumentException("ZooKeeper connect string is empty (host:port[,host:port...])");
        }
        for (String server : connectString.split(",")) {
            int colon = server.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("ZooKeeper server '" + server + "' is not host:port");
            }
            try {
                int port = Integer.parseInt(server.substring(colon + 1).trim());
                if (port < 1 || port > 65535) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("ZooKeeper server '" + server + "' has no port in [1, 65535]");
            }
        }
        new ZooKeeperPaths(root); // checks it
        if (membership == null) {
            throw new IllegalArgumentException("membership options are required");
        }
        if (observerSession == null || observerSession.toMillis() < 1) {
            throw new IllegalArgumentException("observer session " + observerSession + " is not positive");
        }
    }

    public static ZooKeeperMembershipOptions of(String connectString) {
        return new ZooKeeperMembershipOptions(connectString, DEFAULT_ROOT, MembershipOptions.DEFAULTS,
                DEFAULT_OBSERVER_SESSION);
    }

    public ZooKeeperMembershipOptions withMembership(MembershipOptions membership) {
        return new ZooKeeperMembershipOptions(connectString, root, membership, observerSession);
    }

    public ZooKeeperMembershipOptions withRoot(String root) {
        return new ZooKeeperMembershipOptions(connectString, root, membership, observerSession);
    }

    public ZooKeeperMembershipOptions withConnectString(String connectString) {
        return new ZooKeeperMembershipOptions(connectString, root, membership, observerSession);
    }
}
