package io.dmtree.core.wire;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One connection of a {@link FrameServer}: its receive buffer, its session and its pending
 * replies, driven by the connection's {@link FrameLoop}.
 *
 * <p><b>Receive buffer.</b> Bytes {@code [start, receive.position())} are received and not yet
 * handled; the frame at {@code start} is handled once it is whole. Before HELLO the buffer is
 * {@link ConnectionLimits#helloBufferBytes()} and so is the frame limit (also while the client's
 * proof of the cluster secret is awaited: no session opens before it); after HELLO it is the
 * session buffer ({@code baseBytes}) and the frame limit is the service's. A frame larger than the
 * buffer first reserves its whole excess over {@code baseBytes} from the {@link ReceiveBudget}
 * (or waits for it, not reading), then the buffer grows by doubling as its bytes arrive, so memory
 * follows the bytes received, never the length announced. Once no large frame is pending the
 * buffer shrinks back to {@code baseBytes} and the reservation is released. Invariant:
 * {@code receive.capacity() <= baseBytes + reserved}.
 *
 * <p><b>Order and progress.</b> At most one request is in progress: handled inline on the loop
 * (non-blocking services), handed to a blocking worker ({@code WORKER}: the loop then neither
 * reads nor moves the buffer, since the worker reads the frame in place), or parked
 * ({@code PARKED}: its reply comes later through {@link PendingReply}; the loop keeps reading into
 * free space only, to notice a peer that hangs up). No later frame is handled before the one in
 * progress has its reply queued, so replies leave in request order.
 *
 * <p><b>Replies.</b> A reply stays in the {@link FrameWriter} until the next frame needs the
 * writer; then it is copied into {@code out} (replies batched behind it) or, when it does not fit,
 * written at once. After a burst of frames one gathering write sends {@code out} and the writer's
 * frame together. A write the socket does not take whole stops reading until it drains, which is
 * the connection's back-pressure.
 *
 * <p><b>TLS.</b> When the server runs TLS ({@link ClusterTls}) every read and write goes through the
 * connection's {@link TlsSession}, whose handshake the first reads drive; HELLO waits behind it
 * (the HELLO timeout covers both). Ciphertext the session has taken but not yet sent counts as a
 * write the socket did not take (back-pressure as above), and plaintext or ciphertext the session
 * holds after the socket is drained is read by a task this connection posts to its loop, since no
 * readiness event will come for it. A peer whose TLS does not match is refused: a plaintext dmtree
 * peer gets a plaintext error reply saying this node wants TLS; a plaintext node answers a peer that
 * opens with a TLS record likewise. Without TLS none of this runs: {@code tls} is null and the
 * socket calls are the plain ones.
 */
final class FrameConnection implements SessionContext {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int HELLO = 0;
    private static final int OPEN = 1;
    private static final int CLOSED = 2;
    /** HELLO answered with the server's proof; the client's proof (AUTH) comes next. */
    private static final int AUTH = 3;
    private static final int NONE = 0;
    private static final int WORKER = 1;
    private static final int PARKED = 2;
    /** A writer that grew beyond this many times the session buffer is replaced after its reply leaves. */
    private static final int WRITER_SHRINK_FACTOR = 4;

    private final FrameServer server;
    private final FrameLoop loop;
    private final SocketChannel channel;
    /** Null without TLS. */
    private final TlsSession tls;
    private final Runnable readBuffered = this::readBuffered;
    private boolean readPosted;
    private final SocketAddress peer;
    private final long acceptedNanos;
    private final FrameReader reader = new FrameReader();
    private final UnsafeBuffer view = new UnsafeBuffer(new byte[0]);
    private final ByteBuffer[] gather = new ByteBuffer[2];
    private final AtomicBoolean sessionClosed = new AtomicBoolean();
    private final Runnable workerFrame = this::workerFrame;
    private final Runnable afterWorker = this::afterWorker;
    private SelectionKey key;
    int slot = -1;

    private int state = HELLO;
    private int inProgress = NONE;
    private FrameService.Session session;
    private boolean blocking;
    private int serviceId;
    private int helloComputeNode = HelloFrame.NO_COMPUTE_NODE;
    private FrameService authenticating;
    private byte[] expectedProof;
    private long helloEpoch;
    private int frameLimit;
    private int baseBytes;

    private ByteBuffer receive;
    private int start;
    private long reserved;
    private boolean awaitingBudget;
    private boolean budgetWaitCounted;
    private int frameLength;

    private FrameWriter writer;
    private ByteBuffer writerOut;
    private ByteBuffer out;
    private boolean blocked;
    private long accountedSendBytes;
    private int interest = -1;
    private long lastActivityNanos;

    /** Set by the thread running the session; read by the loop after the hand-back. */
    private boolean closeAfterReply;
    private Throwable sessionFailure;
    private boolean interrupted;
    private volatile boolean handling;
    private Parked parking;
    private Parked parked;

    FrameConnection(FrameServer server, FrameLoop loop, SocketChannel channel) {
        this.server = server;
        this.loop = loop;
        this.channel = channel;
        SocketAddress p;
        try {
            p = channel.getRemoteAddress();
        } catch (IOException e) {
            p = null;
        }
        this.peer = p;
        ClusterTls t = server.tls();
        this.tls = t == null ? null : TlsSession.server(channel, t, FrameServer.describe(p));
        this.acceptedNanos = System.nanoTime();
        this.lastActivityNanos = acceptedNanos;
        this.baseBytes = server.limits().helloBufferBytes();
        this.frameLimit = baseBytes;
        this.receive = allocateReceive(baseBytes);
        this.writer = new FrameWriter(FrameHeader.LENGTH + 64);
        accountSend();
    }

    void register(SelectionKey k) {
        this.key = k;
        interest = SelectionKey.OP_READ;
    }

    @Override
    public int computeNode() {
        return helloComputeNode;
    }

    @Override
    public long epoch() {
        return helloEpoch;
    }

    @Override
    public SocketAddress peer() {
        return peer;
    }

    // ---------------------------------------------------------------- reading and handling

    void onReadable() throws IOException {
        if (state == CLOSED || inProgress == WORKER) {
            return;
        }
        if (!receive.hasRemaining()) {
            updateInterest();
            return;
        }
        int n = tls == null ? channel.read(receive) : readTls();
        if (n < 0) {
            close();
            return;
        }
        if (n > 0) {
            processInput();
        } else if (tls != null) {
            flush(); // the handshake may have ciphertext to send
            updateInterest();
        }
    }

    /** Reads through TLS; a handshake that failed refuses the peer (-1). */
    private int readTls() throws IOException {
        try {
            return tls.read(receive);
        } catch (TlsException e) {
            if (state == CLOSED) {
                return -1;
            }
            server.tlsRefused(peer, e.getMessage());
            if (e.plaintextPeer()) {
                refusePlaintextPeer();
            } else {
                close();
            }
            return -1;
        }
    }

    /** A plaintext dmtree peer of this TLS node: an error reply it can read, then the close. */
    private void refusePlaintextPeer() {
        server.errorReply();
        FrameWriter w = new FrameWriter(FrameHeader.LENGTH + 256);
        w.error(0, ErrorCode.AUTHENTICATION, "node " + server.nodeId() + " speaks TLS only (" + ClusterTls.PROTOCOL
                + ") and this peer sent plaintext: give it the cluster's TLS key material (--tls KEYSTORE --tls-password FILE)");
        try {
            ByteBuffer b = w.byteBuffer();
            for (int i = 0; i < 16 && b.hasRemaining(); i++) {
                channel.write(b);
            }
        } catch (IOException ignored) {
            // closing anyway
        } finally {
            BufferUtil.free(w.buffer().byteBuffer());
        }
        closeGracefully();
    }

    /** Posted while the TLS session holds input no readiness event will announce. */
    private void readBuffered() {
        readPosted = false;
        try {
            onReadable();
        } catch (IOException e) {
            close();
        } catch (RuntimeException | Error e) {
            internalError(e);
        }
    }

    /** Handles every whole frame in the buffer (while nothing is in progress), then writes and re-arms. */
    private void processInput() {
        boolean incomplete = false;
        while (state != CLOSED && inProgress == NONE && !blocked && !awaitingBudget) {
            int available = receive.position() - start;
            if (available < FrameHeader.LENGTH) {
                incomplete = true;
                break;
            }
            int length = receive.getInt(start + FrameHeader.LENGTH_OFFSET);
            int version = receive.get(start + FrameHeader.VERSION_OFFSET) & 0xFF;
            if (state == HELLO && tls == null && receive.get(start) == 0x16 && receive.get(start + 1) == 0x03) {
                server.tlsRefused(peer, "a TLS handshake to a node without TLS");
                fatal(0, ErrorCode.AUTHENTICATION, "node " + server.nodeId() + " does not use TLS and this peer opened with "
                        + "a TLS handshake: start every member with the same TLS setting", null);
                return;
            }
            if (version != FrameHeader.VERSION) {
                fatal(0, ErrorCode.VERSION, "frame version " + version + " is not supported (this side speaks version "
                        + FrameHeader.VERSION + ")", null);
                return;
            }
            if (length < FrameHeader.LENGTH || length > frameLimit) {
                refuseLength(length);
                return;
            }
            if (available < length) {
                incomplete = true;
                frameLength = length;
                break;
            }
            if (!writerFree()) {
                break;
            }
            lastActivityNanos = System.nanoTime();
            reader.wrap(view, start, length);
            start += length;
            if (state == HELLO) {
                hello(length);
            } else if (state == AUTH) {
                auth();
            } else {
                handle();
            }
        }
        if (state == CLOSED) {
            return;
        }
        if (inProgress != WORKER) {
            if (start == receive.position()) {
                receive.clear();
                start = 0;
            }
            if (incomplete) {
                arrangeRoom();
            }
        }
        flush();
        updateInterest();
    }

    private void refuseLength(int length) {
        String limitName = state == HELLO || state == AUTH ? "the limit before HELLO" : "the limit of " + HelloFrame.serviceName(serviceId)
                + " connections";
        String message = "frame length " + Integer.toUnsignedString(length) + " outside [" + FrameHeader.LENGTH + ", "
                + frameLimit + "] (" + limitName + ")";
        if (length < FrameHeader.LENGTH) {
            fatal(0, ErrorCode.MALFORMED, message, null);
        } else {
            fatal(0, ErrorCode.TOO_LARGE, message,
                    state == HELLO || state == AUTH ? LimitLog.Kind.HELLO_TOO_LARGE : LimitLog.Kind.FRAME_TOO_LARGE);
        }
    }

    /**
     * Makes room for the rest of the partial frame at {@code start}: moves it to the front, then,
     * when the buffer is full and the frame longer, grows it within the budget (or waits for it);
     * once no large frame is pending, shrinks back to the session buffer.
     */
    private void arrangeRoom() {
        int available = receive.position() - start;
        int needed = available >= FrameHeader.LENGTH ? frameLength : FrameHeader.LENGTH;
        if (needed <= baseBytes && receive.capacity() > baseBytes) {
            resize(baseBytes);
            long r = reserved;
            reserved = 0;
            server.budget().release(r);
            return;
        }
        if (start > 0 && start + needed > receive.capacity()) {
            compact();
        }
        if (receive.hasRemaining() || needed <= receive.capacity()) {
            return;
        }
        long excess = (long) needed - baseBytes;
        if (excess > reserved) {
            if (!server.budget().tryReserve(excess - reserved)) {
                awaitingBudget = true;
                server.budget().await(this);
                if (!budgetWaitCounted) {
                    budgetWaitCounted = true;
                    server.limitHit(LimitLog.Kind.BUDGET_WAIT, peer, "a frame of " + needed + " bytes waits for "
                            + (excess - reserved) + " bytes of the receive budget of " + server.budget().capacity());
                }
                if (!server.budget().tryReserve(excess - reserved)) {
                    return;
                }
                awaitingBudget = false;
                server.budget().forget(this);
            }
            budgetWaitCounted = false;
            reserved = excess;
        }
        resize((int) Math.min(needed, Math.max(2L * receive.capacity(), 64 << 10)));
    }

    /** The budget has bytes again: retry on this connection's loop. */
    void budgetReleased() {
        loop.post(() -> {
            if (state != CLOSED && awaitingBudget) {
                awaitingBudget = false;
                arrangeRoom();
                processInput();
            }
        });
    }

    private void compact() {
        receive.flip().position(start);
        receive.compact();
        start = 0;
    }

    /** Replaces the receive buffer by one of {@code capacity} holding the unhandled bytes (the caller keeps the reservation right). */
    private void resize(int capacity) {
        int available = receive.position() - start;
        ByteBuffer b = allocateReceive(capacity);
        receive.flip().position(start);
        b.put(receive);
        freeReceive();
        receive = b;
        view.wrap(receive);
        start = 0;
        assert receive.position() == available;
    }

    private ByteBuffer allocateReceive(int capacity) {
        ByteBuffer b = ByteBuffer.allocateDirect(capacity).order(LE);
        view.wrap(b);
        server.receiveBytes(capacity);
        return b;
    }

    private void freeReceive() {
        if (receive != null) {
            server.receiveBytes(-receive.capacity());
            BufferUtil.free(receive);
            receive = null;
        }
    }

    private void hello(int length) {
        long correlationId = reader.correlationId();
        FrameService s;
        byte[] nonce = null;
        try {
            if (reader.type() != FrameHeader.TYPE_HELLO) {
                throw new MalformedFrameException(ErrorCode.STATE, "the first frame must be HELLO, not "
                        + FrameHeader.typeName(reader.type()), true);
            }
            int magic = reader.i32("magic");
            int service = reader.u8("service");
            reader.skip(3, "padding");
            if (reader.remaining() > 0) { // the incarnation section (HelloFrame)
                helloComputeNode = reader.i32("compute node");
                reader.skip(4, "padding");
                helloEpoch = reader.i64("epoch");
                if (helloComputeNode < HelloFrame.NO_COMPUTE_NODE || helloEpoch < 0
                        || (helloComputeNode == HelloFrame.NO_COMPUTE_NODE && helloEpoch != 0)) {
                    throw new MalformedFrameException(ErrorCode.MALFORMED, "HELLO names compute node " + helloComputeNode
                            + " at epoch " + helloEpoch + ": not an incarnation", true);
                }
            }
            if (reader.remaining() > 0) { // the client's nonce
                nonce = reader.bytes(ClusterSecret.NONCE_BYTES, "client nonce");
            }
            reader.end();
            if (magic != HelloFrame.MAGIC) {
                throw new MalformedFrameException(ErrorCode.MALFORMED, "HELLO has a wrong magic 0x"
                        + Integer.toHexString(magic) + ": not a dmtree peer", true);
            }
            s = server.service(service);
            serviceId = service;
            if (s == null) {
                throw new MalformedFrameException(ErrorCode.UNAVAILABLE, "this node does not offer the "
                        + HelloFrame.serviceName(service) + " service (it offers " + server.offered() + ")", true);
            }
            if (server.secret() != null && nonce == null) {
                server.authenticationRefused();
                throw new MalformedFrameException(ErrorCode.AUTHENTICATION, "node " + server.nodeId()
                        + " admits only members that prove the cluster secret, and this peer holds none (give it the "
                        + "secret file memory node 0 wrote: --secret FILE)", true);
            }
            s.admit(this);
        } catch (MalformedFrameException e) {
            fatal(correlationId, e.code(), e.getMessage(), null);
            return;
        }
        int limit = server.frameLimit(s); // from the session on; until then the HELLO limit holds
        ClusterSecret secret = server.secret();
        if (secret == null) {
            writer.begin(FrameHeader.TYPE_HELLO | FrameHeader.REPLY_BIT, 0, correlationId)
                    .i32(HelloFrame.MAGIC).i32(server.nodeId()).i32(limit).i32(0).finish();
            writerOut = writer.byteBuffer();
            open(s);
            return;
        }
        byte[] serverNonce = ClusterSecret.nonce();
        writer.begin(FrameHeader.TYPE_HELLO | FrameHeader.REPLY_BIT, 0, correlationId)
                .i32(HelloFrame.MAGIC).i32(server.nodeId()).i32(limit).i32(HelloFrame.FLAG_PROOF)
                .bytes(serverNonce).bytes(secret.serverProof(serviceId, nonce, serverNonce, server.nodeId())).finish();
        writerOut = writer.byteBuffer();
        expectedProof = secret.clientProof(serviceId, serverNonce, nonce, helloComputeNode, helloEpoch);
        authenticating = s;
        state = AUTH;
    }

    /** The frame after a proving HELLO reply: the client's proof, or the connection closes. */
    private void auth() {
        long correlationId = reader.correlationId();
        FrameService s = authenticating;
        byte[] expected = expectedProof;
        authenticating = null;
        expectedProof = null;
        try {
            if (reader.type() != FrameHeader.TYPE_AUTH) {
                throw new MalformedFrameException(ErrorCode.AUTHENTICATION, "prove the cluster secret (AUTH) before "
                        + FrameHeader.typeName(reader.type()), true);
            }
            byte[] proof = reader.bytes(ClusterSecret.PROOF_BYTES, "client proof");
            reader.end();
            if (!ClusterSecret.matches(expected, proof)) {
                throw new MalformedFrameException(ErrorCode.AUTHENTICATION, "the proof of the cluster secret is wrong "
                        + "(another cluster's secret, or a proof made for another connection)", true);
            }
        } catch (MalformedFrameException e) {
            server.authenticationRefused();
            fatal(correlationId, e.code(), e.getMessage(), null);
            return;
        }
        writer.begin(FrameHeader.TYPE_AUTH | FrameHeader.REPLY_BIT, 0, correlationId).finish();
        writerOut = writer.byteBuffer();
        open(s);
    }

    /** Opens the session of service {@code s} (its HELLO or AUTH reply is in the writer). */
    private void open(FrameService s) {
        frameLimit = server.frameLimit(s);
        try {
            session = s.open(this);
        } catch (RuntimeException e) {
            internalError(e);
            return;
        }
        blocking = s.sessionsMayBlock();
        state = OPEN;
        int base = Math.max(server.limits().helloBufferBytes(), Math.min(server.limits().sessionBufferBytes(), frameLimit));
        if (base != baseBytes) {
            baseBytes = base;
            resize(base);
        }
    }

    private void handle() {
        if (blocking) {
            inProgress = WORKER;
            try {
                server.workers().execute(workerFrame);
            } catch (RejectedExecutionException e) {
                inProgress = NONE;
                close();
            }
            return;
        }
        runSession();
        afterSession();
    }

    /** On a blocking worker: the session call, then the hand-back to the loop. */
    private void workerFrame() {
        runSession();
        handBack();
    }

    private void handBack() {
        if (!loop.post(afterWorker)) {
            afterWorker(); // the loop has terminated: nobody else touches this connection any more
        }
    }

    private void runSession() {
        writer.reset();
        parking = null;
        handling = true;
        try {
            session.handle(reader, writer);
            server.frameServed();
        } catch (MalformedFrameException e) {
            if (parking != null) {
                parking.cancel();
                parking = null;
            }
            writer.error(reader.correlationId(), e.code(), e.getMessage());
            server.errorReply();
            closeAfterReply = e.fatal();
        } catch (InterruptedException e) {
            interrupted = true; // the server is shutting down
        } catch (RuntimeException | Error e) {
            sessionFailure = e;
        } finally {
            handling = false;
        }
    }

    private void afterWorker() {
        inProgress = NONE;
        if (state == CLOSED) {
            if (parking != null) {
                parking.cancel();
                parking = null;
            }
            finishClose();
            return;
        }
        afterSession();
        processInput();
    }

    /** On the loop, after a session call or a reply builder: queue the reply, take the park, or drop on failure. */
    private void afterSession() {
        if (sessionFailure != null) {
            Throwable t = sessionFailure;
            sessionFailure = null;
            internalError(t);
            return;
        }
        if (interrupted) {
            close();
            return;
        }
        Parked p = parking;
        parking = null;
        if (p != null) {
            if (writer.length() > 0) {
                p.cancel();
                internalError(new IllegalStateException("a session parked a request and also wrote a reply"));
                return;
            }
            parked = p;
            inProgress = PARKED;
            if (p.completed()) {
                completeParked(false);
                return;
            }
        }
        if (writer.length() > 0) {
            writerOut = writer.byteBuffer();
        }
        accountSend();
        if (closeAfterReply) {
            closeAfterReply = false;
            flush();
            closeGracefully();
        }
    }

    @Override
    public PendingReply park() {
        if (!handling || parking != null) {
            throw new IllegalStateException(parking != null ? "this request is already parked"
                    : "park() is for the request being handled");
        }
        parking = new Parked(reader.correlationId());
        return parking;
    }

    /** On the loop: a parked request's reply came. */
    private void parkedCompleted(Parked p) {
        if (state == CLOSED || parked != p || inProgress != PARKED) {
            return; // closed, or the worker that parked has not handed back yet (it will see the completion)
        }
        completeParked(true);
    }

    /**
     * Builds the reply of the parked request: on a worker for blocking services, else here; then,
     * when {@code resume}, goes on with the buffered frames (a caller inside {@link #processInput}
     * passes false and its loop goes on).
     */
    private void completeParked(boolean resume) {
        Parked p = parked;
        parked = null;
        PendingReply.ReplyBuilder b = p.result.get();
        if (blocking) {
            inProgress = WORKER;
            try {
                server.workers().execute(() -> {
                    build(b, p.correlationId);
                    handBack();
                });
            } catch (RejectedExecutionException e) {
                inProgress = NONE;
                close();
            }
            return;
        }
        inProgress = NONE;
        build(b, p.correlationId);
        afterSession();
        if (resume) {
            processInput();
        }
    }

    private void build(PendingReply.ReplyBuilder b, long correlationId) {
        writer.reset();
        try {
            b.write(writer);
        } catch (MalformedFrameException e) {
            writer.error(correlationId, e.code(), e.getMessage());
            server.errorReply();
            closeAfterReply = e.fatal();
        } catch (RuntimeException | Error e) {
            sessionFailure = e;
        }
    }

    private final class Parked implements PendingReply {
        private final long correlationId;
        private final AtomicReference<ReplyBuilder> result = new AtomicReference<>();

        Parked(long correlationId) {
            this.correlationId = correlationId;
        }

        @Override
        public boolean complete(ReplyBuilder builder) {
            if (builder == null) {
                throw new NullPointerException("builder");
            }
            if (!result.compareAndSet(null, builder)) {
                return false;
            }
            return loop.post(() -> parkedCompleted(this));
        }

        @Override
        public long correlationId() {
            return correlationId;
        }

        void cancel() {
            result.compareAndSet(null, CANCELLED);
        }

        boolean completed() {
            ReplyBuilder b = result.get();
            return b != null && b != CANCELLED;
        }
    }

    private static final PendingReply.ReplyBuilder CANCELLED = w -> {
        throw new IllegalStateException("cancelled");
    };

    // ---------------------------------------------------------------- writing

    /** Frees the writer for the next frame: its reply joins {@code out}, or is written now; false while blocked or once closed. */
    private boolean writerFree() {
        if (state == CLOSED) {
            return false;
        }
        if (writerOut == null) {
            return true;
        }
        if (blocked) {
            return false;
        }
        int n = writerOut.remaining();
        if (out == null && n <= baseBytes) {
            out = ByteBuffer.allocateDirect(Math.max(baseBytes, 4096));
            accountSend();
        }
        if (out != null && out.remaining() >= n) {
            out.put(writerOut);
            writerOut = null;
            return true;
        }
        flush();
        return state != CLOSED && writerOut == null;
    }

    void onWritable() throws IOException {
        if (state == CLOSED) {
            return;
        }
        flush();
        if (tls != null && tls.handshaking() && !blocked && state != CLOSED) {
            onReadable(); // the handshake's flight left: it goes on (and may have more to send)
            return;
        }
        if (state != CLOSED && !blocked && inProgress != WORKER) {
            processInput();
        } else {
            updateInterest();
        }
    }

    private void flush() {
        if (state == CLOSED) {
            return;
        }
        boolean outPending = out != null && out.position() > 0;
        if (!outPending && writerOut == null) {
            try {
                blocked = tls != null && tls.wantsWrite() && !tls.flush();
            } catch (IOException e) {
                close();
            }
            return;
        }
        int n = 0;
        if (outPending) {
            out.flip();
            gather[n++] = out;
        }
        if (writerOut != null) {
            gather[n++] = writerOut;
        }
        long written;
        try {
            if (tls != null) {
                written = tls.write(gather, 0, n);
            } else {
                written = n == 1 ? channel.write(gather[0]) : channel.write(gather, 0, n);
            }
        } catch (IOException e) {
            if (outPending) {
                out.clear();
            }
            writerOut = null;
            close();
            return;
        }
        if (written > 0) {
            lastActivityNanos = System.nanoTime();
        }
        if (outPending) {
            if (out.hasRemaining()) {
                out.compact();
            } else {
                out.clear();
            }
        }
        if (writerOut != null && !writerOut.hasRemaining()) {
            writerOut = null;
            shrinkWriter();
        }
        blocked = (out != null && out.position() > 0) || writerOut != null || (tls != null && tls.wantsWrite());
    }

    private void shrinkWriter() {
        if (writer.buffer().capacity() > WRITER_SHRINK_FACTOR * Math.max(baseBytes, 4096) && inProgress != WORKER) {
            BufferUtil.free(writer.buffer().byteBuffer());
            writer = new FrameWriter(FrameHeader.LENGTH + 64);
            accountSend();
        }
    }

    private void accountSend() {
        long now = (writer == null ? 0 : writer.buffer().capacity()) + (out == null ? 0 : out.capacity());
        server.sendBytes(now - accountedSendBytes);
        accountedSendBytes = now;
    }

    private void updateInterest() {
        if (state == CLOSED || key == null) {
            return;
        }
        int ops;
        if (blocked) {
            ops = SelectionKey.OP_WRITE;
        } else if (inProgress == WORKER || awaitingBudget || !receive.hasRemaining()) {
            ops = 0;
        } else {
            ops = SelectionKey.OP_READ;
        }
        if (ops != interest) {
            interest = ops;
            key.interestOps(ops);
        }
        if (tls != null && ops == SelectionKey.OP_READ && !readPosted && tls.hasBufferedInput()) {
            readPosted = loop.post(readBuffered);
        }
    }

    // ---------------------------------------------------------------- limits and closing

    void tick(long now) {
        if (state == CLOSED) {
            return;
        }
        ConnectionLimits l = server.limits();
        if (state == HELLO || state == AUTH) {
            if (now - acceptedNanos > l.helloTimeoutMillis() * 1_000_000L) {
                fatal(0, ErrorCode.TIMEOUT, (state == HELLO ? "no HELLO" : "no proof of the cluster secret") + " within "
                        + l.helloTimeoutMillis() + " ms",
                        LimitLog.Kind.HELLO_TIMEOUT);
            }
            return;
        }
        // a session that stays open when idle is spared only between frames: a frame begun and never
        // finished is a stalled peer, whatever the service
        boolean betweenFrames = receive.position() == start;
        if (l.idleTimeoutMillis() > 0 && inProgress == NONE && now - lastActivityNanos > l.idleTimeoutMillis() * 1_000_000L
                && !(betweenFrames && session.staysOpenWhenIdle())) {
            fatal(0, ErrorCode.TIMEOUT, "no frame within the idle timeout of " + l.idleTimeoutMillis() + " ms",
                    LimitLog.Kind.IDLE_TIMEOUT);
        }
    }

    /** Sends an error reply (best effort) and closes: the stream cannot go on, or a limit was hit. */
    private void fatal(long correlationId, ErrorCode code, String message, LimitLog.Kind limit) {
        server.errorReply();
        if (limit != null) {
            server.limitHit(limit, peer, message);
        }
        if (inProgress != WORKER && writerFree()) {
            writer.error(correlationId, code, message);
            writerOut = writer.byteBuffer();
            flush();
        }
        closeGracefully();
    }

    /** Reads what the peer already sent (so the close is a FIN, not a reset that could drop our reply), then closes. */
    private void closeGracefully() {
        if (state == CLOSED) {
            return;
        }
        if (inProgress != WORKER && receive != null) {
            try {
                for (int i = 0; i < 4; i++) { // at most 4 x 16 KiB: a peer that keeps sending gets its reset
                    receive.clear().limit(Math.min(receive.capacity(), 16 << 10));
                    if (channel.read(receive) <= 0) {
                        break;
                    }
                }
                receive.clear();
                start = 0;
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        close();
    }

    void internalError(Throwable e) {
        server.internalError("connection from " + FrameServer.describe(peer) + " dropped after an internal error", e);
        close();
    }

    /** Closes at once; the session hears {@code closed()} once no call of it is in progress. */
    void close() {
        if (state == CLOSED) {
            return;
        }
        state = CLOSED;
        if (key != null) {
            key.cancel();
        }
        if (tls != null) {
            tls.closeQuietly();
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        loop.remove(this);
        if (parking != null && inProgress != WORKER) {
            parking.cancel();
        }
        if (parked != null) {
            parked.cancel();
            parked = null;
        }
        if (inProgress != WORKER) {
            inProgress = NONE;
            finishClose();
        }
    }

    /** The server stops: flush what is queued (best effort), then close. */
    void shutdown() {
        if (state != CLOSED && inProgress != WORKER) {
            flush();
        }
        close();
    }

    private void finishClose() {
        if (awaitingBudget) {
            awaitingBudget = false;
            server.budget().forget(this);
        }
        freeReceive();
        if (reserved > 0) {
            long r = reserved;
            reserved = 0;
            server.budget().release(r);
        }
        if (out != null) {
            BufferUtil.free(out);
            out = null;
        }
        if (writer != null) {
            BufferUtil.free(writer.buffer().byteBuffer());
            writer = null;
        }
        if (tls != null) {
            tls.free();
        }
        accountSend();
        server.connectionClosed(); // after the buffers: an open connection's bytes are always counted while it is open
        FrameService.Session s = session;
        if (s == null || !sessionClosed.compareAndSet(false, true)) {
            return;
        }
        Runnable closed = () -> {
            try {
                s.closed();
            } catch (RuntimeException e) {
                server.internalError("a session of " + FrameServer.describe(peer) + " failed to close", e);
            }
        };
        if (blocking) {
            try {
                server.workers().execute(closed);
                return;
            } catch (RejectedExecutionException e) {
                // the pool is shut down: close here
            }
        }
        closed.run();
    }
}
