package io.dmtree.core.wire;

import java.net.SocketAddress;

/**
 * One service a {@link FrameServer} offers (control plane, tcp verbs, CN-to-CN messaging); it
 * opens a session per connection. Implement {@link #open(SocketAddress)}, or
 * {@link #open(SessionContext)} for sessions that park requests.
 */
public interface FrameService {
    /** The {@link HelloFrame} service id. */
    int serviceId();

    /** Opens the session of a connection from {@code peer}. */
    default Session open(SocketAddress peer) {
        throw new UnsupportedOperationException(getClass().getName() + " opens its sessions with a SessionContext");
    }

    /**
     * Opens the session of a connection; the context lets the session {@linkplain SessionContext#park()
     * park} a request instead of blocking on it. Called on an event-loop thread: must not block.
     */
    default Session open(SessionContext context) {
        return open(context.peer());
    }

    /**
     * Checks a connection's HELLO before its session opens (the incarnation it names: {@link
     * SessionContext#computeNode()}, {@link SessionContext#epoch()}); a refusal is the HELLO's
     * error reply and the connection is closed. Called on an event-loop thread: must not block.
     */
    default void admit(SessionContext context) throws MalformedFrameException {
    }

    /**
     * Tells the service which server offers it, once that server runs (its loops are started);
     * a service that must wait out its frames in progress ({@link FrameServer#awaitLoops}) keeps it.
     */
    default void servedBy(FrameServer server) {
    }

    /**
     * Whether {@link Session#handle} may block or take long (locks held by others, file I/O, a
     * handler that waits). True: the server runs this service's frames on its bounded pool of
     * blocking workers, one frame of a connection at a time. False: on the event-loop thread that
     * read them, so {@code handle} must be quick and never wait. Unknown services are treated as
     * blocking.
     */
    default boolean sessionsMayBlock() {
        return true;
    }

    /** The largest frame this service takes after HELLO (the server's own limit applies too). */
    default int maxFrameBytes() {
        return Integer.MAX_VALUE;
    }

    /**
     * The state of one connection. The server never calls one session from two threads at once,
     * and every call happens-after the previous one.
     */
    interface Session {
        /**
         * Handles one request frame and writes a finished reply into {@code reply} (or nothing, for a
         * one-way frame such as a CN-to-CN message); a refused request throws, and the server sends
         * the error reply (and closes the connection when the refusal is fatal). A request that has
         * to wait for something else (a barrier) {@linkplain SessionContext#park() parks} instead of
         * blocking: it writes nothing and the reply follows later.
         */
        void handle(FrameReader request, FrameWriter reply) throws MalformedFrameException, InterruptedException;

        /**
         * Whether the idle timeout spares this connection: a session whose connection stands for
         * something scarce and long-lived (a compute node's membership) may stay silent for as long
         * as it likes. Asked on the event loop: must be quick.
         */
        default boolean staysOpenWhenIdle() {
            return false;
        }

        /** The connection ended (closed by the peer, dropped on a fatal frame or a limit, or server shutdown). */
        default void closed() {
        }
    }
}
