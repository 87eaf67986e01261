package io.dmtree.core.tree;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A compute node's writer slots of its {@link RedoLog}: which thread may write which redo cells.
 * CN-local; no memory-node traffic.
 *
 * <p>Invariants: a slot has at most one owner at a time (taken by CAS from 0 to 1, returned by a
 * volatile store of 0, which also publishes the owner's sequence numbers to the next owner); each
 * cell's sequence number grows by one per record its slot's owners write, skipping 0, so two
 * successive records of one cell never share a sequence number. Slots sit a cache line apart so
 * threads on different slots do not contend. Claiming never allocates.
 */
final class RedoSlots {
    private static final long CLAIM_TIMEOUT_NANOS = 30_000_000_000L;
    /** Ints per 64-byte line. */
    private static final int PAD = 16;

    private final int slots;
    private final AtomicIntegerArray taken;
    private final int[] seqs;
    private final AtomicInteger nextPreferred = new AtomicInteger();

    RedoSlots(int slots) {
        if (slots < 1) {
            throw new IllegalArgumentException("at least one redo slot: " + slots);
        }
        this.slots = slots;
        this.taken = new AtomicIntegerArray(slots * PAD);
        this.seqs = new int[slots * PAD];
    }

    int slots() {
        return slots;
    }

    /** A slot for a new writer thread to prefer: distinct for the first {@link #slots()} threads. */
    int preferredSlot() {
        return Math.floorMod(nextPreferred.getAndIncrement(), slots);
    }

    /**
     * Takes a free slot, {@code preferred} when it is free; waits (yielding, bounded by 30 s) while
     * every slot is in use. A caller must hold no lock while it claims.
     */
    int claim(int preferred) {
        if (taken.compareAndSet(preferred * PAD, 0, 1)) {
            return preferred;
        }
        long deadline = System.nanoTime() + CLAIM_TIMEOUT_NANOS;
        while (true) {
            for (int i = 1; i <= slots; i++) {
                int s = (preferred + i) % slots;
                if (taken.get(s * PAD) == 0 && taken.compareAndSet(s * PAD, 0, 1)) {
                    return s;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("no redo slot came free in 30 s: all " + slots
                        + " writers of this compute node are stuck in one operation");
            }
            Thread.yield();
        }
    }

    void release(int slot) {
        if (taken.get(slot * PAD) != 1) {
            throw new IllegalStateException("redo slot " + slot + " released but not taken");
        }
        taken.set(slot * PAD, 0);
    }

    /** The next sequence number of cell {@code cell} of {@code slot}; only the slot's owner calls it. */
    int nextSeq(int slot, int cell) {
        int i = slot * PAD + cell;
        int seq = seqs[i] + 1;
        if (seq == 0) {
            seq = 1;
        }
        seqs[i] = seq;
        return seq;
    }
}
