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
import java.util.concurrent.locks.ReentrantLock;

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
 *   <li>A member freezes its client ({@link Quiescence}): no lock operation (acquire or release)
 *   starts until the thaw; waits inside acquires give up and back out (their memory-node footprint
 *   stays, to be reset); waits inside releases give up. Holds stay: a thread may hold locks while
 *   it waits for the thaw (it holds some of a group and queues for the next, behind a departed
 *   holder), so the drain never waits for a holder to release. Once no thread of the member is
 *   inside a lock operation, it answers DRAINED(g).</li>
 *   <li>When every live member has answered (members that depart meanwhile are dropped, members
 *   that join are drained too), no live member touches any lock of the design and every departed
 *   one is fenced: the coordinator resets each lock whose memory-node state is not initial.</li>
 *   <li>The coordinator sends REINSTATE(g); each member makes every lock its threads hold read
 *   "held by that thread alone" again ({@link HoldReinstatement}) and answers REINSTATED(g).</li>
 *   <li>Once every live member has answered, the coordinator sends RESUME(g); members thaw and
 *   the waiting operations start afresh.</li>
 * </ol>
 *
 * <p>Invariants: a member reports DRAINED(g) only while frozen by g and drained; a frozen member
 * issues no verb of the design until it thaws, except its reinstatement; so the reset and the
 * reinstatements run while nobody else can change or rely on the state they overwrite, and every
 * live hold survives them. A live hold's lock is never free between the reset and the thaw of any
 * member: members thaw only on RESUME, which follows every reinstatement.
 *
 * <p>A lost coordinator: a member drops at once a freeze whose coordinator departed before the
 * member answered DRAINED (that coordinator cannot have begun its reset). A freeze it answered
 * stays: the reset may have begun, and the holds are safe only once reinstated. It ends with the
 * RESUME of a later drain that began after that coordinator departed (its reset and reinstatement
 * cover whatever the lost one did; the lost one, fenced, does nothing more), or with a later drain
 * of the same coordinator (drains of one coordinator run one at a time; one whose reset failed
 * leaves the members frozen for its retry). The departed coordinator's own lapse is recovered by
 * another member, with a drain of its own, so such a freeze ends. Messages that arrive after the
 * operation they belonged to (a grant to a queue node that gave up) are recognised by the design
 * and dropped. Waits are bounded: every round consults membership. Callers hold no lock of the
 * design while coordinating (their own drain would wait for them).
 */
public final class DrainProtocol implements AutoCloseable {
    private final int self;
    private final int computeNodeCount;
    private final CnMessaging messaging;
    private final MemberLiveness liveness;
    private final Quiescence quiescence;
    private final HoldReinstatement reinstatement;
    private final ThreadLocal<UnsafeBuffer> out = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[LENGTH]));

    /** Member side: one freeze in force, and how far this member got in its drain. */
    private static final class Freeze {
        volatile boolean drainedSent;
        volatile boolean reinstateAsked;
        volatile boolean reinstated;
        volatile boolean reinstatedSent;
        /** A later drain whose RESUME ends this freeze too (its coordinator departed), 0 when none. */
        volatile long supersededBy;
    }

    /** Member side: freezes in force, by generation. */
    private final ConcurrentHashMap<Long, Freeze> freezes = new ConcurrentHashMap<>();
    /** Coordinator side: members yet to report DRAINED, by generation. */
    private final ConcurrentHashMap<Long, Set<Integer>> awaiting = new ConcurrentHashMap<>();
    /** Coordinator side: members yet to report REINSTATED, by generation. */
    private final ConcurrentHashMap<Long, Set<Integer>> reinstating = new ConcurrentHashMap<>();
    private final AtomicLong drains = new AtomicLong();
    private final AtomicLong stale = new AtomicLong();
    private final AtomicLong reinstatementFailures = new AtomicLong();
    private final AtomicLong reinstatedLate = new AtomicLong();
    private final ReentrantLock coordinating = new ReentrantLock();
    private volatile Thread worker;
    private volatile boolean closed;

    /** For designs whose threads never hold a lock of the design while frozen. */
    public DrainProtocol(LockContext context, Quiescence quiescence) {
        this(context, quiescence, HoldReinstatement.NONE);
    }

    public DrainProtocol(LockContext context, Quiescence quiescence, HoldReinstatement reinstatement) {
        this.self = context.computeNode();
        this.computeNodeCount = context.computeNodeCount();
        this.messaging = context.messaging();
        this.liveness = context.liveness();
        this.quiescence = quiescence;
        this.reinstatement = reinstatement;
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
                Freeze f = new Freeze();
                if (freezes.putIfAbsent(gen, f) == null) {
                    int coordinator = coordinatorOf(gen);
                    for (var e : freezes.entrySet()) {
                        int c = coordinatorOf(e.getKey());
                        if (e.getValue() != f && c != coordinator && c != self && !liveness.isMember(c)) {
                            e.getValue().supersededBy = gen; // its coordinator is gone: this drain covers it
                        }
                    }
                    quiescence.freeze();
                    wakeWorker();
                }
            }
            case DRAINED -> answered(awaiting, gen, fromCn);
            case REINSTATE -> {
                Freeze f = freezes.get(gen);
                if (f == null) {
                    stale.incrementAndGet();
                } else {
                    f.reinstateAsked = true;
                    wakeWorker();
                }
            }
            case REINSTATED -> answered(reinstating, gen, fromCn);
            case RESUME -> resume(gen);
            default -> stale.incrementAndGet();
        }
        return true;
    }

    private void answered(ConcurrentHashMap<Long, Set<Integer>> waiting, long gen, int fromCn) {
        Set<Integer> s = waiting.get(gen);
        if (s == null || !s.remove(fromCn)) {
            stale.incrementAndGet();
        }
    }

    /** RESUME(g): ends g, the freezes it superseded, and the earlier drains of g's coordinator. */
    private void resume(long gen) {
        int coordinator = coordinatorOf(gen);
        for (var e : freezes.entrySet()) {
            long g = e.getKey();
            Freeze f = e.getValue();
            if (g == gen || f.supersededBy == gen || (coordinatorOf(g) == coordinator && g < gen)) {
                if (!f.reinstated && f.reinstateAsked) {
                    reinstatedLate.incrementAndGet(); // a coordinator resumed before this member reinstated: not expected
                }
                thaw(g); // the volatile read above orders the reinstatement's plain writes before the thaw
            }
        }
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

    /** Member side: reports drains once drained, reinstates holds when asked, drops void freezes. */
    private void work() {
        while (!closed && !freezes.isEmpty()) {
            for (var e : freezes.entrySet()) {
                long gen = e.getKey();
                Freeze f = e.getValue();
                int coordinator = coordinatorOf(gen);
                if (coordinator != self && !f.drainedSent && !liveness.isMember(coordinator)) {
                    thaw(gen); // that coordinator never began its reset; another member runs it again
                    continue;
                }
                if (!f.drainedSent && quiescence.drained() && send(coordinator, DRAINED, gen)) {
                    f.drainedSent = true;
                }
                if (f.reinstateAsked && !f.reinstated) {
                    try {
                        reinstatement.reinstate(gen);
                        f.reinstated = true;
                    } catch (RuntimeException ex) {
                        reinstatementFailures.incrementAndGet(); // a verb failed: tried again next round
                    }
                }
                if (f.reinstated && !f.reinstatedSent && send(coordinator, REINSTATED, gen)) {
                    f.reinstatedSent = true;
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
     * memory-node state of the locks to their initial value), has every member reinstate its
     * holds, then resumes them. Throws {@link LapsedMemberException} if this member departs
     * meanwhile (the members then drop or keep the freeze as the class comment says). One drain
     * of a coordinator at a time.
     */
    public void drainAndReset(Runnable reset) {
        coordinating.lock(); // not this object's monitor: the message handler takes that one (wakeWorker)
        try {
            coordinate(reset);
        } finally {
            coordinating.unlock();
        }
    }

    private void coordinate(Runnable reset) {
        long gen = ((long) self << 48) | (drains.incrementAndGet() & 0xFFFF_FFFF_FFFFL);
        Set<Integer> drainedAll = new HashSet<>();
        Set<Integer> pending = ConcurrentHashMap.newKeySet();
        awaiting.put(gen, pending);
        boolean resetBegun = false;
        boolean reinstatedAll = false;
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
            awaiting.remove(gen);
            resetBegun = true;
            reset.run();
            Set<Integer> toReinstate = ConcurrentHashMap.newKeySet();
            for (int cn : drainedAll) {
                if (cn == self || liveness.isMember(cn)) {
                    toReinstate.add(cn);
                }
            }
            reinstating.put(gen, toReinstate);
            for (int cn : toReinstate) {
                send(cn, REINSTATE, gen);
            }
            lastSend = System.nanoTime();
            while (!toReinstate.isEmpty()) {
                if (!liveness.isMember(self)) {
                    throw new LapsedMemberException(self, "coordinating a lock drain");
                }
                toReinstate.removeIf(cn -> cn != self && !liveness.isMember(cn));
                if (System.nanoTime() - lastSend > 20_000_000L) {
                    for (int cn : toReinstate) {
                        send(cn, REINSTATE, gen); // a duplicate is ignored once reinstated
                    }
                    lastSend = System.nanoTime();
                }
                LockSupport.parkNanos(this, 100_000);
            }
            reinstatedAll = true;
        } finally {
            awaiting.remove(gen);
            reinstating.remove(gen);
            if (!resetBegun || reinstatedAll) {
                for (int cn : drainedAll) {
                    if (cn == self || liveness.isMember(cn)) {
                        send(cn, RESUME, gen);
                    }
                }
            } // else: holds may sit on reset locks; the members stay frozen for the next drain
        }
    }

    /** Drain messages that matched no drain in progress. */
    public long staleMessages() {
        return stale.get();
    }

    /** Reinstatements that threw and were tried again. */
    public long reinstatementFailures() {
        return reinstatementFailures.get();
    }

    /** Freezes ended by a RESUME before this member's reinstatement for them finished (a protocol fault). */
    public long resumedBeforeReinstated() {
        return reinstatedLate.get();
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
