package io.dmtree.cn.messaging;

import io.dmtree.core.memory.RemoteAccessException;

import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A messaging endpoint's connections to other compute nodes, made on first use: look the peer
 * up in the directory, check that it speaks this transport, connect. Thread-safe; each peer is
 * connected at most once.
 *
 * @param <P> the transport's connection to one peer
 */
public final class PeerConnections<P> {
    /** Connects to the peer whose endpoint, after the scheme, is {@code address}. */
    @FunctionalInterface
    public interface Connector<P> {
        P connect(int cn, String address) throws Exception;
    }

    private final PeerDirectory directory;
    private final String scheme;
    private final String transport;
    private final int timeoutMillis;
    private final Connector<P> connector;
    private final Map<Integer, P> peers = new ConcurrentHashMap<>();

    /**
     * @param scheme    the prefix of this transport's endpoints in the directory, e.g. {@code tcp:}
     * @param transport its name in error messages
     */
    public PeerConnections(PeerDirectory directory, String scheme, String transport, int timeoutMillis,
                           Connector<P> connector) {
        this.directory = directory;
        this.scheme = scheme;
        this.transport = transport;
        this.timeoutMillis = timeoutMillis;
        this.connector = connector;
    }

    /** The connection to compute node {@code cn}; a {@link RemoteAccessException} says why there is none. */
    public P get(int cn) {
        P p = peers.get(cn);
        if (p != null) {
            return p;
        }
        synchronized (peers) {
            p = peers.get(cn);
            if (p != null) {
                return p;
            }
            Optional<String> endpoint = directory.lookup(cn, timeoutMillis);
            if (endpoint.isEmpty()) {
                throw new RemoteAccessException("compute node " + cn + " has no messaging endpoint in the directory (not joined "
                        + "within " + timeoutMillis + " ms)");
            }
            String e = endpoint.get();
            if (!e.startsWith(scheme)) {
                throw new RemoteAccessException("compute node " + cn + " listens on '" + e + "', not a " + transport
                        + " endpoint: every compute node of a cluster must use the same transport");
            }
            try {
                p = connector.connect(cn, e.substring(scheme.length()));
            } catch (RemoteAccessException ex) {
                throw ex;
            } catch (Exception ex) {
                throw new RemoteAccessException("cannot connect to compute node " + cn + " at " + e + ": " + ex.getMessage(), ex);
            }
            peers.put(cn, p);
            return p;
        }
    }

    /** Drops {@code connection} to {@code cn} (it broke), so the next {@link #get} connects again. */
    public void forget(int cn, P connection) {
        peers.remove(cn, connection);
    }

    public Collection<P> all() {
        return peers.values();
    }
}
