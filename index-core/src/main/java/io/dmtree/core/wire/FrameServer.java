package io.dmtree.core.wire;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The TCP front door of a memory node (and of a compute node's messaging endpoint): accepts
 * connections on one address, reads each connection's {@link HelloFrame}, and serves it with the
 * named {@link FrameService}, event-driven: a few {@link FrameLoop} threads (selectors), no thread
 * per connection.
 *
 * <p><b>Algorithm.</b> Loop 0 accepts; each accepted connection is handed round-robin to one loop,
 * which owns it from then on ({@link FrameConnection}). When a connection's socket is readable its
 * loop reads what is there into the connection's receive buffer and handles every whole frame in
 * it, in order. Frames of a non-blocking service ({@link FrameService#sessionsMayBlock()} false:
 * tcp verbs) are handled on the loop itself, with no hand-off: read, execute, reply from the same
 * thread, and the replies of all frames handled in one pass leave in one gathering write. Frames
 * of a service that may block (control plane, CN-to-CN delivery) go to a bounded pool of blocking
 * workers, one frame of a connection at a time; the worker hands the connection back to its loop,
 * which writes the reply and goes on. A request that waits for something that may take minutes (a
 * barrier, a directory lookup, a liveness watch) holds no thread at all: its session
 * {@linkplain SessionContext#park() parks} it and completes its {@link PendingReply} later.
 *
 * <p><b>Invariants.</b>
 * <ul>
 *   <li>Requests of one connection are applied in order and answered in order: at most one is in
 *   progress (inline, on a worker, or parked) and none after it is started before its reply is
 *   queued.</li>
 *   <li>No loop ever blocks: a loop thread runs only non-blocking sessions, non-blocking socket
 *   calls and bookkeeping; every wait is a parked request or a worker's.</li>
 *   <li>Memory follows what peers send, never what they announce: a connection holds
 *   {@link ConnectionLimits#helloBufferBytes()} until HELLO and its session buffer afterwards; a
 *   larger frame reserves its excess from the shared {@link ReceiveBudget} (or waits) and its
 *   buffer grows only as the bytes arrive, and shrinks back after it. So receive memory is at most
 *   {@code open connections x session buffer + budget}, plus, for the instant a loop copies a
 *   growing buffer into its successor, that one old buffer; {@link #stats()} reports it (a buffer
 *   counts from its allocation to its release, which is explicit, not left to the collector).</li>
 *   <li>Threads are {@code eventLoops} plus at most {@code blockingWorkers}, whatever the number of
 *   connections.</li>
 *   <li>A frame with a bad length or version gets an error reply and its connection closed (the
 *   stream cannot be resynchronised); any other refused frame gets an error reply and the
 *   connection goes on; every limit a peer hits (too many connections, a frame too large before
 *   or after HELLO, no HELLO in time, idle too long, waiting for the budget) is counted in
 *   {@link #stats()} and reported by a rate-limited line on stderr; an unexpected exception in a
 *   session closes that connection only and is counted in {@link #internalErrors()}. No failure of
 *   one connection touches another.</li>
 * </ul>
 *
 * <p><b>Why NIO and not Netty.</b> The server needs exactly one selector loop, direct buffers it
 * sizes and frees itself (so the receive accounting is exact and a shrunk buffer is returned at
 * once, not when a pooled arena decides), and sessions that read frames in place. The JDK's
 * selector (epoll on Linux) gives that in a few hundred lines with no dependency; Netty's epoll
 * transport would add a native library per platform, its own pooled allocator whose arenas blur
 * the memory figures this server must report, and a pipeline whose per-connection handler objects
 * and hand-offs the verbs path does not want.
 */
public final class FrameServer implements AutoCloseable {
    private final ServerSocketChannel server;
    private final Map<Integer, FrameService> services;
    private final int maxFrameBytes;
    private final int nodeId;
    private final ConnectionLimits limits;
    private final String name;
    private final FrameLoop[] loops;
    private final ThreadPoolExecutor workers;
    private final ReceiveBudget budget;
    private final LimitLog limitLog;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong framesServed = new AtomicLong();
    private final AtomicLong errorReplies = new AtomicLong();
    private final AtomicLong internalErrors = new AtomicLong();
    private final AtomicLong connectionsAccepted = new AtomicLong();
    private final AtomicLong receiveBytes = new AtomicLong();
    private final AtomicLong peakReceiveBytes = new AtomicLong();
    private final AtomicLong sendBytes = new AtomicLong();
    private final AtomicLong authenticationRefusals = new AtomicLong();
    private final AtomicLong tlsRefusals = new AtomicLong();
    /** Null: every peer is admitted without proof (an in-process cluster, or {@code --secret none}). */
    private final ClusterSecret secret;
    private int nextLoop;
    private volatile boolean closed;

    /** A server with {@link ConnectionLimits#DEFAULTS}. */
    public FrameServer(InetSocketAddress listen, int nodeId, int maxFrameBytes, Map<Integer, FrameService> services,
                       String threadPrefix) throws IOException {
        this(listen, nodeId, maxFrameBytes, services, threadPrefix, ConnectionLimits.DEFAULTS);
    }

    /**
     * Binds {@code listen} (port 0 picks a free port) and starts accepting.
     *
     * @param nodeId        the id this server reports in HELLO replies
     * @param maxFrameBytes the largest frame of any service (each service may take less)
     * @param threadPrefix  names the threads: {@code PREFIX-loop-N}, {@code PREFIX-worker-N}, and the log lines
     */
    public FrameServer(InetSocketAddress listen, int nodeId, int maxFrameBytes, Map<Integer, FrameService> services,
                       String threadPrefix, ConnectionLimits limits) throws IOException {
        this(listen, nodeId, maxFrameBytes, services, threadPrefix, limits, null);
    }

    /**
     * ... that admits only peers that prove {@code secret} (null: every peer), see {@link ClusterSecret}.
     */
    public FrameServer(InetSocketAddress listen, int nodeId, int maxFrameBytes, Map<Integer, FrameService> services,
                       String threadPrefix, ConnectionLimits limits, ClusterSecret secret) throws IOException {
        this.secret = secret;
        if (maxFrameBytes < FrameHeader.LENGTH + 64) {
            throw new IllegalArgumentException("frame limit too small: " + maxFrameBytes);
        }
        this.services = Map.copyOf(services);
        this.maxFrameBytes = maxFrameBytes;
        this.nodeId = nodeId;
        this.limits = limits;
        this.name = threadPrefix;
        int largest = 0;
        for (FrameService s : this.services.values()) {
            largest = Math.max(largest, frameLimit(s));
        }
        this.budget = new ReceiveBudget(limits.budgetFor(largest));
        this.limitLog = new LimitLog(threadPrefix);
        AtomicInteger workerIds = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(limits.blockingWorkers(), limits.blockingWorkers(), 5, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, threadPrefix + "-worker-" + workerIds.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        workers.allowCoreThreadTimeOut(true);
        long shortest = limits.idleTimeoutMillis() > 0 ? Math.min(limits.helloTimeoutMillis(), limits.idleTimeoutMillis())
                : limits.helloTimeoutMillis();
        long tickNanos = Math.max(10, Math.min(1000, shortest / 4)) * 1_000_000L;
        this.server = ServerSocketChannel.open();
        this.loops = new FrameLoop[limits.eventLoops()];
        try {
            server.bind(listen, 1024);
            server.configureBlocking(false);
            for (int i = 0; i < loops.length; i++) {
                loops[i] = new FrameLoop(this, i, threadPrefix, tickNanos);
            }
            loops[0].acceptOn(server);
        } catch (IOException e) {
            server.close();
            workers.shutdownNow();
            throw new IOException("cannot listen on " + listen.getHostString() + ":" + listen.getPort() + ": "
                    + e.getMessage(), e);
        }
        for (FrameLoop l : loops) {
            l.start();
        }
        for (FrameService s : this.services.values()) {
            s.servedBy(this);
        }
    }

    /**
     * Returns once every event loop finished whatever frame it was handling when this was called:
     * a task posted to each loop runs between two frames of that loop, and this waits for all of
     * them (a loop that has terminated handles nothing any more). So a change a non-blocking
     * session reads on each frame, published before this call, is seen by every frame handled
     * after it returns, and no frame that missed it is still running. Frames of blocking services
     * run on workers and are not covered. Throws {@link java.util.concurrent.TimeoutException}
     * if some loop did not get round to it within {@code timeoutNanos}.
     */
    public void awaitLoops(long timeoutNanos) throws InterruptedException, java.util.concurrent.TimeoutException {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(loops.length);
        for (FrameLoop l : loops) {
            if (l.inLoop() || !l.post(done::countDown)) {
                done.countDown(); // the caller's own loop is between frames; a terminated loop handles none
            }
        }
        if (!done.await(timeoutNanos, TimeUnit.NANOSECONDS)) {
            throw new java.util.concurrent.TimeoutException(done.getCount() + " of " + loops.length + " event loops of "
                    + name + " did not pass a frame boundary within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
        }
    }

    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException("server socket closed", e);
        }
    }

    public ConnectionLimits limits() {
        return limits;
    }

    // ---------------------------------------------------------------- for the loops and connections

    int nodeId() {
        return nodeId;
    }

    /** The secret peers must prove, or null. */
    ClusterSecret secret() {
        return secret;
    }

    /** The TLS every connection must run, or null: plaintext. */
    ClusterTls tls() {
        return secret == null ? null : secret.tls();
    }

    void tlsRefused(SocketAddress peer, String detail) {
        tlsRefusals.incrementAndGet();
        limitLog.hit(LimitLog.Kind.TLS_REFUSED, peer, detail);
    }

    /** Connections refused because TLS could not be agreed (a plaintext peer of a TLS node and the reverse, an untrusted certificate). */
    public long tlsRefusals() {
        return tlsRefusals.get();
    }

    /** Whether every connection of this server runs TLS. */
    public boolean usesTls() {
        return tls() != null;
    }

    void authenticationRefused() {
        authenticationRefusals.incrementAndGet();
    }

    /** Connections refused because their peer did not prove the cluster secret (none, wrong, replayed). */
    public long authenticationRefusals() {
        return authenticationRefusals.get();
    }

    /** Whether this server admits only peers that prove a cluster secret. */
    public boolean authenticates() {
        return secret != null;
    }

    FrameService service(int id) {
        return services.get(id);
    }

    /** The largest frame a connection of {@code s} takes after HELLO. */
    int frameLimit(FrameService s) {
        return Math.max(limits.helloBufferBytes(), Math.min(maxFrameBytes, s.maxFrameBytes()));
    }

    String offered() {
        StringBuilder b = new StringBuilder();
        for (int id : new TreeMap<>(services).keySet()) {
            b.append(b.length() == 0 ? "" : ", ").append(HelloFrame.serviceName(id));
        }
        return b.toString();
    }

    ThreadPoolExecutor workers() {
        return workers;
    }

    ReceiveBudget budget() {
        return budget;
    }

    void accepted(SocketChannel ch) {
        connectionsAccepted.incrementAndGet();
        if (closed) {
            closeQuietly(ch);
            return;
        }
        if (open.incrementAndGet() > limits.maxConnections()) {
            open.decrementAndGet();
            refuse(ch);
            return;
        }
        try {
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            if (limits.keepAliveSeconds() > 0) {
                keepAlive(ch, limits.keepAliveSeconds());
            }
        } catch (IOException e) {
            open.decrementAndGet();
            closeQuietly(ch);
            return;
        }
        FrameLoop target = loops[nextLoop];
        nextLoop = (nextLoop + 1) % loops.length;
        if (target.inLoop()) {
            target.adopt(ch);
        } else if (!target.post(() -> target.adopt(ch))) {
            open.decrementAndGet();
            closeQuietly(ch);
        }
    }

    private static void keepAlive(SocketChannel ch, int idleSeconds) throws IOException {
        setIfSupported(ch, jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE, idleSeconds);
        setIfSupported(ch, jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL, 10);
        setIfSupported(ch, jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT, 6);
    }

    private static <T> void setIfSupported(SocketChannel ch, SocketOption<T> option, T value) throws IOException {
        if (ch.supportedOptions().contains(option)) {
            ch.setOption(option, value);
        }
    }

    /** Over the connection limit: an error reply and a close, without registering the connection anywhere. */
    private void refuse(SocketChannel ch) {
        SocketAddress peer = null;
        String message = "this node has " + limits.maxConnections() + " connections open, its limit; try again later";
        try {
            peer = ch.getRemoteAddress();
            ch.configureBlocking(false);
            FrameWriter w = new FrameWriter(FrameHeader.LENGTH + 128);
            w.error(0, ErrorCode.UNAVAILABLE, message);
            ch.write(w.byteBuffer());
            ch.read(ByteBuffer.allocate(512)); // what the peer already sent, so the close is a FIN, not a reset
        } catch (IOException ignored) {
            // refusing anyway
        }
        errorReplies.incrementAndGet();
        limitLog.hit(LimitLog.Kind.REFUSED_OVER_LIMIT, peer, message);
        closeQuietly(ch);
    }

    void acceptFailed(IOException e) {
        internalError("accepting a connection failed", e);
    }

    void connectionClosed() {
        open.decrementAndGet();
    }

    void frameServed() {
        framesServed.incrementAndGet();
    }

    void errorReply() {
        errorReplies.incrementAndGet();
    }

    void limitHit(LimitLog.Kind kind, SocketAddress peer, String detail) {
        limitLog.hit(kind, peer, detail);
    }

    void receiveBytes(long delta) {
        long now = receiveBytes.addAndGet(delta);
        long peak;
        while (now > (peak = peakReceiveBytes.get()) && !peakReceiveBytes.compareAndSet(peak, now)) {
            // retry: another connection moved the peak
        }
    }

    void sendBytes(long delta) {
        if (delta != 0) {
            sendBytes.addAndGet(delta);
        }
    }

    void internalError(String what, Throwable e) {
        if (closed) {
            return;
        }
        internalErrors.incrementAndGet();
        System.err.println(name + ": " + what + ": " + e);
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    // ---------------------------------------------------------------- counters

    public long framesServed() {
        return framesServed.get();
    }

    public long errorReplies() {
        return errorReplies.get();
    }

    /** Connections dropped after an unexpected exception: zero unless there is a bug. */
    public long internalErrors() {
        return internalErrors.get();
    }

    public long connectionsAccepted() {
        return connectionsAccepted.get();
    }

    public int openConnections() {
        return Math.max(0, open.get());
    }

    /** Every counter, limit hit, and the server's own accounting of buffer bytes and threads. */
    public FrameServerStats stats() {
        return new FrameServerStats(framesServed.get(), errorReplies.get(), internalErrors.get(), connectionsAccepted.get(),
                openConnections(), limitLog.count(LimitLog.Kind.REFUSED_OVER_LIMIT), limitLog.count(LimitLog.Kind.HELLO_TOO_LARGE),
                limitLog.count(LimitLog.Kind.HELLO_TIMEOUT), limitLog.count(LimitLog.Kind.IDLE_TIMEOUT),
                limitLog.count(LimitLog.Kind.FRAME_TOO_LARGE), limitLog.count(LimitLog.Kind.BUDGET_WAIT), receiveBytes.get(),
                peakReceiveBytes.get(), budget.capacity(), budget.reserved(), sendBytes.get(), loops.length,
                workers.getPoolSize(), workers.getLargestPoolSize());
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Stops accepting, flushes what each connection has queued (best effort) and closes every
     * connection (sessions hear {@code closed()}), stops the loops and interrupts blocking workers.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (FrameLoop l : loops) {
            l.stop();
        }
        try {
            for (FrameLoop l : loops) {
                l.join(2000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.shutdownNow();
        try {
            workers.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** For log lines: host:port. */
    public static String describe(SocketAddress a) {
        if (a instanceof InetSocketAddress i) {
            return HostPort.format(i);
        }
        return String.valueOf(a);
    }
}
