package io.dmtree.core.wire;

import java.net.SocketAddress;

/** What a {@link FrameService.Session} may ask of its connection besides answering in {@code handle}. */
public interface SessionContext {
    /** The peer's address (for messages; may be null once the connection is closed). */
    SocketAddress peer();

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
