package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.memory.AccessDeniedException;
import io.dmtree.core.memory.FencedException;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.wire.ClientHandshake;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ErrorCode;
import io.dmtree.core.wire.ErrorReply;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.core.wire.TlsSession;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * One connection from a compute node to a memory node's tcp verb service, shared by any number of
 * caller threads, with no thread of its own: the callers write the requests and read the replies.
 *
 * <h2>Structure</h2>
 * <ul>
 *   <li><b>Submission stack</b> ({@code submitted}): a lock-free stack of {@link PendingCall}s whose
 *   frames are encoded and wait to go out; any thread pushes with one compare-and-set. It becomes
 *   the {@code CLOSED} sentinel when the connection fails, after which nothing can be pushed.</li>
 *   <li><b>Ring</b>: the calls in flight, in wire order. Sequence numbers count admitted calls:
 *   {@code answered <= flushed <= sent}; calls {@code [answered, flushed)} are on the wire,
 *   {@code [flushed, sent)} are admitted and not yet wholly written. Call {@code i} has correlation
 *   id {@code i + 1}. At most {@code maxOutstanding} calls are in the ring; the rest wait in the
 *   writer's admission queue (the flow control).</li>
 *   <li><b>Writer role</b> ({@code writing}): a try-lock that is never waited for. Its holder moves
 *   the submission stack into the admission queue, admits calls to the ring (stamping their ids) and
 *   writes every admitted, unwritten frame with one gathering write on the non-blocking socket.</li>
 *   <li><b>Reader role</b> ({@code reading}): a try-lock taken by a waiting caller. Its holder (the
 *   leader) reads whatever the socket holds, cuts it into frames ({@link FrameAssembler}) and
 *   completes the ring's oldest call with each reply, copying read data and atomic results straight
 *   into that call's batch.</li>
 * </ul>
 *
 * <h2>Sending: doorbell batching</h2>
 * {@link #send} pushes the call and then tries the writer role. A thread that finds the writer busy
 * returns at once: the holder re-checks the stack after it releases the role and writes what was
 * pushed meanwhile, so frames of concurrent threads leave in one {@code writev}. A write that does
 * not fit the socket leaves the rest of the frames admitted and unwritten and sets
 * {@code socketFull}; the leader then also waits for the socket to become writable and writes them.
 * The writer never blocks, so a full socket can never hold up the reading of the replies that
 * would drain it.
 *
 * <h2>Waiting: leader and followers</h2>
 * {@link #await} spins briefly, then parks; whenever the reader role is free it takes it and leads.
 * The leader reads until its own call is done, completing other calls in FIFO order as their replies
 * arrive (the memory node answers a connection's frames in order) and unparking their owners; then it
 * releases the role and unparks the owner of the oldest in-flight call that is parked, which becomes
 * the next leader. A caller whose reply comes while it leads pays no hand-off at all; an idle
 * connection has no thread; a leader waits in {@link Selector#select} and followers are parked, so
 * nothing burns a core while a reply is on its way.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>Wire order is ring order is correlation id order: only the writer role admits and writes,
 *   in sequence, so the {@code k}-th reply on the stream answers ring call {@code k - 1}. A reply
 *   whose id is not {@code answered + 1} breaks the stream.</li>
 *   <li>Each role's state is touched by its holder only: the writer's {@code sent}, {@code flushed},
 *   admission queue and the frames' write positions; the reader's {@code answered} and receive
 *   buffer. Roles are taken by compare-and-set and released by a volatile write, which orders each
 *   holder's work before the next holder's.</li>
 *   <li>A reply lands only in the call still waiting for that id (the stamp of {@link PendingCall}),
 *   and the writer reads a frame's bytes only before the frame is wholly written, using lengths it
 *   copied itself; so once its call is done, a thread may reuse its batch and encoder at once.</li>
 *   <li>No lost wake-up. Three pairs each write their own volatile and then read the other's: an
 *   owner sets {@code parked} and then re-reads its call's state, {@code reading} and
 *   {@code failure}; a completer or failer sets the state and then reads {@code parked}; a leader
 *   releasing the role, and a writer admitting calls while no leader exists, read {@code parked} of
 *   the in-flight calls after they published the release or the admission.</li>
 *   <li>No lost work: a thread that finds a role taken leaves its work to the holder, and every
 *   holder re-checks after it released the role: a writer for calls pushed meanwhile and for room
 *   that replies freed meanwhile (a writer that stopped at a full ring goes round again when the
 *   ring has room after its release), a writer that stopped at a full socket wakes the leader's
 *   {@code select} so that it watches for writability.</li>
 *   <li>Progress: while a call is admitted and its owner waits here, either a leader exists or the
 *   owner is unparked to become one (4); the leader pushes unwritten frames when the socket allows,
 *   admits queued calls as replies free the ring, and does both once more before it leaves. The
 *   owner of a call still waiting for room parks for at most a millisecond at a time, since the
 *   threads that could free room (owners of the ring's calls) may be busy on other connections and
 *   the leader that frees it does not know who waits: it re-checks the reader role and leads itself
 *   when it is free.</li>
 * </ol>
 *
 * <h2>Failure</h2>
 * Any break of the stream (end of file, reset, a reply that does not match the oldest request, a bad
 * frame, no reply within the timeout, {@link #close()}) fails the connection for good: the first
 * failer records the cause, closes the socket, takes the writer role forever (waiting out a write
 * in progress, which never blocks), closes the submission stack and fails every queued and in-flight
 * call; every caller then throws {@link RemoteAccessException} naming the memory node and the cause,
 * and so does every later call. A caller that sees the failure first waits for this clean-up to end
 * before it returns, so no writer can still be reading its frame when it reuses its encoder. Every wait is bounded by the caller's deadline: a parked follower
 * wakes at it, a leader's {@code select} ends at it, and whoever reaches it first fails the
 * connection. A refused frame (bad address, misaligned atomic) fails only its own call.
 *
 * <h2>TLS</h2>
 * With a secret that carries {@link io.dmtree.core.wire.ClusterTls} key material the connection runs
 * TLS: the handshake completes in the constructor, before HELLO; then the writer role wraps the
 * gathered frames through the {@link TlsSession} (several frames in one record) and the leader
 * unwraps into the assembler. Two rules keep the roles above intact: ciphertext the session took
 * but could not send counts as a full socket (the leader watches writability and the writer
 * finishes it), and input the session holds after the socket is drained makes the leader read
 * again before it selects. A wrap the reader must make (a TLS 1.3 KeyUpdate) takes the session's
 * own lock, which a writer holds only for a non-blocking wrap and write. Without TLS {@code tls}
 * is null and the plain socket calls run, as before.
 *
 * <p>A verb does not respond to interrupts: its wait is bounded by the timeout instead, and the
 * interrupt status is restored when it returns (an interrupted thread's {@code select} and
 * {@code park} return at once, so it would spin instead of wait).
 */
final class VerbConnection implements AutoCloseable {
    /** The submission stack once the connection failed. */
    private static final PendingCall CLOSED = new PendingCall(-1);
    private static final Consumer<SelectionKey> IGNORE_KEYS = key -> {
    };
    private static final int WRITTEN = 0;
    private static final int SOCKET_FULL = 1;
    private static final int RING_FULL = 2;
    private static final int GATHER_MAX = 256;
    /** How long an owner whose call waits for room in the ring parks before it looks at the reader role again. */
    private static final long ROOM_RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final VarHandle SUBMITTED;
    private static final VarHandle WRITING;
    private static final VarHandle READING;
    private static final VarHandle FAILURE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            SUBMITTED = l.findVarHandle(VerbConnection.class, "submitted", PendingCall.class);
            WRITING = l.findVarHandle(VerbConnection.class, "writing", int.class);
            READING = l.findVarHandle(VerbConnection.class, "reading", int.class);
            FAILURE = l.findVarHandle(VerbConnection.class, "failure", RemoteAccessException.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int memoryNode;
    private final int computeNode;
    private final long epoch;
    private final InetSocketAddress address;
    private final SocketChannel channel;
    /** Null without TLS. */
    private final TlsSession tls;
    /** What the reader reads from: {@code tls}, or the channel. */
    private final java.nio.channels.ReadableByteChannel input;
    private final Selector selector;
    private final SelectionKey key;
    private final int maxFrameBytes;
    private final long timeoutNanos;
    private final int spins;

    private volatile PendingCall submitted;
    private volatile int writing;
    private volatile int reading;
    private volatile RemoteAccessException failure;
    /** Set (once, by the reader role) when the memory node refused a verb as fenced. */
    private volatile FencedException fencedBy;
    private volatile boolean cleanedUp;

    private final PendingCall[] ring;
    private final int mask;
    /** Calls admitted; written by the writer role. */
    private volatile long sent;
    /** Calls whose frame is wholly written; written by the writer role. */
    private volatile long flushed;
    /** Calls whose reply was consumed; written by the reader role. */
    private volatile long answered;

    // owned by the writer role
    private PendingCall queueHead;
    private PendingCall queueTail;
    private volatile boolean queued;
    /** The last write did not take every admitted frame: the socket is full, the leader watches for room. */
    private volatile boolean socketFull;
    private int headWritten;
    private final ByteBuffer[] gather;
    private final int[] gatherLengths;
    private long socketWrites;
    private long writesCutShort;
    private long framesWritten;

    // owned by the reader role
    private final FrameAssembler assembler;
    private final FrameReader reply = new FrameReader();
    private int interest = SelectionKey.OP_READ;
    private long socketReads;
    private long repliesRead;
    private long repliesForOthers;

    VerbConnection(int memoryNode, InetSocketAddress address, int maxOutstanding, int maxFrameBytes, int timeoutMillis,
                   int spins) throws IOException {
        this(memoryNode, address, maxOutstanding, maxFrameBytes, timeoutMillis, spins, HelloFrame.NO_COMPUTE_NODE, 0, null);
    }

    /**
     * A connection of incarnation {@code (computeNode, epoch)} (compute node -1, epoch 0: a cluster
     * without membership); its HELLO names them, and the memory node refuses them once fenced. With
     * a {@code secret} the handshake proves it and checks the memory node's proof ({@link ClientHandshake}).
     */
    VerbConnection(int memoryNode, InetSocketAddress address, int maxOutstanding, int maxFrameBytes, int timeoutMillis,
                   int spins, int computeNode, long epoch, ClusterSecret secret) throws IOException {
        this.memoryNode = memoryNode;
        this.computeNode = computeNode;
        this.epoch = epoch;
        this.address = address;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        this.spins = spins;
        this.ring = new PendingCall[maxOutstanding <= 1 ? 1 : Integer.highestOneBit(maxOutstanding - 1) << 1];
        this.mask = ring.length - 1;
        this.gather = new ByteBuffer[Math.min(ring.length, GATHER_MAX)];
        this.gatherLengths = new int[gather.length];
        this.assembler = new FrameAssembler(maxFrameBytes);
        SocketChannel ch = SocketChannel.open();
        Selector sel = null;
        TlsSession t = null;
        try {
            ch.socket().connect(address, timeoutMillis);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            if (secret != null && secret.tls() != null) {
                t = TlsSession.client(ch, secret.tls(), address.getHostString(), address.getPort());
                t.handshake(timeoutMillis);
            }
            this.tls = t;
            this.input = t == null ? ch : t;
            ClientHandshake handshake = new ClientHandshake(secret, HelloFrame.SERVICE_VERBS, computeNode, epoch,
                    address.getHostString() + ":" + address.getPort());
            FrameWriter hello = new FrameWriter(128);
            ByteBuffer out = handshake.writeHello(hello).byteBuffer();
            while (out.hasRemaining()) {
                if (t == null) {
                    ch.write(out);
                } else {
                    t.write(out);
                }
            }
            ch.configureBlocking(false);
            sel = Selector.open();
            this.channel = ch;
            this.selector = sel;
            this.key = ch.register(sel, SelectionKey.OP_READ);
            this.maxFrameBytes = Math.min(maxFrameBytes, handshake(handshake, hello, timeoutMillis));
        } catch (IOException | RuntimeException e) {
            ch.close();
            if (sel != null) {
                sel.close();
            }
            throw e;
        }
    }

    /**
     * Reads the HELLO reply and, when the memory node proved the cluster secret, sends this side's
     * proof and reads its reply; returns the largest frame the memory node accepts.
     */
    private int handshake(ClientHandshake h, FrameWriter w, int timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        String where = address.getHostString() + ":" + address.getPort();
        try {
            boolean auth;
            try {
                auth = h.helloReply(nextHandshakeFrame(deadline, timeoutMillis, where));
            } catch (ClientHandshake.RefusedException e) {
                if (e.code() == ErrorCode.FENCED) {
                    throw new FencedException(computeNode, epoch, "memory node " + memoryNode + " at " + where
                            + " refused its verb connection: " + e.getMessage());
                }
                throw e;
            }
            if (h.nodeId() != memoryNode) {
                throw new IOException("the memory node at " + where + " has id " + h.nodeId() + ", but it was listed as memory node "
                        + memoryNode);
            }
            if (auth) {
                ByteBuffer out = h.writeAuth(w).byteBuffer();
                long spinsLeft = 1_000_000;
                while ((out.hasRemaining() || (tls != null && !tls.flush())) && spinsLeft-- > 0) {
                    if (tls == null) {
                        channel.write(out); // a 48-byte frame on a fresh connection: the socket takes it
                    } else {
                        tls.write(out);
                    }
                }
                if (out.hasRemaining()) {
                    throw new IOException(where + " took no AUTH frame");
                }
                h.authReply(nextHandshakeFrame(deadline, timeoutMillis, where));
            }
            if (assembler.next()) {
                throw new IOException(where + " sent a frame after its HELLO reply before any request");
            }
            return h.maxFrameBytes();
        } catch (MalformedFrameException e) {
            throw new IOException(where + " answered HELLO with a bad frame: " + e.getMessage(), e);
        }
    }

    private FrameReader nextHandshakeFrame(long deadline, int timeoutMillis, String where)
            throws IOException, MalformedFrameException {
        while (!assembler.next()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new java.net.SocketTimeoutException(where + " sent no HELLO reply within " + timeoutMillis + " ms");
            }
            if (tls == null || !tls.hasBufferedInput()) {
                selector.select(IGNORE_KEYS, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
            if (assembler.readFrom(input) < 0) {
                throw new IOException(where + " closed the connection before its HELLO reply");
            }
        }
        return reply.wrap(assembler.frame(), assembler.frameOffset(), assembler.frameLength());
    }

    /** The largest frame either side accepts. */
    int maxFrameBytes() {
        return maxFrameBytes;
    }

    // ---------------------------------------------------------------- sending

    /** Submits {@code call}, whose frame is encoded, and writes it unless a writer is at work; then {@link #await} it. */
    void send(PendingCall call) {
        RemoteAccessException f = failure;
        if (f != null) {
            throw again(f);
        }
        FencedException fe = fencedBy;
        if (fe != null) {
            throw fe;
        }
        call.prepare(Thread.currentThread());
        PendingCall head;
        do {
            head = submitted;
            if (head == CLOSED) {
                call.fail(failure);
                throw again(failure);
            }
            call.next = head;
        } while (!SUBMITTED.compareAndSet(this, head, call));
        flush();
    }

    private boolean hasWriterWork() {
        PendingCall s = submitted;
        return (s != null && s != CLOSED) || queued || flushed < sent || (tls != null && tls.wantsWrite());
    }

    /**
     * Writes what is waiting, unless another thread holds the writer role (it re-checks after
     * releasing, so nothing pushed before that is left behind).
     */
    private void flush() {
        while (failure == null && hasWriterWork()) {
            if (!WRITING.compareAndSet(this, 0, 1)) {
                return;
            }
            int outcome;
            IOException broken = null;
            try {
                outcome = writeHeld();
            } catch (IOException e) {
                broken = e;
                outcome = SOCKET_FULL;
            } finally {
                WRITING.setVolatile(this, 0);
            }
            if (broken != null) {
                fail("cannot send to it: " + broken.getMessage(), broken);
                return;
            }
            if (reading == 0) {
                promote(); // admitted calls whose owners are parked need a leader (invariant 4)
            }
            if (outcome == SOCKET_FULL) {
                if (reading != 0) {
                    selector.wakeup(); // the leader must watch for writability now
                }
                return;
            }
            if (outcome == RING_FULL && sent - answered >= ring.length) {
                return; // still full after the release: a leader that frees room re-checks after us
            }
            // written, or room appeared while we held the role: go round for what came meanwhile
        }
    }

    /** With the writer role: admits what it can, writes what is unwritten; says why it stopped. */
    private int writeHeld() throws IOException {
        admit();
        long s = sent;
        long f = flushed;
        while (f < s) {
            int k = 0;
            for (long i = f; i < s && k < gather.length; i++, k++) {
                PendingCall c = ring[(int) i & mask];
                int length = c.frameLength(); // not wholly written, so not done: its owner leaves it alone
                ByteBuffer frame = c.wire();
                frame.limit(length).position(k == 0 ? headWritten : 0);
                gather[k] = frame;
                gatherLengths[k] = length;
            }
            long n = tls == null ? channel.write(gather, 0, k) : tls.write(gather, 0, k);
            socketWrites++;
            int j = 0;
            while (j < k) {
                int rest = gatherLengths[j] - (j == 0 ? headWritten : 0);
                if (n < rest) {
                    headWritten = (j == 0 ? headWritten : 0) + (int) n;
                    break;
                }
                n -= rest;
                headWritten = 0;
                f++;
                j++;
                framesWritten++;
            }
            flushed = f;
            if (j < k) {
                writesCutShort++;
                socketFull = true;
                return SOCKET_FULL;
            }
        }
        if (tls != null && tls.wantsWrite() && !tls.flush()) {
            socketFull = true; // every frame is wrapped, and ciphertext of it waits for the socket
            return SOCKET_FULL;
        }
        if (socketFull) {
            socketFull = false;
        }
        return queueHead != null ? RING_FULL : WRITTEN;
    }

    /** With the writer role: the submission stack into the admission queue, then into the ring while it has room. */
    private void admit() {
        PendingCall top;
        while ((top = submitted) != null && top != CLOSED) {
            if (SUBMITTED.compareAndSet(this, top, null)) {
                PendingCall fifo = null;
                PendingCall last = top;
                while (top != null) { // the stack is newest first
                    PendingCall n = top.next;
                    top.next = fifo;
                    fifo = top;
                    top = n;
                }
                if (queueTail == null) {
                    queueHead = fifo;
                } else {
                    queueTail.next = fifo;
                }
                queueTail = last;
                break;
            }
        }
        long s = sent;
        long a = answered;
        while (queueHead != null) {
            if (s - a >= ring.length && s - (a = answered) >= ring.length) {
                break; // full: the leader admits the rest as replies free the ring
            }
            PendingCall c = queueHead;
            queueHead = c.next;
            if (queueHead == null) {
                queueTail = null;
            }
            c.next = null;
            if (c.admit(s + 1)) { // false: it failed while queued, and its owner has left
                ring[(int) s & mask] = c;
                s++;
            }
        }
        queued = queueHead != null;
        sent = s;
    }

    // ---------------------------------------------------------------- waiting and reading

    /** Waits for {@code call}'s reply, leading when the reader role is free; throws when it failed. */
    void await(PendingCall call) {
        long deadline = System.nanoTime() + timeoutNanos;
        boolean interrupted = Thread.interrupted(); // restored below; a set status would make select and park spin
        try {
            int spun = 0;
            while (!call.isDone()) {
                if (failure != null) {
                    awaitCleanup();
                    call.fail(failure);
                    break;
                }
                if (reading == 0 && READING.compareAndSet(this, 0, 1)) {
                    interrupted |= lead(call, deadline);
                    continue;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    timedOut();
                    continue;
                }
                if (spun < spins) {
                    spun++;
                    Thread.onSpinWait();
                    continue;
                }
                call.parked = true;
                if (!call.isDone() && reading != 0 && failure == null) {
                    // admitted: whoever ends it or frees the reader role wakes us; waiting for room: look again soon
                    LockSupport.parkNanos(this, call.correlationId() != 0 ? left : Math.min(left, ROOM_RECHECK_NANOS));
                }
                call.parked = false;
                interrupted |= Thread.interrupted();
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        call.throwIfFailed();
    }

    /**
     * With the reader role: reads and completes replies until {@code mine} is done, the connection
     * failed or the deadline passed; then hands the role on. Returns whether an interrupt came
     * meanwhile (cleared, for the caller to restore).
     */
    private boolean lead(PendingCall mine, long deadline) {
        boolean interrupted = false;
        try {
            boolean readFirst = false;
            while (true) {
                if (!consumeBuffered(mine)) {
                    return interrupted;
                }
                if (hasWriterWork()) {
                    flush(); // the ring has room again, or frames wait for the socket: also before leaving
                }
                if (mine.isDone() || failure != null) {
                    return interrupted;
                }
                if (!readFirst) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        timedOut();
                        return interrupted;
                    }
                    int want = socketFull ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ;
                    if (want != interest) {
                        key.interestOps(want);
                        interest = want;
                    }
                    // allocation-free while this socket's descriptor is below 128: above it the JDK's epoll
                    // selector boxes the descriptor for its key lookup on every wakeup (-XX:AutoBoxCacheMax
                    // raises that bound); spinning first (tcp.spin) keeps most waits out of select()
                    selector.select(IGNORE_KEYS, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left + 999_999)));
                    interrupted |= Thread.interrupted();
                    if (failure != null) {
                        return interrupted;
                    }
                }
                int n = assembler.readFrom(input);
                if (n < 0) {
                    fail("the memory node closed the connection", null);
                    return interrupted;
                }
                socketReads++;
                // a full buffer: the socket may hold more at once; TLS may hold input no select announces
                readFirst = (n > 0 && assembler.full()) || (tls != null && tls.hasBufferedInput());
            }
        } catch (ClosedSelectorException | CancelledKeyException | ClosedChannelException e) {
            fail("the connection was closed", e); // usually by a failure already recorded, which wins
        } catch (IOException e) {
            fail("connection lost (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            fail("reading its replies failed: " + e, e);
        } finally {
            READING.setVolatile(this, 0);
            promote();
        }
        return interrupted;
    }

    /**
     * The exception an ERROR reply stands for. A method of its own, off the reply loop: the loop
     * stays small enough to be compiled whole, so the verb path allocates nothing.
     */
    private RuntimeException refusal(FrameReader r) {
        ErrorReply refusal = ErrorReply.of(r);
        if (refusal.code() == ErrorCode.FENCED) {
            return fenced(refusal);
        }
        String m = "memory node " + memoryNode + " refused the request: " + refusal.getMessage();
        return refusal.code() == ErrorCode.ACCESS_DENIED ? new AccessDeniedException(m) : new RemoteAccessException(m);
    }

    /** Completes the ring's oldest calls with the whole replies received so far; false once the connection failed. */
    private boolean consumeBuffered(PendingCall mine) {
        try {
            while (assembler.next()) {
                FrameReader r = reply.wrap(assembler.frame(), assembler.frameOffset(), assembler.frameLength());
                long a = answered;
                long id = r.correlationId();
                if (a >= sent || id != a + 1) {
                    fail("a reply with correlation id " + id + " does not match the oldest request ("
                            + (a >= sent ? "none in flight" : String.valueOf(a + 1)) + ")", null);
                    return false;
                }
                PendingCall c = ring[(int) a & mask];
                int type = r.type();
                boolean delivered;
                if (type == (FrameHeader.TYPE_VERB_REQUEST | FrameHeader.REPLY_BIT)) {
                    delivered = c.complete(id, r);
                } else if (type == FrameHeader.TYPE_ERROR) {
                    delivered = c.refuse(id, refusal(r));
                } else {
                    fail("unexpected " + FrameHeader.typeName(type) + " frame on a verb connection", null);
                    return false;
                }
                repliesRead++;
                if (delivered && c != mine) {
                    repliesForOthers++;
                }
                answered = a + 1;
            }
            return true;
        } catch (MalformedFrameException e) {
            fail(e.fatal() ? "it sent a bad frame: " + e.getMessage() : "its reply broke the verb frame format: " + e.getMessage(), null);
            return false;
        }
    }

    /**
     * The fence this connection's memory node reported, made once: every later call fails with it
     * before it is sent (a fenced incarnation never becomes live again).
     */
    private FencedException fenced(ErrorReply refusal) {
        FencedException f = fencedBy;
        if (f == null) {
            f = new FencedException(computeNode, epoch, "memory node " + memoryNode + " at " + address.getHostString() + ":"
                    + address.getPort() + " refused its verbs: " + refusal.message());
            fencedBy = f;
        }
        return f;
    }

    /** After the reader role was released or calls admitted without a leader: wakes one parked owner to lead. */
    private void promote() {
        long a = answered;
        long s = sent;
        for (long i = a; i < s; i++) {
            PendingCall c = ring[(int) i & mask];
            if (c != null && c.wakeIfParked()) {
                return;
            }
        }
    }

    private void timedOut() {
        fail("no reply within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms (" + describe() + ")", null);
    }

    /** The connection's state in a few words, for messages: what is in flight, written, waiting. */
    String describe() {
        long a = answered;
        long f = flushed;
        long s = sent;
        int parkedOwners = 0;
        for (long i = a; i < s; i++) {
            PendingCall c = ring[(int) i & mask];
            if (c != null && c.parked) {
                parkedOwners++;
            }
        }
        PendingCall top = submitted;
        return (s - a) + " in flight, " + (s - f) + " of them not wholly written" + (socketFull ? " (socket full)" : "")
                + (queued ? ", more waiting for room" : "") + (top != null && top != CLOSED ? ", more submitted" : "")
                + ", " + parkedOwners + " parked, " + (reading != 0 ? "a caller reading" : "no caller reading")
                + (writing != 0 ? ", a caller writing" : "");
    }

    // ---------------------------------------------------------------- failure

    /** Fails the connection for good (the first cause wins); returns once every call of it has ended. */
    private void fail(String cause, Throwable t) {
        RemoteAccessException e = new RemoteAccessException("memory node " + memoryNode + " at " + address.getHostString() + ":"
                + address.getPort() + " is unreachable: " + cause, t);
        if (!FAILURE.compareAndSet(this, null, e)) {
            awaitCleanup();
            return;
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // failing anyway
        }
        selector.wakeup();
        int tries = 0;
        while (!WRITING.compareAndSet(this, 0, 1)) {
            spinOrYield(++tries); // a write in progress never blocks; kept for good once taken
        }
        PendingCall c = (PendingCall) SUBMITTED.getAndSet(this, CLOSED);
        while (c != null && c != CLOSED) {
            PendingCall n = c.next;
            c.fail(e);
            c = n;
        }
        for (c = queueHead; c != null; c = c.next) {
            c.fail(e);
        }
        queueHead = queueTail = null;
        queued = false;
        for (long i = answered, s = sent; i < s; i++) {
            ring[(int) i & mask].fail(e);
        }
        cleanedUp = true;
        try {
            selector.close();
        } catch (IOException ignored) {
            // failing anyway
        }
    }

    private void awaitCleanup() {
        int tries = 0;
        while (!cleanedUp) {
            spinOrYield(++tries);
        }
    }

    private static void spinOrYield(int tries) {
        if (tries < 100) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    private static RemoteAccessException again(RemoteAccessException f) {
        return new RemoteAccessException(f.getMessage(), f);
    }

    /** Fails the connection with {@code reason} (the memory node was reported gone); in-flight calls throw it. */
    void lost(String reason) {
        fail(reason, null);
    }

    boolean failed() {
        return failure != null;
    }

    /** Counters of this connection so far (exact once it is quiet). */
    WireStats stats() {
        if (flushed < 0 || answered < 0) { // these volatile reads order the counters written before them
            throw new IllegalStateException("negative sequence");
        }
        return new WireStats(framesWritten, socketWrites, writesCutShort, repliesRead, socketReads, repliesForOthers);
    }

    @Override
    public void close() {
        fail("the compute node closed its connection", null);
    }
}
