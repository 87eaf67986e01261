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
 * @param digest          null, or {@code user:password} of ZooKeeper's digest scheme: every connection
 *                        authenticates with it and every node it creates is readable and writable by
 *                        that identity only, so a client without it can neither read membership nor
 *                        take a slot (see {@link #withSecret})
 */
public record ZooKeeperMembershipOptions(String connectString, String root, MembershipOptions membership,
                                         Duration observerSession, String digest) {
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
        if (digest != null && digest.indexOf(':') <= 0) {
            throw new IllegalArgumentException("a ZooKeeper digest identity is user:password");
        }
    }

    /** Options without a digest identity (every client may read and write). */
    public ZooKeeperMembershipOptions(String connectString, String root, MembershipOptions membership,
                                      Duration observerSession) {
        this(connectString, root, membership, observerSession, null);
    }

    /** The ZooKeeper user that holds the cluster secret. */
    public static final String DIGEST_USER = "dmtree";

    /**
     * Authenticates as the cluster's ZooKeeper user, whose password is derived from {@code secret}
     * (the secret itself never leaves the process); null: none. ZooKeeper's digest scheme sends
     * the password to the server in the clear, so an eavesdropper on the ZooKeeper connection learns
     * this password, which admits it to ZooKeeper, but not the cluster secret.
     */
    public ZooKeeperMembershipOptions withSecret(io.dmtree.core.wire.ClusterSecret secret) {
        return new ZooKeeperMembershipOptions(connectString, root, membership, observerSession,
                secret == null ? null : DIGEST_USER + ":" + secret.derivedPassword("zookeeper"));
    }

    public static ZooKeeperMembershipOptions of(String connectString) {
        return new ZooKeeperMembershipOptions(connectString, DEFAULT_ROOT, MembershipOptions.DEFAULTS,
                DEFAULT_OBSERVER_SESSION, null);
    }

    public ZooKeeperMembershipOptions withMembership(MembershipOptions membership) {
        return new ZooKeeperMembershipOptions(connectString, root, membership, observerSession, digest);
    }

    public ZooKeeperMembershipOptions withRoot(String root) {
        return new ZooKeeperMembershipOptions(connectString, root, membership, observerSession, digest);
    }

    public ZooKeeperMembershipOptions withConnectString(String connectString) {
        return new ZooKeeperMembershipOptions(connectString, root, membership, observerSession, digest);
    }
}
