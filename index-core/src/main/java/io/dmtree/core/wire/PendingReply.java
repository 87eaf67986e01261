package io.dmtree.core.wire;

/**
 * The reply to a {@linkplain SessionContext#park() parked} request, to be given later from any
 * thread. The first {@link #complete} wins; later ones, and those after the connection closed,
 * do nothing and return false.
 */
public interface PendingReply {
    /**
     * Completes the request: {@code builder} writes the reply (or throws the refusal, which becomes
     * an error reply). It runs where the service's frames run (the event loop or a blocking worker),
     * not on the caller's thread, so this call never blocks.
     */
    boolean complete(ReplyBuilder builder);

    /** The correlation id of the parked request. */
    long correlationId();

    /** Writes one reply frame. */
    @FunctionalInterface
    interface ReplyBuilder {
        void write(FrameWriter reply) throws MalformedFrameException;
    }
}
