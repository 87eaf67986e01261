package io.dmtree.lock.modular;

import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
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
 *   <li><b>admit</b> (mode decides, then holder adds or waiter records): one FAA adds the request
 *   to S (and to E if exclusive). The word before the add decides: the request holds at once when
 *   S was 0, or when it is shared and E was 0; otherwise it waits. Either way its position is
 *   {@code H + S}.</li>
 *   <li><b>enqueue</b>: every request that did not find the queue empty WRITEs its entry, the
 *   waiters so the releaser can find them, the shared holders so a releaser can tell them from a
 *   waiter whose entry is still in flight.</li>
 *   <li><b>release</b> (holder removes, mode updates, waiter selects): one FAA pops a position
 *   (H+1, S-1, E-1 if exclusive) and one READ fetches the ring, posted together after the caller's
 *   write-back. From the word before the FAA: the first position behind the popped one is
 *   {@code H+1}, the last queued is {@code H+S-1}.
 *   <ul>
 *     <li>exclusive release, S &gt; 1: the request at H+1 is granted; if it is shared, so is every
 *     consecutive shared request up to the first exclusive one or the end of the queue;</li>
 *     <li>shared release, S &gt; 1, E &gt; 0: if the request at H+1 is exclusive this was the last
 *     shared holder and it is granted; a shared request at H+1 is a holder, and the last of those
 *     will grant;</li>
 *     <li>otherwise nobody waits on this release.</li>
 *   </ul>
 *   An entry that is not yet written for its position (its owner's WRITE is still in flight) is
 *   re-read alone until it is; it cannot be skipped because its owner has done its FAA.</li>
 * </ul>
 *
 * <p>Invariants: S and E count the queued requests and their exclusive ones; the holders are a
 * prefix of the queue; each position in the queue has exactly one owner; an entry needed by a
 * releaser is not overwritten, because at most one request per compute node is queued per lock
 * (the cohort) and the ring has at least as many slots as there are compute nodes.
 */
public final class MnLockQueue {
    private final Verbs verbs;
    private final int queueSlots;
    private final int computeNode;

    /** Per-thread buffers of one compute node's client. */
    static final class Scratch {
        final UnsafeBuffer ring;
        final UnsafeBuffer entry = new UnsafeBuffer(new byte[ENTRY_BYTES]);
        final VerbBatch batch = new VerbBatch();
        final WaiterSelection selection = new WaiterSelection();
        long rereads;

        Scratch(int queueSlots) {
            ring = new UnsafeBuffer(new byte[queueSlots * ENTRY_BYTES]);
        }
    }

    /** The outcome of {@link #admit}. */
    public record Admission(boolean granted, int position, boolean mustWriteEntry) {
    }

    MnLockQueue(Verbs verbs, int queueSlots, int computeNode) {
        this.verbs = verbs;
        this.queueSlots = queueSlots;
        this.computeNode = computeNode;
    }

    int queueSlots() {
        return queueSlots;
    }

    Scratch newScratch() {
        return new Scratch(queueSlots);
    }

    /** Acquire step 1: one FAA on the lock word. */
    public Admission admit(long lock, LockMode mode) {
        boolean exclusive = mode == LockMode.EXCLUSIVE;
        long before = verbs.faa(lock, exclusive ? ACQUIRE_EXCLUSIVE : ACQUIRE_SHARED);
        int size = size(before);
        if (size >= queueSlots) {
            throw new IllegalStateException("lock " + GlobalAddress.toString(lock) + " has " + size
                    + " queued requests but only " + queueSlots + " entries: more compute nodes use it than the"
                    + " lock design was sized for, or its memory is not a modular lock (" + describe(before) + ")");
        }
        boolean granted = size == 0 || (!exclusive && exclusive(before) == 0);
        return new Admission(granted, tail(before), size > 0);
    }

    /** Acquire step 2 (when the queue was not empty): WRITE this request's entry. */
    public void enqueue(long lock, int position, int thread, LockMode mode, Scratch s) {
        long e = entry(position, computeNode, thread, mode == LockMode.EXCLUSIVE);
        s.entry.putLong(0, e, ByteOrder.LITTLE_ENDIAN);
        verbs.write(GlobalAddress.plus(lock, entryOffset(position, queueSlots)), s.entry, 0, ENTRY_BYTES);
    }

    /** Release: appends the FAA and the READ of the ring to {@code batch}; returns the FAA's index. */
    public int appendRelease(VerbBatch batch, long lock, LockMode mode, Scratch s) {
        int faa = batch.size();
        batch.faa(lock, mode == LockMode.EXCLUSIVE ? RELEASE_EXCLUSIVE : RELEASE_SHARED);
        batch.read(GlobalAddress.plus(lock, QUEUE_OFFSET), s.ring, 0, queueSlots * ENTRY_BYTES);
        return faa;
    }

    /**
     * Release, after the batch was posted: the waiter manager selects the requests the release
     * granted, from the word before the FAA and the ring read with it. Re-reads entries still in
     * flight. The selection is in {@code s.selection}.
     */
    public WaiterSelection select(long lock, LockMode releasedMode, long wordBefore, Scratch s) {
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
        int next = (head(wordBefore) + 1) & 0xFFFF;
        int last = (head(wordBefore) + size - 1) & 0xFFFF;
        if (releasedMode == LockMode.SHARED) {
            if (exclusive(wordBefore) == 0) {
                return sel;
            }
            while (true) {
                long e = slot(lock, next, s);
                if (isFor(e, next)) {
                    if (entryExclusive(e)) {
                        sel.add(e);
                        sel.waitersBehind((last - next) & 0xFFFF);
                    }
                    return sel;
                }
                if (isNewerThan(e, next)) {
                    return sel; // that request already held and left: it was a shared holder
                }
                reread(lock, next, s);
            }
        }
        int p = next;
        while (true) {
            long e = awaitWritten(lock, p, s);
            if (entryExclusive(e)) {
                if (sel.count() == 0) {
                    sel.add(e);
                    p = (p + 1) & 0xFFFF;
                }
                break;
            }
            sel.add(e);
            if (p == last) {
                p = (p + 1) & 0xFFFF;
                break;
            }
            p = (p + 1) & 0xFFFF;
        }
        sel.waitersBehind((last - p + 1) & 0xFFFF);
        return sel;
    }

    private long slot(long lock, int position, Scratch s) {
        return s.ring.getLong((position & (queueSlots - 1)) * ENTRY_BYTES, ByteOrder.LITTLE_ENDIAN);
    }

    private long awaitWritten(long lock, int position, Scratch s) {
        while (true) {
            long e = slot(lock, position, s);
            if (isFor(e, position)) {
                return e;
            }
            if (isNewerThan(e, position)) {
                throw new IllegalStateException("entry of waiting position " + position + " of lock "
                        + GlobalAddress.toString(lock) + " was overwritten by a later lap");
            }
            reread(lock, position, s);
        }
    }

    /** READs one entry into the ring copy (its owner's WRITE was still in flight). */
    private void reread(long lock, int position, Scratch s) {
        s.rereads++;
        Thread.onSpinWait();
        int off = (position & (queueSlots - 1)) * ENTRY_BYTES;
        verbs.read(GlobalAddress.plus(lock, QUEUE_OFFSET + off), s.ring, off, ENTRY_BYTES);
    }

    /** modular-mn-grant: the grant manager on the MN marks the selected entries granted, in one batch. */
    public void markGranted(long lock, WaiterSelection sel, Scratch s, UnsafeBuffer grantBuffer) {
        VerbBatch b = s.batch;
        b.clear();
        for (int i = 0; i < sel.count(); i++) {
            long e = sel.entry(i);
            int behind = sel.waitersBehind() + (sel.count() - 1 - i);
            grantBuffer.putLong(i * ENTRY_BYTES, granted(e, behind), ByteOrder.LITTLE_ENDIAN);
            b.write(GlobalAddress.plus(lock, entryOffset(entryPosition(e), queueSlots)), grantBuffer,
                    i * ENTRY_BYTES, ENTRY_BYTES);
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
