package io.dmtree.cn.messaging;

import io.dmtree.core.memory.RemoteAccessException;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A messaging endpoint's connections to other compute nodes, made on first use: look the peer
 * up in the directory, check that it speaks this transport, connect.
 *
 * <p>Concurrency: one slot per compute-node id. A slot's connection is published with a volatile
 * write and read without a lock, so senders to a connected peer never block each other. Making a
 * connection holds that slot's monitor only, so each peer is connected at most once at a time and
 * a peer that is slow to answer (an address that drops packets: the connect waits for the
 * timeout) holds up only the senders to that peer, never those to others. Every wait is bounded
 * by the timeout: the directory lookup, the connect and the transport's handshake.
 *
 * <p>Every failure is a {@link RemoteAccessException} naming the peer's id and the endpoint it
 * registered, so an advertised address that this host cannot reach is named, not hung on.
 *
 * @param <P> the transport's connection to one peer
 */
public final class PeerConnections<P> {
    /** Connects to the peer whose endpoint, after the scheme, is {@code address}, within the timeout. */
    @FunctionalInterface
    public interface Connector<P> {
        P connect(int cn, String address) throws Exception;
    }

    /** The highest compute-node id plus one (ids are 16-bit on the wire). */
    public static final int MAX_PEERS = 1 << 16;

    private static final class Slot<P> {
        volatile P connection;
        volatile String endpoint;
    }

    private final PeerDirectory directory;
    private final String scheme;
    private final String transport;
    private final int timeoutMillis;
    private final Connector<P> connector;
    private final AtomicReferenceArray<Slot<P>> slots = new AtomicReferenceArray<>(MAX_PEERS);

    /**
     * @param scheme    the prefix of this transport's endpoints in the directory, e.g. {@code tcp:}
     * @param transport its name in error messages
     */
    public PeerConnections(PeerDirectory directory, String scheme, String transport, int timeoutMillis,
                           Connector<P> connector) {
        if (timeoutMillis < 1) {
            throw new IllegalArgumentException("timeout must be positive: " + timeoutMillis);
        }
        this.directory = directory;
        this.scheme = scheme;
        this.transport = transport;
        this.timeoutMillis = timeoutMillis;
        this.connector = connector;
    }

    private Slot<P> slot(int cn) {
        if (cn < 0 || cn >= MAX_PEERS) {
            throw new IllegalArgumentException("no compute node " + cn);
        }
        Slot<P> s = slots.get(cn);
        if (s == null) {
            Slot<P> fresh = new Slot<>();
            s = slots.compareAndSet(cn, null, fresh) ? fresh : slots.get(cn);
        }
        return s;
    }

    /** The connection to compute node {@code cn}; a {@link RemoteAccessException} says why there is none. */
    public P get(int cn) {
        Slot<P> s = slot(cn);
        P p = s.connection;
        if (p != null) {
            return p;
        }
        synchronized (s) {
            p = s.connection;
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
            s.endpoint = e;
            try {
                p = connector.connect(cn, e.substring(scheme.length()));
            } catch (RemoteAccessException ex) {
                throw ex;
            } catch (Exception ex) {
                throw new RemoteAccessException("cannot reach compute node " + cn + " at its advertised messaging endpoint " + e
                        + " within " + timeoutMillis + " ms (" + describe(ex) + "); that compute node's --advertise must name an"
                        + " address this host can reach", ex);
            }
            if (p == null) {
                throw new IllegalStateException("the " + transport + " connector returned no connection to compute node " + cn);
            }
            s.connection = p;
            return p;
        }
    }

    /** The endpoint compute node {@code cn} registered, as last looked up, or null before the first {@link #get}. */
    public String endpointOf(int cn) {
        Slot<P> s = cn < 0 || cn >= MAX_PEERS ? null : slots.get(cn);
        return s == null ? null : s.endpoint;
    }

    /** Drops {@code connection} to {@code cn} (it broke), so the next {@link #get} connects again. */
    public void forget(int cn, P connection) {
        Slot<P> s = cn < 0 || cn >= MAX_PEERS ? null : slots.get(cn);
        if (s != null) {
            synchronized (s) {
                if (s.connection == connection) {
                    s.connection = null;
                }
            }
        }
    }

    /** The connections made so far (for closing). */
    public Collection<P> all() {
        List<P> list = new ArrayList<>();
        for (int i = 0; i < slots.length(); i++) {
            Slot<P> s = slots.get(i);
            P p = s == null ? null : s.connection;
            if (p != null) {
                list.add(p);
            }
        }
        return list;
    }

    private static String describe(Exception e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
