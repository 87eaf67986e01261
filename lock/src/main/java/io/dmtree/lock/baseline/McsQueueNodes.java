package io.dmtree.lock.baseline;

import io.dmtree.core.lock.LockContext;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.messaging.CnMessaging;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static io.dmtree.lock.baseline.McsMessageLayout.*;

/**
 * The queue nodes of one compute node's threads, by thread and lock, and the messages that other
 * CNs use to write into them ({@link McsMessageLayout}).
 */
final class McsQueueNodes {
    private final LockContext context;
    private final CnMessaging messaging;
    private final ConcurrentHashMap<Long, McsQueueNode>[] byThread;
    private final ThreadLocal<UnsafeBuffer> out = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[LENGTH]));
    private final AtomicLong unknown = new AtomicLong();

    @SuppressWarnings("unchecked")
    McsQueueNodes(LockContext context) {
        this.context = context;
        this.messaging = context.messaging();
        this.byThread = new ConcurrentHashMap[context.threads().capacity()];
        for (int i = 0; i < byThread.length; i++) {
            byThread[i] = new ConcurrentHashMap<>();
        }
        messaging.onMessage(this::onMessage);
    }

    static long tag(int cn, int thread) {
        return CasSpinLock.tag(cn, thread);
    }

    static int cnOf(long tag) {
        return (int) (tag >>> 32) - 1;
    }

    static int threadOf(long tag) {
        return (int) (tag & 0xFFFFFFFFL) - 1;
    }

    /** Registers a fresh node of the calling thread for {@code lock}. */
    McsQueueNode register(long lock) {
        McsQueueNode q = new McsQueueNode();
        byThread[context.threads().current()].put(lock, q);
        return q;
    }

    McsQueueNode mine(long lock) {
        McsQueueNode q = byThread[context.threads().current()].get(lock);
        if (q == null) {
            throw new IllegalStateException("release of lock " + GlobalAddress.toString(lock) + " not held by this thread");
        }
        return q;
    }

    void unregister(long lock) {
        byThread[context.threads().current()].remove(lock);
    }

    /** Links {@code me} behind {@code predecessor}: a direct write on this CN, else a message. */
    void linkBehind(long predecessor, long lock, long me) {
        int cn = cnOf(predecessor);
        if (cn == context.computeNode()) {
            node(threadOf(predecessor), lock).setNext(me);
        } else {
            send(cn, SET_NEXT, threadOf(predecessor), 0, lock, me);
        }
    }

    /** Hands the lock to {@code successor}. */
    void grant(long successor, long lock, int state, int budget) {
        int cn = cnOf(successor);
        if (cn == context.computeNode()) {
            node(threadOf(successor), lock).grant(state, budget);
        } else {
            send(cn, GRANT, threadOf(successor), state == McsQueueNode.REACQUIRE ? -1 : budget, lock, 0);
        }
    }

    private McsQueueNode node(int thread, long lock) {
        McsQueueNode q = byThread[thread].get(lock);
        if (q == null) {
            throw new IllegalStateException("no queue node of thread " + thread + " for lock " + GlobalAddress.toString(lock));
        }
        return q;
    }

    private void send(int cn, byte type, int thread, int budget, long lock, long successor) {
        UnsafeBuffer b = out.get();
        b.putByte(TYPE_OFFSET, type);
        b.putByte(1, (byte) 0);
        b.putShort(THREAD_OFFSET, (short) thread, ByteOrder.LITTLE_ENDIAN);
        b.putInt(BUDGET_OFFSET, budget, ByteOrder.LITTLE_ENDIAN);
        b.putLong(LOCK_OFFSET, lock, ByteOrder.LITTLE_ENDIAN);
        b.putLong(SUCCESSOR_OFFSET, successor, ByteOrder.LITTLE_ENDIAN);
        messaging.send(cn, b, 0, LENGTH);
    }

    private void onMessage(int fromCn, DirectBuffer buffer, int offset, int length) {
        if (length != LENGTH) {
            unknown.incrementAndGet();
            return;
        }
        byte type = buffer.getByte(offset + TYPE_OFFSET);
        int thread = buffer.getShort(offset + THREAD_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        long lock = buffer.getLong(offset + LOCK_OFFSET, ByteOrder.LITTLE_ENDIAN);
        if (thread >= byThread.length) {
            unknown.incrementAndGet();
            return;
        }
        McsQueueNode q = byThread[thread].get(lock);
        if (q == null) {
            unknown.incrementAndGet();
            return;
        }
        if (type == SET_NEXT) {
            q.setNext(buffer.getLong(offset + SUCCESSOR_OFFSET, ByteOrder.LITTLE_ENDIAN));
        } else if (type == GRANT) {
            int budget = buffer.getInt(offset + BUDGET_OFFSET, ByteOrder.LITTLE_ENDIAN);
            q.grant(budget < 0 ? McsQueueNode.REACQUIRE : McsQueueNode.GRANTED, Math.max(budget, 0));
        } else {
            unknown.incrementAndGet();
        }
    }

    /** Messages that named no known node or type. */
    long unknownMessages() {
        return unknown.get();
    }

    void close() {
        messaging.onMessage(null);
    }
}
