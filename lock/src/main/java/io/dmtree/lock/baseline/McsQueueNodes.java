package io.dmtree.lock.baseline;

import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.lock.recovery.DrainProtocol;
import io.dmtree.lock.recovery.PeerSend;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static io.dmtree.lock.baseline.McsMessageLayout.*;

/**
 * The queue nodes of one compute node's threads, by thread and lock, and the messages that other
 * CNs use to write into them ({@link McsMessageLayout}). A message or local write reaches a node
 * only if it carries that node's tag ({@link McsTag}); anything else (a node that gave up in a
 * drain, or was never registered) is counted and dropped. Drain messages go to the
 * {@link DrainProtocol} first.
 */
final class McsQueueNodes {
    private final LockContext context;
    private final CnMessaging messaging;
    private final MemberLiveness liveness;
    private final DrainProtocol drain;
    private final ConcurrentHashMap<Long, McsQueueNode>[] byThread;
    /**
     * Per thread, the sequence of its last node; written by that thread, and by a drain's
     * reinstatement while the thread is kept out of every lock operation (ordered by the freeze).
     */
    private final int[] sequences;
    private final ThreadLocal<UnsafeBuffer> out = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[LENGTH]));
    private final AtomicLong unknown = new AtomicLong();

    @SuppressWarnings("unchecked")
    McsQueueNodes(LockContext context, DrainProtocol drain) {
        this.context = context;
        this.messaging = context.messaging();
        this.liveness = context.liveness();
        this.drain = drain;
        this.byThread = new ConcurrentHashMap[context.threads().capacity()];
        this.sequences = new int[context.threads().capacity()];
        for (int i = 0; i < byThread.length; i++) {
            byThread[i] = new ConcurrentHashMap<>();
        }
        messaging.onMessage(this::onMessage);
    }

    /** Registers a fresh node, with a fresh tag, of the calling thread for {@code lock}. */
    McsQueueNode register(long lock) {
        int t = context.threads().current();
        McsQueueNode q = new McsQueueNode(McsTag.of(context.computeNode(), t, ++sequences[t]));
        byThread[t].put(lock, q);
        return q;
    }

    McsQueueNode mine(long lock) {
        McsQueueNode q = byThread[context.threads().current()].get(lock);
        if (q == null) {
            throw new IllegalStateException("release of lock " + io.dmtree.core.memory.GlobalAddress.toString(lock)
                    + " not held by this thread");
        }
        return q;
    }

    void unregister(long lock, McsQueueNode node) {
        byThread[context.threads().current()].remove(lock, node);
    }

    /** Makes a lock's memory-node state name one hold alone (a drain's reinstatement). */
    @FunctionalInterface
    interface TailInstaller {
        /** After a reset: puts {@code hold}'s tag into {@code lock}'s tail as a lone holder's. */
        void install(long lock, McsQueueNode hold);
    }

    /**
     * The reinstatement of a drain ({@link io.dmtree.lock.recovery.HoldReinstatement}): while the
     * client is frozen and drained every registered node is a hold. Each is replaced by a fresh
     * node of the same owner (a fresh tag, so links and grants still in flight to the old one are
     * dropped; no successor) whose tag {@code installer} puts into the lock's reset tail. A hold
     * already reinstated for {@code generation} is left alone, so a retried call does no harm.
     */
    void reinstate(long generation, TailInstaller installer) {
        int cn = context.computeNode();
        for (int t = 0; t < byThread.length; t++) {
            for (var e : byThread[t].entrySet()) {
                McsQueueNode old = e.getValue();
                if (old.reinstatedIn == generation) {
                    continue;
                }
                McsQueueNode fresh = new McsQueueNode(McsTag.of(cn, t, ++sequences[t]), old.owner);
                fresh.state = old.state;
                fresh.budget = old.budget;
                fresh.local = old.local;
                fresh.reinstatedIn = generation;
                installer.install(e.getKey(), fresh);
                byThread[t].put(e.getKey(), fresh);
            }
        }
    }

    /** Links {@code me} behind {@code predecessor}: a direct write on this CN, else a message. */
    void linkBehind(long predecessor, long lock, long me) {
        int cn = McsTag.computeNode(predecessor);
        if (cn == context.computeNode()) {
            McsQueueNode q = node(predecessor, lock);
            if (q != null) {
                q.setNext(me);
            }
        } else {
            send(cn, SET_NEXT, predecessor, 0, lock, me);
        }
    }

    /** Hands the lock to {@code successor}; dropped when its compute node has departed. */
    void grant(long successor, long lock, int state, int budget) {
        int cn = McsTag.computeNode(successor);
        if (cn == context.computeNode()) {
            McsQueueNode q = node(successor, lock);
            if (q != null) {
                q.grant(state, budget);
            }
        } else {
            send(cn, GRANT, successor, state == McsQueueNode.REACQUIRE ? -1 : budget, lock, 0);
        }
    }

    /** The node with exactly this tag for {@code lock}, or null (counted) when it is gone. */
    private McsQueueNode node(long tag, long lock) {
        int thread = McsTag.thread(tag);
        McsQueueNode q = thread >= 0 && thread < byThread.length ? byThread[thread].get(lock) : null;
        if (q == null || q.tag != tag) {
            unknown.incrementAndGet();
            return null;
        }
        return q;
    }

    private void send(int cn, byte type, long target, int budget, long lock, long successor) {
        UnsafeBuffer b = out.get();
        b.putByte(TYPE_OFFSET, type);
        b.putByte(1, (byte) 0);
        b.putShort(2, (short) 0);
        b.putInt(BUDGET_OFFSET, budget, ByteOrder.LITTLE_ENDIAN);
        b.putLong(LOCK_OFFSET, lock, ByteOrder.LITTLE_ENDIAN);
        b.putLong(TARGET_OFFSET, target, ByteOrder.LITTLE_ENDIAN);
        b.putLong(SUCCESSOR_OFFSET, successor, ByteOrder.LITTLE_ENDIAN);
        PeerSend.send(messaging, liveness, cn, b, 0, LENGTH);
    }

    private void onMessage(int fromCn, DirectBuffer buffer, int offset, int length) {
        if (drain.onMessage(fromCn, buffer, offset, length)) {
            return;
        }
        if (length != LENGTH) {
            unknown.incrementAndGet();
            return;
        }
        byte type = buffer.getByte(offset + TYPE_OFFSET);
        long lock = buffer.getLong(offset + LOCK_OFFSET, ByteOrder.LITTLE_ENDIAN);
        long target = buffer.getLong(offset + TARGET_OFFSET, ByteOrder.LITTLE_ENDIAN);
        if (McsTag.computeNode(target) != context.computeNode()) {
            unknown.incrementAndGet();
            return;
        }
        McsQueueNode q = node(target, lock);
        if (q == null) {
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

    /** Messages and local writes that named no live node or type (nodes that gave up, malformed). */
    long unknownMessages() {
        return unknown.get();
    }

    void close() {
        messaging.onMessage(null);
    }
}
