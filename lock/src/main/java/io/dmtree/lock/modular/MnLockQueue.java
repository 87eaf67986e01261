package io.dmtree.lock.modular;

import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import io.dmtree.lock.recovery.WaitWatch;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

import static io.dmtree.lock.modular.ModularLockLayout.*;

/**
 * The mode, holder and waiter managers fused on the memory node: one lock word and a ring of
 * waiter entries ({@link ModularLockLayout}), driven by one compute node through verbs.
 *
 * <h2>Protocol</h2>
 * Requests form one FIFO queue of positions. The holders are always a prefix of the queue: the
 * request at the head, or the shared requests before the first exclusive one.
 * <ul>
 *   <li><b>admit</b> (mode decides, then holder adds or waiter records): one FAA sets this CN's
 *   field of the word to the request's mode. The word before the add decides: the request holds
 *   at once when S was 0, or when it is shared and E was 0; otherwise it waits. Either way its
 *   position is {@code H + S}.</li>
 *   <li><b>enqueue</b>: a waiting request WRITEs its entry so the releaser can find it. A waiting
 *   exclusive request posts a READ of the word behind that WRITE: if the head has already reached
 *   its position it holds (the shared releaser that made it head may have read the ring before
 *   the entry landed and granted nobody). Requests granted at once write nothing, so no late WRITE
 *   of a holder can land in a slot the ring has since given to a later position.</li>
 *   <li><b>release</b> (holder removes, mode updates, waiter selects): one FAA pops a position
 *   (H+1, this CN's field back to none) and one READ fetches the ring, posted together after the
 *   caller's write-back. From the word before the FAA: the first position behind the popped one is
 *   {@code H+1}, the last queued is {@code H+S-1}.
 *   <ul>
 *     <li>exclusive release, S &gt; 1: the request at H+1 is granted; if it is shared, so is every
 *     consecutive shared request up to the first exclusive one or the end of the queue;</li>
 *     <li>shared release, S &gt; 1, E &gt; 0: if the entry at H+1 is written and exclusive this was
 *     the last shared holder and it is granted; otherwise H+1 is a shared holder (which wrote
 *     nothing) or an exclusive waiter whose WRITE is in flight and which grants itself by its READ
 *     of the word. Both may grant the same request: the grant carries the position and the
 *     waiter's cohort lets only the first take effect (grant counting);</li>
 *     <li>otherwise nobody waits on this release.</li>
 *   </ul>
 *   After an exclusive release every position from H+1 on is a waiter: an entry not yet written
 *   for its position (its owner's WRITE is still in flight) is re-read until it is; at H+1 the
 *   re-read also reads the word, since an exclusive waiter there may have granted itself and left
 *   (see {@code awaitWrittenOrGone}).</li>
 * </ul>
 *
 * <h2>Departed members</h2>
 * A waiter whose owner departed between its FAA and its WRITE never writes. The re-read of such
 * an entry is bounded: at each liveness bound the releaser reads the ring again and names the
 * compute nodes the word before its FAA lists as queued (all of them waiters, after an exclusive
 * release) whose entries are missing. While one of them is a member it keeps waiting (a live
 * WRITE lands); once all are departed the missing position is theirs: if every one of them asked
 * in shared mode the position is a shared grantee and selection goes on past it, else selection
 * stops there. Either way the departed request now holds in the word's view and the recovery of
 * its owner releases it ({@link ModularRecovery}); the release itself completes normally. That
 * recovery runs beside the waiting releaser: it may release the departed request first and grant
 * the requests behind it, which then hold, release and clear their entries, so their owners, live
 * members, look missing to the verdict. So at each liveness bound the releaser also reads the
 * word: once the head has passed the missing position the queue has moved on without this
 * release, every grant it could still send is a duplicate, and selection stops there.
 *
 * <p>Invariants: the fields of the word name exactly the compute nodes with a queued request and
 * its mode, so S and E count the queued requests and their exclusive ones; H counts releases,
 * and since shared holders are interchangeable, H may pass a shared holder that still holds;
 * every request behind the first exclusive one waits until granted; only waiters write entries,
 * and a waiter's entry is written before it can be granted, so an entry a releaser needs is never
 * overwritten: at most one request per compute node is queued per lock (the cohort) and the ring
 * has at least as many slots as there are compute nodes. Positions are 32-bit: a duplicate grant
 * is assumed delivered before 2^32 further releases of the same lock.
 */
public final class MnLockQueue {
    /**
     * {@code awaitWritten} results that are not entries (a written entry has its present bit set):
     * the request has held and left, or its owner departed before writing (three verdicts).
     */
    static final long GONE = 0;
    static final long DEPARTED_SHARED = 1;
    static final long DEPARTED_EXCLUSIVE = 2;
    static final long DEPARTED_UNKNOWN = 3;

    private final Verbs verbs;
    private final int queueSlots;
    private final int computeNode;
    private final MemberLiveness liveness;

    /** Per-thread buffers of one compute node's client. */
    static final class Scratch {
        final UnsafeBuffer ring;
        final UnsafeBuffer entry = new UnsafeBuffer(new byte[ENTRY_BYTES]);
        final UnsafeBuffer word = new UnsafeBuffer(new byte[Long.BYTES]);
        final VerbBatch batch = new VerbBatch();
        final WaiterSelection selection = new WaiterSelection();
        final WaitWatch watch;
        long rereads;

        Scratch(int queueSlots, WaitWatch watch) {
            ring = new UnsafeBuffer(new byte[queueSlots * ENTRY_BYTES]);
            this.watch = watch;
        }
    }

    /** The outcome of {@link #admit}. */
    public record Admission(boolean granted, int position, int sizeBefore) {
    }

    MnLockQueue(Verbs verbs, int queueSlots, int computeNode, MemberLiveness liveness) {
        this.verbs = verbs;
        this.queueSlots = queueSlots;
        this.computeNode = computeNode;
        this.liveness = liveness;
    }

    int queueSlots() {
        return queueSlots;
    }

    Verbs verbs() {
        return verbs;
    }

    MemberLiveness liveness() {
        return liveness;
    }

    Scratch newScratch(WaitWatch watch) {
        return new Scratch(queueSlots, watch);
    }

    /** Acquire step 1: one FAA on the lock word. */
    public Admission admit(long lock, LockMode mode) {
        boolean exclusive = mode == LockMode.EXCLUSIVE;
        long before = verbs.faa(lock, acquireDelta(computeNode, exclusive));
        if (field(before, computeNode) != FIELD_NONE) {
            throw new IllegalStateException("lock " + GlobalAddress.toString(lock) + " already had a request of compute"
                    + " node " + computeNode + " (" + describe(before) + "): two clients share a compute node id, or"
                    + " this memory is not a modular lock");
        }
        int size = size(before);
        if (size >= queueSlots) {
            throw new IllegalStateException("lock " + GlobalAddress.toString(lock) + " has " + size
                    + " queued requests but only " + queueSlots + " entries: more compute nodes use it than the"
                    + " lock design was sized for, or its memory is not a modular lock (" + describe(before) + ")");
        }
        boolean granted = size == 0 || (!exclusive && exclusive(before) == 0);
        return new Admission(granted, tail(before), size);
    }

    /**
     * Acquire step 2 (the request waits): WRITE its entry {@code e} (see {@link #entryFor}); an
     * exclusive request also READs the word
     * in the same batch. Returns the word read, or -1 for a shared request; with
     * {@link ModularLockLayout#atHead} it tells whether the request already holds.
     */
    public long enqueue(long lock, int position, long e, LockMode mode, Scratch s) {
        boolean exclusive = mode == LockMode.EXCLUSIVE;
        s.entry.putLong(0, e, ByteOrder.LITTLE_ENDIAN);
        long slot = GlobalAddress.plus(lock, entryOffset(position, queueSlots));
        if (!exclusive) {
            verbs.write(slot, s.entry, 0, ENTRY_BYTES);
            return -1;
        }
        VerbBatch b = s.batch;
        b.clear();
        b.write(slot, s.entry, 0, ENTRY_BYTES);
        b.read(lock, s.word, 0, Long.BYTES);
        verbs.post(b);
        b.clear();
        return s.word.getLong(0);
    }

    /** The entry of this CN's request at {@code position}. */
    public long entryFor(int position, int thread, LockMode mode) {
        return entry(position, computeNode, thread, mode == LockMode.EXCLUSIVE);
    }

    /**
     * Release: appends to {@code batch} the clearing of this request's own entry if it waited
     * (a CAS from that entry to zero, and with the MN grant manager a second one from its granted
     * form, so no entry outlives its owner and a later lap cannot mistake it for its own), then
     * the FAA and the READ of the ring; returns the FAA's index.
     */
    public int appendRelease(VerbBatch batch, long lock, LockMode mode, long ownEntry, int ownPosition,
                             boolean clearGrantedForm, Scratch s) {
        if (ownEntry != 0) {
            long slot = GlobalAddress.plus(lock, entryOffset(ownPosition, queueSlots));
            batch.cas(slot, ownEntry, 0);
            if (clearGrantedForm) {
                batch.cas(slot, granted(ownEntry, 0), 0);
            }
        }
        int faa = batch.size();
        batch.faa(lock, releaseDelta(computeNode, mode == LockMode.EXCLUSIVE));
        batch.read(GlobalAddress.plus(lock, QUEUE_OFFSET), s.ring, 0, queueSlots * ENTRY_BYTES);
        return faa;
    }

    /**
     * Release, after the batch was posted: the waiter manager selects the requests the release
     * granted, from the word before the FAA and the ring read with it ({@code s.ring}). Re-reads
     * entries still in flight, for a bounded time once their owners have departed (see the class
     * comment). {@code releaser} is the compute node whose request was popped (this node, or a
     * departed one whose request recovery released). The selection is in {@code s.selection}.
     */
    public WaiterSelection select(long lock, LockMode releasedMode, long wordBefore, int releaser, Scratch s) {
        WaiterSelection sel = s.selection;
        sel.clear();
        int size = size(wordBefore);
        if (size < 1) {
            throw new IllegalStateException("released lock " + GlobalAddress.toString(lock)
                    + " that the lock word shows free (" + describe(wordBefore) + ")");
        }
        if (size == 1) {
            return sel;
        }
        int next = head(wordBefore) + 1;
        int last = head(wordBefore) + size - 1;
        if (releasedMode == LockMode.SHARED) {
            if (exclusive(wordBefore) > 0) {
                long e = slot(next, s);
                if (isFor(e, next) && entryExclusive(e)) {
                    sel.add(e, next);
                    sel.waitersBehind(last - next);
                }
            }
            return sel;
        }
        int p = next;
        boolean firstMayBeGone = exclusive(wordBefore) >= 2;
        while (true) {
            long e;
            if (p == next && firstMayBeGone) {
                e = awaitWrittenOrGone(lock, p, wordBefore, releaser, s);
            } else {
                e = awaitWritten(lock, p, wordBefore, releaser, s);
            }
            if (e == GONE) {
                break; // the request at p has held and left (it granted itself, or recovery released it)
            }
            if (e == DEPARTED_UNKNOWN) {
                break; // a departed waiter of unknown mode: its recovery goes on from here
            }
            boolean exclusive = e == DEPARTED_EXCLUSIVE || (e != DEPARTED_SHARED && entryExclusive(e));
            if (exclusive) {
                if (p == next) {
                    if (e != DEPARTED_EXCLUSIVE) {
                        sel.add(e, p);
                    }
                    p++;
                }
                break;
            }
            if (e != DEPARTED_SHARED) {
                sel.add(e, p); // a departed shared waiter is granted too, with no message to send
            }
            if (p == last) {
                p++;
                break;
            }
            p++;
        }
        sel.waitersBehind(last - p + 1);
        return sel;
    }

    private long slot(int position, Scratch s) {
        return s.ring.getLong((position & (queueSlots - 1)) * ENTRY_BYTES, ByteOrder.LITTLE_ENDIAN);
    }

    private long awaitWritten(long lock, int position, long wordBefore, int releaser, Scratch s) {
        long e = slot(position, s);
        if (isFor(e, position)) {
            return e;
        }
        WaitWatch watch = s.watch;
        watch.begin();
        while (true) {
            reread(lock, position, s); // anything else is an older lap: the owner's WRITE is in flight
            e = slot(position, s);
            if (isFor(e, position)) {
                return e;
            }
            if (watch.poll("waiting for a waiter's entry to land") != WaitWatch.WAIT) {
                if (passed(lock, position, s)) {
                    return GONE;
                }
                long verdict = departedVerdict(lock, wordBefore, releaser, s);
                if (verdict != 0) {
                    return verdict;
                }
            }
        }
    }

    /**
     * Whether the head of the queue has moved past {@code position}: its request has held and
     * been released, so this selection is out of date and has nothing left to grant. While a
     * releaser waits for a missing entry the queue can move on without it: a departed request at
     * the missing position is released by its owner's recovery, which selects and grants the
     * requests behind it itself, and a waiter that heard nothing grants itself by the state. They
     * may then hold, release and clear their entries, so the verdict below, which looks for their
     * entries, would wait for live members forever. Looked at once per liveness bound, with the
     * verdict (not on the fast path).
     */
    private boolean passed(long lock, int position, Scratch s) {
        verbs.read(lock, s.word, 0, Long.BYTES);
        return head(s.word.getLong(0)) - position > 0;
    }

    /**
     * The first position after an exclusive release, when another exclusive request was queued:
     * if it is an exclusive waiter whose WRITE landed after our READ, it grants itself (its READ
     * of the word sees it at the head) and may even release, clearing its entry, before we look
     * again. So each re-read also READs the word: once the head has moved past the position, its
     * request has held and left (a shared request there could not have: it waits for our grant,
     * and with another exclusive request queued no shared request is granted at once, so the
     * head cannot pass it). Returns the entry, {@link #GONE} when the request is gone, or a
     * departed verdict.
     */
    private long awaitWrittenOrGone(long lock, int position, long wordBefore, int releaser, Scratch s) {
        long e = slot(position, s);
        if (isFor(e, position)) {
            return e;
        }
        WaitWatch watch = s.watch;
        watch.begin();
        while (true) {
            s.rereads++;
            Thread.onSpinWait();
            int off = (position & (queueSlots - 1)) * ENTRY_BYTES;
            VerbBatch b = s.batch;
            b.clear();
            b.read(GlobalAddress.plus(lock, QUEUE_OFFSET + off), s.ring, off, ENTRY_BYTES);
            b.read(lock, s.word, 0, Long.BYTES);
            verbs.post(b);
            b.clear();
            e = slot(position, s);
            if (isFor(e, position)) {
                return e;
            }
            if (head(s.word.getLong(0)) != position) {
                return GONE;
            }
            if (watch.poll("waiting for a waiter's entry to land") != WaitWatch.WAIT) {
                long verdict = departedVerdict(lock, wordBefore, releaser, s);
                if (verdict != 0) {
                    return verdict;
                }
            }
        }
    }

    /**
     * Whether a missing entry can be given up on. After an exclusive release every compute node the
     * word before it names, except the releaser, is a waiter at a position in (H, H+S) and writes
     * its entry there. Reads the whole ring again; the nodes whose entries are not there are the
     * candidates for the missing position. Returns 0 (keep waiting) while one of them is a member,
     * else {@link #DEPARTED_SHARED} when all of them are shared requests, {@link #DEPARTED_EXCLUSIVE}
     * when all are exclusive, {@link #DEPARTED_UNKNOWN} when modes differ.
     */
    private long departedVerdict(long lock, long wordBefore, int releaser, Scratch s) {
        verbs.read(GlobalAddress.plus(lock, QUEUE_OFFSET), s.ring, 0, queueSlots * ENTRY_BYTES);
        int h = head(wordBefore);
        int size = size(wordBefore);
        int accounted = 0;
        for (int i = 0; i < queueSlots; i++) {
            long e = s.ring.getLong(i * ENTRY_BYTES, ByteOrder.LITTLE_ENDIAN);
            if (!isWritten(e)) {
                continue;
            }
            int d = (short) (entryPosition(e) - h);
            if (d >= 1 && d < size && entryComputeNode(e) < MAX_COMPUTE_NODES) {
                accounted |= 1 << entryComputeNode(e);
            }
        }
        boolean shared = false;
        boolean exclusive = false;
        boolean any = false;
        for (int cn = 0; cn < MAX_COMPUTE_NODES; cn++) {
            int f = field(wordBefore, cn);
            if (f == FIELD_NONE || cn == releaser || (accounted & (1 << cn)) != 0) {
                continue;
            }
            if (liveness.isMember(cn)) {
                return 0;
            }
            any = true;
            shared |= f == FIELD_SHARED;
            exclusive |= f == FIELD_EXCLUSIVE;
        }
        if (!any) {
            return 0; // everyone accounted for: the entry is in flight after all
        }
        return shared && exclusive ? DEPARTED_UNKNOWN : shared ? DEPARTED_SHARED : DEPARTED_EXCLUSIVE;
    }

    /** READs one entry into the ring copy (its owner's WRITE was still in flight). */
    private void reread(long lock, int position, Scratch s) {
        s.rereads++;
        Thread.onSpinWait();
        int off = (position & (queueSlots - 1)) * ENTRY_BYTES;
        verbs.read(GlobalAddress.plus(lock, QUEUE_OFFSET + off), s.ring, off, ENTRY_BYTES);
    }

    /**
     * A waiter that heard nothing for a while looks for itself: READs the word and the ring and
     * returns the number of waiters behind it if the state shows its request at {@code position}
     * holds (it is at the head, or it is shared and every request ahead of it is a written shared
     * entry), else -1. Conservative: a request ahead that wrote nothing may be an exclusive one, so
     * it is not assumed shared.
     */
    int holdsByState(long lock, int position, boolean exclusive, Scratch s) {
        VerbBatch b = s.batch;
        b.clear();
        b.read(lock, s.word, 0, Long.BYTES);
        b.read(GlobalAddress.plus(lock, QUEUE_OFFSET), s.ring, 0, queueSlots * ENTRY_BYTES);
        verbs.post(b);
        b.clear();
        long w = s.word.getLong(0);
        int h = head(w);
        int ahead = position - h;
        if (ahead < 0 || ahead >= size(w)) {
            return -1;
        }
        int behind = size(w) - 1 - ahead;
        if (ahead == 0) {
            return behind;
        }
        if (exclusive) {
            return -1;
        }
        for (int p = h; p != position; p++) {
            long e = slot(p, s);
            if (!isFor(e, p) || entryExclusive(e)) {
                return -1;
            }
        }
        return behind;
    }

    /**
     * modular-mn-grant: the grant manager on the MN marks the selected entries granted, one CAS
     * each from the entry as read, in one batch (a CAS, so a mark that lands after its owner
     * cleared the entry changes nothing).
     */
    public void markGranted(long lock, WaiterSelection sel, Scratch s) {
        VerbBatch b = s.batch;
        b.clear();
        for (int i = 0; i < sel.count(); i++) {
            long e = sel.entry(i);
            b.cas(GlobalAddress.plus(lock, entryOffset(sel.position(i), queueSlots)), e, granted(e, 0));
        }
        verbs.post(b);
        b.clear();
    }

    /** modular-mn-grant: READs this request's entry; returns it (granted or not). */
    public long pollEntry(long lock, int position, MutableDirectBuffer into) {
        verbs.read(GlobalAddress.plus(lock, entryOffset(position, queueSlots)), into, 0, ENTRY_BYTES);
        return into.getLong(0, ByteOrder.LITTLE_ENDIAN);
    }
}
