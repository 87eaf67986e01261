package io.dmtree.core.wire;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes all connections of a {@link FrameServer} may hold beyond their session buffers. A
 * connection receiving a frame larger than its session buffer reserves the whole excess at once
 * (all or nothing), so a reservation never waits for another: every holder can finish its frame
 * as soon as its peer sends it, and the budget cannot deadlock. A connection that finds too little
 * left {@linkplain #await waits} without reading; every release wakes all waiters, which retry.
 *
 * <p>Lost wake-ups are excluded by the order of a waiter's steps: it enqueues itself, then
 * retries once, so a release that happened between its failed attempt and its enqueueing is seen
 * by the retry. A connection that got its bytes on the retry, or closed while waiting, removes its
 * entry (linear in the waiters, which are open connections, so bounded by the connection limit);
 * a woken connection that is not waiting ignores the call.
 */
final class ReceiveBudget {
    private final long capacity;
    private final AtomicLong reserved = new AtomicLong();
    private final ConcurrentLinkedQueue<FrameConnection> waiters = new ConcurrentLinkedQueue<>();

    ReceiveBudget(long capacity) {
        this.capacity = capacity;
    }

    boolean tryReserve(long bytes) {
        while (true) {
            long r = reserved.get();
            if (r + bytes > capacity) {
                return false;
            }
            if (reserved.compareAndSet(r, r + bytes)) {
                return true;
            }
        }
    }

    void release(long bytes) {
        if (bytes == 0) {
            return;
        }
        reserved.addAndGet(-bytes);
        FrameConnection c;
        while ((c = waiters.poll()) != null) {
            c.budgetReleased();
        }
    }

    /** Enqueues {@code c}; the caller then retries {@link #tryReserve} once. */
    void await(FrameConnection c) {
        waiters.add(c);
    }

    /** Drops {@code c} from the waiters (it got its bytes on the retry, or closed), so no entry outlives its connection. */
    void forget(FrameConnection c) {
        waiters.remove(c);
    }

    long capacity() {
        return capacity;
    }

    long reserved() {
        return reserved.get();
    }
}
