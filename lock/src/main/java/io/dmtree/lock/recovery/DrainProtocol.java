package io.dmtree.lock.recovery;

import io.dmtree.core.lock.LapsedMemberException;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.messaging.CnMessaging;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static io.dmtree.lock.recovery.DrainMessageLayout.*;

/**
 * Recovery by drain and reset, for lock designs in which no live member can tell from the memory
 * node what a departed one held: the {@code dslr} counters say how many requests are outstanding
 * but not whose, and the {@code rdma-mcs} and {@code alock} queues keep their links in the queue
 * nodes on the compute nodes, so the links into and out of a departed member's nodes are lost with
 * it (a live neighbour may know one side, never both once two departed nodes are adjacent).
 *
 * <h2>Protocol</h2>
 * <ol>
 *   <li>The recovering member (coordinator) sends DRAIN(g) to every live member, itself included.</li>
 *   <li>A member freezes its client ({@link Quiescence}): new acquires wait for the thaw before
 *   any verb; waits inside acquires give up and back out (their memory-node footprint stays, to be
 *   reset); waits inside releases give up. Holders finish and release as usual. Once no thread of
 *   the member has an operation in progress or a hold, it answers DRAINED(g).</li>
 *   <li>When every live member has answered (members that depart meanwhile are dropped, members
 *   that join are drained too), no live member holds, waits on or touches any lock of the design,
 *   and every departed one is fenced: the coordinator resets each lock whose memory-node state is
 *   not initial.</li>
 *   <li>The coordinator sends RESUME(g); members thaw and the waiting acquires start afresh.</li>
 * </ol>
 *
 * <p>Invariants: a member reports DRAINED(g) only while frozen by g and drained; a frozen member
 * issues no verb of the design until it thaws; so the reset runs while nobody else can change or
 * rely on the state it overwrites. A member drops a freeze whose coordinator has departed (that
 * recovery will be run again by another member), so a lost coordinator cannot wedge the cluster.
 * Messages that arrive after the operation they belonged to (a grant to a queue node that gave
 * up) are recognised by the design and dropped. Waits are bounded: every round consults
 * membership. Callers hold no lock of the design while coordinating (their own drain would wait
 * for them), and a thread holds at most one lock of the design while it acquires another
 * ({@link io.dmtree.core.lock.LockClient}'s rule), so holders always finish.
 */
public final class DrainProtocol implements AutoCloseable {
    private final int self;
    private final int computeNodeCount;
    private final CnMessaging messaging;
    private final MemberLiveness liveness;
    private final Quiescence quiescence;
    private final ThreadLocal<UnsafeBuffer> out = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[LENGTH]));

    /** Member side: freezes in force, by generation; value true once DRAINED was sent. */
    private final ConcurrentHashMap<Long, Boolean> freezes = new ConcurrentHashMap<>();
    /** Coordinator side: members yet to report, by generation. */
    private final ConcurrentHashMap<Long, Set<Integer>> awaiting = new ConcurrentHashMap<>();
    private final AtomicLong drains = new AtomicLong();
    private final AtomicLong stale = new AtomicLong();
    private volatile Thread worker;
    private volatile boolean closed;

    public DrainProtocol(LockContext context, Quiescence quiescence) {
        this.self = context.computeNode();
        this.computeNodeCount = context.computeNodeCount();
        this.messaging = context.messaging();
        this.liveness = context.liveness();
        this.quiescence = quiescence;
        if (self >= 1 << 16) {
            throw new IllegalArgumentException("compute node id " + self + " does not fit a drain generation");
        }
    }

    public Quiescence quiescence() {
        return quiescence;
    }

    /**
     * The client's message handler offers every message here first; returns true when it was a
     * drain message (consumed). Never blocks.
     */
    public boolean onMessage(int fromCn, DirectBuffer buffer, int offset, int length) {
        if (length != LENGTH || buffer.getByte(offset + TYPE_OFFSET) != TYPE_DRAIN) {
            return false;
        }
        byte phase = buffer.getByte(offset + PHASE_OFFSET);
        long gen = buffer.getLong(offset + GENERATION_OFFSET, ByteOrder.LITTLE_ENDIAN);
        switch (phase) {
            case DRAIN -> {
                if (freezes.putIfAbsent(gen, Boolean.FALSE) == null) {
                    quiescence.freeze();
                    wakeWorker();
                }
            }
            case DRAINED -> {
                Set<Integer> s = awaiting.get(gen);
                if (s == null || !s.remove(fromCn)) {
                    stale.incrementAndGet();
                }
            }
            case RESUME -> thaw(gen);
            default -> stale.incrementAndGet();
        }
        return true;
    }

    private void thaw(long gen) {
        if (freezes.remove(gen) != null) {
            quiescence.thaw();
        }
    }

    private synchronized void wakeWorker() {
        if (closed) {
            return;
        }
        Thread w = worker;
        if (w == null || !w.isAlive()) {
            w = new Thread(this::work, "lock-drain-cn" + self);
            w.setDaemon(true);
            worker = w;
            w.start();
        } else {
            LockSupport.unpark(w);
        }
    }

    /** Member side: reports drains once drained; drops freezes whose coordinator departed. */
    private void work() {
        while (!closed && !freezes.isEmpty()) {
            for (var e : freezes.entrySet()) {
                long gen = e.getKey();
                int coordinator = coordinatorOf(gen);
                if (coordinator != self && !liveness.isMember(coordinator)) {
                    thaw(gen); // that recovery is void; another member runs it again
                    continue;
                }
                if (!e.getValue() && quiescence.drained() && send(coordinator, DRAINED, gen)) {
                    freezes.replace(gen, Boolean.FALSE, Boolean.TRUE); // never re-inserts a thawed generation
                }
            }
            LockSupport.parkNanos(this, 100_000);
        }
        synchronized (this) {
            worker = null;
        }
        if (!closed && !freezes.isEmpty()) {
            wakeWorker(); // a freeze arrived as the loop ended
        }
    }

    private boolean send(int to, byte phase, long gen) {
        UnsafeBuffer b = out.get();
        b.putByte(TYPE_OFFSET, TYPE_DRAIN);
        b.putByte(PHASE_OFFSET, phase);
        for (int i = 2; i < GENERATION_OFFSET; i++) {
            b.putByte(i, (byte) 0);
        }
        b.putLong(GENERATION_OFFSET, gen, ByteOrder.LITTLE_ENDIAN);
        try {
            messaging.send(to, b, 0, LENGTH);
            return true;
        } catch (RuntimeException e) {
            return false; // a departed peer, or a transport fault: retried, or dropped once it departs
        }
    }

    /**
     * Coordinator: drains every live member of the design, runs {@code reset} (which returns the
     * memory-node state of the locks to their initial value), then resumes them. Throws
     * {@link LapsedMemberException} if this member departs meanwhile (the members then drop the
     * freeze themselves).
     */
    public void drainAndReset(Runnable reset) {
        long gen = ((long) self << 48) | (drains.incrementAndGet() & 0xFFFF_FFFF_FFFFL);
        Set<Integer> drainedAll = new HashSet<>();
        Set<Integer> pending = ConcurrentHashMap.newKeySet();
        awaiting.put(gen, pending);
        try {
            long version = liveness.version();
            for (int cn = 0; cn < computeNodeCount; cn++) {
                if (liveness.isMember(cn)) {
                    pending.add(cn);
                    drainedAll.add(cn);
                }
            }
            for (int cn : drainedAll) {
                send(cn, DRAIN, gen);
            }
            long lastSend = System.nanoTime();
            while (!pending.isEmpty()) {
                if (!liveness.isMember(self)) {
                    throw new LapsedMemberException(self, "coordinating a lock drain");
                }
                long v = liveness.version();
                if (v != version) {
                    version = v;
                    for (int cn = 0; cn < computeNodeCount; cn++) {
                        if (liveness.isMember(cn) && drainedAll.add(cn)) {
                            pending.add(cn); // joined since the drain began
                            send(cn, DRAIN, gen);
                        }
                    }
                }
                pending.removeIf(cn -> !liveness.isMember(cn));
                if (System.nanoTime() - lastSend > 20_000_000L) {
                    for (int cn : pending) {
                        send(cn, DRAIN, gen); // a send may have failed; a duplicate DRAIN is ignored
                    }
                    lastSend = System.nanoTime();
                }
                LockSupport.parkNanos(this, 100_000);
            }
            reset.run();
        } finally {
            awaiting.remove(gen);
            for (int cn : drainedAll) {
                if (cn == self || liveness.isMember(cn)) {
                    send(cn, RESUME, gen);
                }
            }
        }
    }

    /** Drain messages that matched no drain in progress. */
    public long staleMessages() {
        return stale.get();
    }

    @Override
    public void close() {
        closed = true;
        Thread w = worker;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }
}
