package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.wire.ErrorReply;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.core.wire.VerbFrame;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One pipelined connection from a compute node to a memory node's tcp verb service.
 *
 * <p><b>Pipelining.</b> Any number of caller threads send request frames; each send takes the
 * write lock, stamps the next correlation id, appends the call to the in-flight FIFO (bounded:
 * a full FIFO blocks senders, which is the flow control) and writes the frame. The memory node
 * answers the frames of one connection in order, so the receiver thread completes the head of the
 * FIFO with each reply after checking that its correlation id is the head's. The caller parks
 * until its call is completed.
 *
 * <p><b>Failure.</b> Any break of the stream (end of file, reset, a reply that does not match the
 * head of the FIFO, no reply within the timeout) fails the connection for good: every in-flight
 * and later call throws {@link RemoteAccessException} naming the memory node and the cause. A
 * caller never waits past its timeout.
 */
final class VerbConnection implements AutoCloseable {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final int memoryNode;
    private final InetSocketAddress address;
    private final FrameChannel channel;
    private final ArrayBlockingQueue<PendingCall> inFlight;
    private final long timeoutNanos;
    private final Thread receiver;
    private long nextCorrelation = 1;
    private volatile RemoteAccessException failure;

    VerbConnection(int memoryNode, InetSocketAddress address, int maxOutstanding, int maxFrameBytes, int timeoutMillis) throws IOException {
        this.memoryNode = memoryNode;
        this.address = address;
        this.channel = FrameChannel.open(address, HelloFrame.SERVICE_VERBS, maxFrameBytes, timeoutMillis);
        if (channel.peer().nodeId() != memoryNode) {
            channel.close();
            throw new IOException("the memory node at " + address.getHostString() + ":" + address.getPort() + " has id "
                    + channel.peer().nodeId() + ", but it was listed as memory node " + memoryNode);
        }
        this.inFlight = new ArrayBlockingQueue<>(maxOutstanding);
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        this.receiver = new Thread(this::receiveLoop, "dmtree-tcp-verbs-mn" + memoryNode);
        receiver.setDaemon(true);
        receiver.start();
    }

    /** The largest frame either side accepts. */
    int maxFrameBytes() {
        return Math.min(channel.maxFrameBytes(), channel.peer().maxFrameBytes());
    }

    /** Sends the finished frame in {@code frame} for {@code call}; the caller then {@link #await}s it. */
    void send(PendingCall call, FrameWriter frame) {
        RemoteAccessException f = failure;
        if (f != null) {
            throw again(f);
        }
        try {
            synchronized (channel.writeLock()) {
                long id = nextCorrelation++;
                call.prepare(id, Thread.currentThread());
                frame.buffer().putLong(FrameHeader.CORRELATION_OFFSET, id, LE);
                while (!inFlight.offer(call, 10, TimeUnit.MILLISECONDS)) {
                    if ((f = failure) != null) {
                        throw again(f);
                    }
                }
                if ((f = failure) != null) {
                    // the receiver failed between our check and the enqueue; make sure nobody waits forever
                    inFlight.remove(call);
                    throw again(f);
                }
                channel.write(frame);
            }
        } catch (IOException e) {
            fail("cannot send to it: " + e.getMessage(), e);
            throw again(failure);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RemoteAccessException("interrupted while sending to memory node " + memoryNode);
        }
    }

    /** Waits for {@code call}'s reply; throws when it failed. */
    void await(PendingCall call) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (!call.isDone()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fail("no reply within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms", null);
                if (!call.isDone()) {
                    call.fail(failure);
                }
                break;
            }
            LockSupport.parkNanos(call, Math.min(left, 1_000_000_000L));
        }
        call.throwIfFailed();
    }

    private void receiveLoop() {
        FrameReader reader = new FrameReader();
        try {
            while (failure == null) {
                channel.read();
                reader.wrap(channel.frame(), 0, channel.frameLength());
                PendingCall call = inFlight.peek();
                if (call == null || call.correlationId() != reader.correlationId()) {
                    fail("a reply with correlation id " + reader.correlationId() + " does not match the oldest request ("
                            + (call == null ? "none in flight" : call.correlationId()) + ")", null);
                    return;
                }
                inFlight.poll();
                if (reader.type() == FrameHeader.TYPE_ERROR) {
                    ErrorReply e = ErrorReply.of(reader);
                    call.fail(new RemoteAccessException("memory node " + memoryNode + " refused the request: " + e.getMessage()));
                } else if (reader.type() == (FrameHeader.TYPE_VERB_REQUEST | FrameHeader.REPLY_BIT)) {
                    try {
                        call.complete(reader);
                    } catch (MalformedFrameException e) {
                        fail("its reply broke the verb frame format: " + e.getMessage(), null);
                        call.fail(failure);
                        return;
                    }
                } else {
                    fail("unexpected " + FrameHeader.typeName(reader.type()) + " frame on a verb connection", null);
                    call.fail(failure);
                    return;
                }
            }
        } catch (IOException e) {
            fail("connection lost (" + e.getMessage() + ")", e);
        } catch (MalformedFrameException e) {
            fail("it sent a bad frame: " + e.getMessage(), null);
        }
    }

    private void fail(String cause, Throwable t) {
        synchronized (this) {
            if (failure == null) {
                failure = new RemoteAccessException("memory node " + memoryNode + " at " + address.getHostString() + ":"
                        + address.getPort() + " is unreachable: " + cause, t);
            }
        }
        channel.close();
        PendingCall c;
        while ((c = inFlight.poll()) != null) {
            c.fail(failure);
        }
    }

    private static RemoteAccessException again(RemoteAccessException f) {
        return new RemoteAccessException(f.getMessage(), f);
    }

    boolean failed() {
        return failure != null;
    }

    @Override
    public void close() {
        fail("the compute node closed its connection", null);
        try {
            receiver.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The part of one batch going to this connection's memory node, from encoding to completion.
     * Reused by its thread; the volatile {@code state} publishes the receiver's writes (read data,
     * atomic results) to the caller.
     */
    static final class PendingCall {
        private static final int PENDING = 0;
        private static final int DONE = 1;
        private static final int FAILED = 2;
        /** The receiver owns the call and is copying its reply into the caller's buffers. */
        private static final int COMPLETING = 3;
        private static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<PendingCall> STATE =
                java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(PendingCall.class, "state");

        private final int memoryNode;
        private VerbBatch batch;
        private long correlationId;
        private Thread waiter;
        private volatile int state;
        private RemoteAccessException error;

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
            return count;
        }

        void prepare(long id, Thread thread) {
            this.correlationId = id;
            this.waiter = thread;
            this.error = null;
            this.state = PENDING;
        }

        long correlationId() {
            return correlationId;
        }

        boolean isDone() {
            int s = state;
            return s == DONE || s == FAILED;
        }

        /** Receiver thread: copies read data and atomic results out of the reply. */
        void complete(FrameReader reply) throws MalformedFrameException {
            int expected = 0;
            for (int i = 0; i < batch.size(); i++) {
                if (GlobalAddress.memoryNode(batch.address(i)) == memoryNode) {
                    expected++;
                }
            }
            if (!STATE.compareAndSet(this, PENDING, COMPLETING)) {
                return; // already failed (timed out): its buffers belong to the caller again
            }
            try {
                copyReply(reply, expected);
            } catch (MalformedFrameException | RuntimeException e) {
                state = PENDING;
                throw e;
            }
            state = DONE;
            LockSupport.unpark(waiter);
        }

        private void copyReply(FrameReader reply, int expected) throws MalformedFrameException {
            if (reply.count() != expected) {
                throw new MalformedFrameException(FrameHeader.ERROR_MALFORMED, "reply for " + reply.count()
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
                int s = state;
                if (s == DONE || s == FAILED) {
                    return;
                }
                if (s == COMPLETING) {
                    Thread.onSpinWait();
                    continue;
                }
                error = e;
                if (STATE.compareAndSet(this, PENDING, FAILED)) {
                    LockSupport.unpark(waiter);
                    return;
                }
            }
        }

        void throwIfFailed() {
            if (state == FAILED) {
                RemoteAccessException e = error;
                throw new RemoteAccessException(e.getMessage(), e);
            }
        }
    }
}
