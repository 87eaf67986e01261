package io.dmtree.core.wire;

import java.net.SocketAddress;

/** What a {@link FrameService.Session} may ask of its connection besides answering in {@code handle}. */
public interface SessionContext {
    /** The peer's address (for messages; may be null once the connection is closed). */
    SocketAddress peer();

    /** The compute node the peer's HELLO named ({@link HelloFrame}), or {@link HelloFrame#NO_COMPUTE_NODE}. */
    default int computeNode() {
        return HelloFrame.NO_COMPUTE_NODE;
    }

    /** The epoch of that compute node's incarnation the HELLO named, or 0 (no membership). */
    default long epoch() {
        return 0;
    }

    /**
     * Parks the request being handled: called from {@link FrameService.Session#handle}, which then
     * writes no reply and returns. The connection handles no further request until the returned
     * reply is {@linkplain PendingReply#complete completed}, and it is not idle meanwhile (the idle
     * timeout spares it). At most one request of a connection is parked at a time.
     *
     * @throws IllegalStateException outside {@code handle}, or when this request is already parked
     */
    PendingReply park();
}
