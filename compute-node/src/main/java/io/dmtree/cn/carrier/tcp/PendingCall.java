package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.FencedException;
import io.dmtree.core.memory.AccessDeniedException;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.core.wire.VerbFrame;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.locks.LockSupport;

/**
 * The part of one batch that goes to one memory node, from encoding to completion: its request
 * frame, the thread waiting for it, and the state that says whether its reply has been delivered.
 * Each thread owns one per memory node and reuses it for every batch ({@link TcpVerbs}); a
 * {@link VerbConnection} holds it from {@link VerbConnection#send} until it is done.
 *
 * <p><b>Stamp.</b> One volatile word holds the correlation id the call waits for and its state,
 * {@code id << 2 | state}. A reply completes the call only by a compare-and-set from
 * {@code (its id, PENDING)}, so a reply can never land in a call that has moved on: a failed call,
 * or one reused by its thread for a later batch (which has another id, or none yet).
 * <pre>
 *   PENDING(0) --admit(id)--> PENDING(id) --reply id--> COMPLETING(id) --> DONE(id)
 *        \                         \
 *         +--------fail------------+--> FAILED
 * </pre>
 * {@code COMPLETING} means one thread owns the call for a moment: a reader copying the reply into
 * the caller's buffers, or a failure recording its cause. Others wait it out, so a caller that
 * sees its call ended owns its buffers again.
 *
 * <p><b>Parking.</b> {@link #parked} is set by the owner before it parks and is read by whoever
 * ends the call (reply, failure) or hands it the reader role, after they published their change:
 * the owner re-checks after setting it, so one of the two sides always sees the other and no
 * wake-up is lost.
 */
final class PendingCall {
    static final int PENDING = 0;
    static final int COMPLETING = 1;
    static final int DONE = 2;
    static final int FAILED = 3;
    private static final int STATE_BITS = 2;
    private static final int STATE_MASK = (1 << STATE_BITS) - 1;
    private static final VarHandle STAMP;

    static {
        try {
            STAMP = MethodHandles.lookup().findVarHandle(PendingCall.class, "stamp", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int memoryNode;
    private VerbBatch batch;
    private Thread owner;
    private volatile long stamp;
    volatile boolean parked;
    private RuntimeException error;

    /** The finished request frame, for the connection's writer; made again only when the encoder's buffer grew. */
    private ByteBuffer wire;
    private ByteBuffer wireSource;
    private int frameLength;
    /** Link of the connection's submission stack and of its admission queue; owned by whoever holds the call there. */
    PendingCall next;

    PendingCall(int memoryNode) {
        this.memoryNode = memoryNode;
    }

    /** Encodes the requests of {@code batch} for this memory node into {@code w}; returns how many. */
    int encode(VerbBatch batch, FrameWriter w, int maxFrameBytes) {
        this.batch = batch;
        w.begin(FrameHeader.TYPE_VERB_REQUEST, 0, 0);
        int count = 0;
        long replyBytes = FrameHeader.LENGTH;
        for (int i = 0; i < batch.size(); i++) {
            long address = batch.address(i);
            if (GlobalAddress.memoryNode(address) != memoryNode) {
                continue;
            }
            long offset = GlobalAddress.offset(address);
            int length = batch.length(i);
            switch (batch.kind(i)) {
                case READ -> {
                    batch.readBuffer(i).boundsCheck(batch.bufferOffset(i), length);
                    w.u8(VerbFrame.KIND_READ).u8(0).u16(0).i32(length).i64(offset);
                    replyBytes += VerbFrame.padded(length);
                }
                case WRITE -> {
                    DirectBuffer src = batch.writeBuffer(i);
                    src.boundsCheck(batch.bufferOffset(i), length);
                    w.u8(VerbFrame.KIND_WRITE).u8(0).u16(0).i32(length).i64(offset);
                    w.bytes(src, batch.bufferOffset(i), length).pad(8);
                }
                case CAS -> {
                    w.u8(VerbFrame.KIND_CAS).u8(0).u16(0).i32(8).i64(offset).i64(batch.operand1(i)).i64(batch.operand2(i));
                    replyBytes += 8;
                }
                case FAA -> {
                    w.u8(VerbFrame.KIND_FAA).u8(0).u16(0).i32(8).i64(offset).i64(batch.operand1(i));
                    replyBytes += 8;
                }
                default -> throw new IllegalStateException("unknown verb " + batch.kind(i));
            }
            count++;
        }
        if (count > VerbFrame.MAX_REQUESTS) {
            throw new RemoteAccessException("a batch of " + count + " requests to memory node " + memoryNode
                    + " exceeds the tcp limit of " + VerbFrame.MAX_REQUESTS + " per round trip");
        }
        if (w.position() > maxFrameBytes || replyBytes > maxFrameBytes) {
            throw new RemoteAccessException("a batch of " + Math.max(w.position(), replyBytes) + " bytes to memory node "
                    + memoryNode + " exceeds the frame limit of " + maxFrameBytes + " bytes; split it");
        }
        w.count(count).finish();
        ByteBuffer bb = w.buffer().byteBuffer();
        if (wireSource != bb) {
            wireSource = bb; // new, or the encoder's buffer grew: a view of its memory that only the writer moves
            wire = bb.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }
        frameLength = w.length();
        return count;
    }

    /** The owner, before submitting: no id yet, nobody parked. */
    void prepare(Thread thread) {
        this.owner = thread;
        this.error = null;
        this.parked = false;
        this.next = null;
        STAMP.setVolatile(this, (long) PENDING);
    }

    /**
     * The writer, admitting the call to the wire under correlation id {@code id}: stamps the id into
     * the frame and returns its view, positioned over the whole frame. False when the call failed
     * before it was admitted; the writer then drops it.
     */
    boolean admit(long id) {
        if (!STAMP.compareAndSet(this, (long) PENDING, id << STATE_BITS | PENDING)) {
            return false;
        }
        wire.putLong(FrameHeader.CORRELATION_OFFSET, id);
        return true;
    }

    /** The frame view for the writer; its position and limit belong to the writer between admission and completion. */
    ByteBuffer wire() {
        return wire;
    }

    int frameLength() {
        return frameLength;
    }

    /** The correlation id the call waits for (0 before admission). */
    long correlationId() {
        return (long) STAMP.getVolatile(this) >>> STATE_BITS;
    }

    boolean isDone() {
        int s = (int) ((long) STAMP.getVolatile(this) & STATE_MASK);
        return s == DONE || s == FAILED;
    }

    boolean isFailed() {
        return ((long) STAMP.getVolatile(this) & STATE_MASK) == FAILED;
    }

    /**
     * A reader: delivers the reply {@code reply} (correlation id {@code id}) by copying read data and
     * atomic results into the caller's batch. Returns false, copying nothing, when the call no longer
     * waits for that id (it failed, or its thread moved on). A reply that does not fit the request
     * throws, and the call stays pending for the connection's failure to end.
     */
    boolean complete(long id, FrameReader reply) throws MalformedFrameException {
        long waiting = id << STATE_BITS | PENDING;
        if (!STAMP.compareAndSet(this, waiting, id << STATE_BITS | COMPLETING)) {
            return false;
        }
        try {
            copyReply(reply);
        } catch (MalformedFrameException | RuntimeException e) {
            STAMP.setVolatile(this, waiting);
            throw e;
        }
        STAMP.setVolatile(this, id << STATE_BITS | DONE);
        wake();
        return true;
    }

    /** A reader: the memory node refused the frame with id {@code id}; the call fails, the connection goes on. */
    boolean refuse(long id, RuntimeException e) {
        if (!STAMP.compareAndSet(this, id << STATE_BITS | PENDING, id << STATE_BITS | COMPLETING)) {
            return false;
        }
        error = e;
        STAMP.setVolatile(this, id << STATE_BITS | FAILED);
        wake();
        return true;
    }

    private void copyReply(FrameReader reply) throws MalformedFrameException {
        int expected = 0;
        for (int i = 0; i < batch.size(); i++) {
            if (GlobalAddress.memoryNode(batch.address(i)) == memoryNode) {
                expected++;
            }
        }
        if (reply.count() != expected) {
            throw new MalformedFrameException(ErrorCode.MALFORMED, "reply for " + reply.count()
                    + " requests to a frame of " + expected);
        }
        for (int i = 0; i < batch.size(); i++) {
            if (GlobalAddress.memoryNode(batch.address(i)) != memoryNode) {
                continue;
            }
            int length = batch.length(i);
            switch (batch.kind(i)) {
                case READ -> {
                    int at = reply.skip(VerbFrame.padded(length), "read data");
                    MutableDirectBuffer dst = batch.readBuffer(i);
                    dst.putBytes(batch.bufferOffset(i), reply.buffer(), at, length);
                }
                case WRITE -> {
                }
                case CAS, FAA -> batch.setResult(i, reply.i64("atomic result"));
                default -> throw new IllegalStateException("unknown verb " + batch.kind(i));
            }
        }
        reply.end();
    }

    /** Fails the call unless its reply was delivered; waits out a delivery in progress. */
    void fail(RemoteAccessException e) {
        while (true) {
            long s = (long) STAMP.getVolatile(this);
            int state = (int) (s & STATE_MASK);
            if (state == DONE || state == FAILED) {
                return;
            }
            if (state == COMPLETING) {
                Thread.onSpinWait();
                continue;
            }
            if (STAMP.compareAndSet(this, s, (s & ~STATE_MASK) | COMPLETING)) {
                error = e;
                STAMP.setVolatile(this, (s & ~STATE_MASK) | FAILED);
                wake();
                return;
            }
        }
    }

    private void wake() {
        if (parked) {
            LockSupport.unpark(owner);
        }
    }

    /** Hands the reader role to the owner, if it is parked waiting for it. */
    boolean wakeIfParked() {
        if (parked && !isDone()) {
            LockSupport.unpark(owner);
            return true;
        }
        return false;
    }

    void throwIfFailed() {
        if (isFailed()) {
            RuntimeException e = error;
            if (e instanceof FencedException f) {
                throw f; // one per fenced connection, made by the reader; nothing is allocated per refused verb
            }
            if (e instanceof AccessDeniedException) {
                throw new AccessDeniedException(e.getMessage(), e);
            }
            throw new RemoteAccessException(e.getMessage(), e);
        }
    }
}
