package io.dmtree.core.wire;

/**
 * How a {@link FrameServer} runs and what it tolerates from its peers. Every limit that a peer
 * can hit is counted in {@link FrameServerStats} and reported by a rate-limited line on stderr.
 *
 * @param eventLoops         event-loop threads; each owns a share of the connections, reads their
 *                           frames, runs non-blocking services inline and writes the replies
 * @param blockingWorkers    most threads that run frames of services whose sessions may block
 *                           ({@link FrameService#sessionsMayBlock()}); they are started on demand and
 *                           end after a few idle seconds
 * @param helloBufferBytes   the receive buffer of a connection that has not said HELLO yet; a frame
 *                           larger than this before HELLO is refused and the connection closed
 * @param sessionBufferBytes the receive buffer after HELLO (at most the service's frame limit); a
 *                           larger frame grows it up to that limit, and it shrinks back afterwards
 * @param receiveBudgetBytes the most bytes all connections together may hold beyond their session
 *                           buffers while receiving large frames; 0: automatic, four times the largest
 *                           frame limit. A connection whose frame does not fit waits, without reading,
 *                           until others release theirs
 * @param helloTimeoutMillis a connection that has not completed HELLO within this is closed
 * @param idleTimeoutMillis  a connection with no complete frame within this and no request in progress
 *                           is closed, unless it is between frames and its session
 *                           {@linkplain FrameService.Session#staysOpenWhenIdle() stays open when idle}; 0: never
 * @param maxConnections     open connections beyond this are answered with an error and closed at once
 * @param keepAliveSeconds   TCP keepalive idle time (probes every 10 s, 6 probes) that finds half-open
 *                           connections of peers that vanished; 0: the kernel's keepalive default
 */
public record ConnectionLimits(int eventLoops, int blockingWorkers, int helloBufferBytes, int sessionBufferBytes,
                               long receiveBudgetBytes, int helloTimeoutMillis, int idleTimeoutMillis, int maxConnections,
                               int keepAliveSeconds) {
    public static final int DEFAULT_EVENT_LOOPS = 1;
    public static final int DEFAULT_BLOCKING_WORKERS = 8;
    public static final int DEFAULT_HELLO_BUFFER_BYTES = 4 << 10;
    public static final int DEFAULT_SESSION_BUFFER_BYTES = 16 << 10;
    public static final int DEFAULT_HELLO_TIMEOUT_MILLIS = 5_000;
    public static final int DEFAULT_MAX_CONNECTIONS = 4096;
    public static final int DEFAULT_KEEPALIVE_SECONDS = 60;
    /**
     * The idle timeout a memory node uses: longer than the longest control-plane wait
     * ({@link ControlFrame#MAX_WAIT_MILLIS}), so a compute node parked at a barrier keeps its verb
     * connections.
     */
    public static final int MEMORY_NODE_IDLE_TIMEOUT_MILLIS = 15 * 60 * 1000;

    /** Smallest buffer: a HELLO and an error reply must fit. */
    public static final int MIN_BUFFER_BYTES = 256;

    /**
     * Defaults for any frame server: one event loop, 8 blocking workers, 4 KiB before HELLO, 16 KiB
     * after, automatic budget, 5 s to say HELLO, 4096 connections, no idle timeout (a one-way
     * service such as CN-to-CN messaging cannot tell a connection closed for idleness from a live
     * one until a write fails, so it must not be closed under its sender).
     */
    public static final ConnectionLimits DEFAULTS = new ConnectionLimits(DEFAULT_EVENT_LOOPS, DEFAULT_BLOCKING_WORKERS,
            DEFAULT_HELLO_BUFFER_BYTES, DEFAULT_SESSION_BUFFER_BYTES, 0, DEFAULT_HELLO_TIMEOUT_MILLIS, 0,
            DEFAULT_MAX_CONNECTIONS, DEFAULT_KEEPALIVE_SECONDS);

    /** {@link #DEFAULTS} with the memory node's idle timeout. */
    public static final ConnectionLimits MEMORY_NODE = DEFAULTS.toBuilder().idleTimeoutMillis(MEMORY_NODE_IDLE_TIMEOUT_MILLIS).build();

    public ConnectionLimits {
        check(eventLoops >= 1 && eventLoops <= 64, "event loops must be in [1, 64]: " + eventLoops);
        check(blockingWorkers >= 1 && blockingWorkers <= 1024, "blocking workers must be in [1, 1024]: " + blockingWorkers);
        check(helloBufferBytes >= MIN_BUFFER_BYTES && helloBufferBytes <= (1 << 20),
                "the buffer before HELLO must be in [" + MIN_BUFFER_BYTES + ", 1M] bytes: " + helloBufferBytes);
        check(sessionBufferBytes >= helloBufferBytes && sessionBufferBytes <= (64 << 20),
                "the session buffer must be at least the buffer before HELLO (" + helloBufferBytes + ") and at most 64M: "
                        + sessionBufferBytes);
        check(receiveBudgetBytes >= 0, "the receive budget must not be negative: " + receiveBudgetBytes);
        check(helloTimeoutMillis >= 1, "the HELLO timeout must be positive: " + helloTimeoutMillis + " ms");
        check(idleTimeoutMillis >= 0, "the idle timeout must not be negative (0 disables it): " + idleTimeoutMillis + " ms");
        check(maxConnections >= 1, "the connection limit must be positive: " + maxConnections);
        check(keepAliveSeconds >= 0 && keepAliveSeconds <= 86_400, "keepalive must be in [0, 86400] s: " + keepAliveSeconds);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * The receive budget for a server whose largest frame is {@code maxFrameBytes}: the configured
     * one, which must hold one such frame, or four of them when automatic.
     */
    public long budgetFor(int maxFrameBytes) {
        long beyondBuffer = Math.max(0, (long) maxFrameBytes - sessionBufferBytes);
        if (receiveBudgetBytes == 0) {
            return Math.max(4 * beyondBuffer, 1 << 20);
        }
        if (receiveBudgetBytes < beyondBuffer) {
            throw new IllegalArgumentException("the receive budget of " + receiveBudgetBytes + " bytes cannot hold one frame of "
                    + maxFrameBytes + " bytes (it needs at least " + beyondBuffer + " beyond the session buffer)");
        }
        return receiveBudgetBytes;
    }

    /** A builder starting from these limits. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A builder starting from {@link #DEFAULTS}. */
    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    /** Changes some limits; {@link #build()} checks them all by building the record. */
    public static final class Builder {
        private int eventLoops;
        private int blockingWorkers;
        private int helloBufferBytes;
        private int sessionBufferBytes;
        private long receiveBudgetBytes;
        private int helloTimeoutMillis;
        private int idleTimeoutMillis;
        private int maxConnections;
        private int keepAliveSeconds;

        private Builder(ConnectionLimits l) {
            eventLoops = l.eventLoops;
            blockingWorkers = l.blockingWorkers;
            helloBufferBytes = l.helloBufferBytes;
            sessionBufferBytes = l.sessionBufferBytes;
            receiveBudgetBytes = l.receiveBudgetBytes;
            helloTimeoutMillis = l.helloTimeoutMillis;
            idleTimeoutMillis = l.idleTimeoutMillis;
            maxConnections = l.maxConnections;
            keepAliveSeconds = l.keepAliveSeconds;
        }

        public Builder eventLoops(int n) {
            eventLoops = n;
            return this;
        }

        public Builder blockingWorkers(int n) {
            blockingWorkers = n;
            return this;
        }

        public Builder helloBufferBytes(int n) {
            helloBufferBytes = n;
            return this;
        }

        public Builder sessionBufferBytes(int n) {
            sessionBufferBytes = n;
            return this;
        }

        public Builder receiveBudgetBytes(long n) {
            receiveBudgetBytes = n;
            return this;
        }

        public Builder helloTimeoutMillis(int n) {
            helloTimeoutMillis = n;
            return this;
        }

        public Builder idleTimeoutMillis(int n) {
            idleTimeoutMillis = n;
            return this;
        }

        public Builder maxConnections(int n) {
            maxConnections = n;
            return this;
        }

        public Builder keepAliveSeconds(int n) {
            keepAliveSeconds = n;
            return this;
        }

        /** The limits; an {@link IllegalArgumentException} names the first bad one. */
        public ConnectionLimits build() {
            return new ConnectionLimits(eventLoops, blockingWorkers, helloBufferBytes, sessionBufferBytes, receiveBudgetBytes,
                    helloTimeoutMillis, idleTimeoutMillis, maxConnections, keepAliveSeconds);
        }
    }
}
