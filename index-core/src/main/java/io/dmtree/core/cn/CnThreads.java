package io.dmtree.core.cn;

import java.lang.ref.WeakReference;

/**
 * Dense ids {@code 0 .. capacity-1} for the threads of one compute node. Lock designs put these
 * ids into MN waiter entries and CN-side per-thread state, so they must stay small. A thread gets
 * its id on first use and keeps it for life. When every id is taken, the ids of threads that have
 * ended are taken back (a thread that ended holds no lock: it released whatever it acquired), so
 * a process may run any number of short-lived threads as long as at most {@code capacity} use the
 * node at once.
 */
public final class CnThreads {
    private final int capacity;
    private final WeakReference<?>[] owners;
    private int next;
    private final ThreadLocal<Integer> id = ThreadLocal.withInitial(this::claim);

    public CnThreads(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("thread capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.owners = new WeakReference<?>[capacity];
    }

    public int capacity() {
        return capacity;
    }

    /** The calling thread's id. */
    public int current() {
        return id.get();
    }

    private synchronized int claim() {
        Thread me = Thread.currentThread();
        for (int scanned = 0; scanned < capacity; scanned++) {
            int candidate = next;
            next = (next + 1) % capacity;
            WeakReference<?> owner = owners[candidate];
            Thread t = owner == null ? null : (Thread) owner.get();
            if (t == null || !t.isAlive()) {
                owners[candidate] = new WeakReference<>(me);
                return candidate;
            }
        }
        throw new IllegalStateException("more than " + capacity
                + " live threads use this compute node at once; raise the compute node's thread capacity");
    }
}
