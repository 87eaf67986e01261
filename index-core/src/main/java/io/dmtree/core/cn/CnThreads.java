package io.dmtree.core.cn;

import java.lang.ref.Cleaner;
import java.util.BitSet;

/**
 * Dense ids {@code 0 .. capacity-1} for the threads of one compute node. Lock designs put these
 * ids into MN waiter entries and CN-side per-thread state, so they must stay small. A thread gets
 * its id on first use and keeps it for life; the id returns to the pool when the thread has ended
 * and its {@link Thread} object is collected.
 */
public final class CnThreads {
    private static final Cleaner CLEANER = Cleaner.create();

    private final int capacity;
    private final BitSet used;
    private final ThreadLocal<Slot> slot = ThreadLocal.withInitial(this::claim);

    private final class Slot {
        final int id;

        Slot(int id) {
            this.id = id;
        }
    }

    public CnThreads(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("thread capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.used = new BitSet(capacity);
    }

    public int capacity() {
        return capacity;
    }

    /** The calling thread's id. */
    public int current() {
        return slot.get().id;
    }

    private Slot claim() {
        int id;
        synchronized (used) {
            id = used.nextClearBit(0);
            if (id >= capacity) {
                throw new IllegalStateException("more than " + capacity
                        + " threads use this compute node at once; raise the compute node's thread capacity");
            }
            used.set(id);
        }
        Slot s = new Slot(id);
        CLEANER.register(Thread.currentThread(), () -> release(id));
        return s;
    }

    private void release(int id) {
        synchronized (used) {
            used.clear(id);
        }
    }
}
