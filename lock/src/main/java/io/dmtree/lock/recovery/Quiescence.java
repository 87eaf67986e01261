package io.dmtree.lock.recovery;

import io.dmtree.core.lock.LapsedMemberException;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * One compute node's side of a drain: how many lock operations each of its threads has in
 * progress on a client right now, and whether the client is frozen. Used by the designs whose
 * queue state lives partly on the compute nodes ({@code rdma-mcs}, {@code alock}) or whose
 * memory-node state does not say who holds ({@code dslr}); see {@link DrainProtocol}.
 *
 * <p>Each thread's slot counts its lock operations in progress, acquires and releases alike; a
 * hold between them does not count (a thread may hold several locks while it waits for the thaw,
 * and the drain must not wait for it: its holds are reinstated after the reset instead). An
 * operation {@link #enter}s first (one increment, then a read of the freeze count; a frozen client
 * makes it back out and wait for the thaw) and {@link #exit}s when it returns. A drain
 * {@link #freeze}s (freeze count up, then the epoch) and waits until every slot reads zero: an
 * increment made before the freeze count went up is seen by the drain, one made after it sees the
 * freeze and backs out before any verb (Dekker's pairing on sequentially consistent atomics), so
 * once drained no operation of the client runs until the thaw. Waits inside an acquire end when
 * the epoch they started at is superseded while frozen ({@link #aborting}); the acquire then backs
 * out and retries after the thaw. Waits inside a release (for a successor to link, for a drained
 * reset duty) end as soon as the client is frozen: the reset that follows puts the lock's
 * memory-node state back to its initial value.
 */
public final class Quiescence {
    private static final int STRIDE = 16; // longs per thread: one slot per 128 bytes, no false sharing
    private final AtomicLongArray slots;
    private final int capacity;
    private final AtomicInteger freezes = new AtomicInteger();
    private final AtomicLong epoch = new AtomicLong();

    public Quiescence(int threadCapacity) {
        this.capacity = threadCapacity;
        this.slots = new AtomicLongArray(threadCapacity * STRIDE);
    }

    /**
     * Registers an operation of {@code thread}, blocking while the client is frozen; returns the
     * epoch the operation's waits compare against. {@code watch} bounds the blocked wait: a
     * {@link LapsedMemberException} ends it if this node departs.
     */
    public long enter(int thread, WaitWatch watch) {
        int i = thread * STRIDE;
        while (true) {
            slots.incrementAndGet(i);
            long e = epoch.get();
            if (freezes.get() == 0) {
                return e;
            }
            slots.decrementAndGet(i);
            awaitThaw(watch);
        }
    }

    /** The operation of {@code thread} ended. */
    public void exit(int thread) {
        slots.decrementAndGet(thread * STRIDE);
    }

    /** An acquire's wait that started at {@code startEpoch} must give up: a drain froze the client since. */
    public boolean aborting(long startEpoch) {
        return freezes.get() > 0 && epoch.get() != startEpoch;
    }

    /** A release's wait must give up: the client is frozen, and a reset follows. */
    public boolean frozen() {
        return freezes.get() > 0;
    }

    void freeze() {
        freezes.incrementAndGet();
        epoch.incrementAndGet();
    }

    void thaw() {
        int f = freezes.decrementAndGet();
        if (f < 0) {
            throw new IllegalStateException("thawed more often than frozen");
        }
    }

    /** No thread has an operation in progress; meaningful only while frozen. */
    boolean drained() {
        for (int t = 0; t < capacity; t++) {
            if (slots.get(t * STRIDE) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Operations in progress of every thread, for messages. */
    long busy() {
        long n = 0;
        for (int t = 0; t < capacity; t++) {
            n += slots.get(t * STRIDE);
        }
        return n;
    }

    private void awaitThaw(WaitWatch watch) {
        watch.begin();
        while (freezes.get() > 0) {
            watch.poll("waiting for lock recovery to finish"); // throws if this node departed
            LockSupport.parkNanos(this, 200_000);
        }
    }

    /** For the coordinator's own client: whether a freeze is active (tests). */
    public int freezes() {
        return freezes.get();
    }
}
