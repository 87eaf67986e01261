package io.dmtree.core.wire;

import java.net.SocketAddress;

/** One service a {@link FrameServer} offers (control plane, tcp verbs); it opens a session per connection. */
public interface FrameService {
    /** The {@link HelloFrame} service id. */
    int serviceId();

    Session open(SocketAddress peer);

    /** The state of one connection; called by that connection's thread only. */
    interface Session {
        /**
         * Handles one request frame and writes a finished reply into {@code reply} (or nothing, for a
         * one-way frame such as a CN-to-CN message); a refused request throws, and the server sends
         * the error reply. May block (a barrier), but must return once
         * {@code shuttingDown} is reported by the server.
         */
        void handle(FrameReader request, FrameWriter reply) throws MalformedFrameException, InterruptedException;

        /** The connection ended (closed by the peer, dropped on a fatal frame, or server shutdown). */
        default void closed() {
        }
    }
}
