package io.dmtree.mn.membership;

import java.util.concurrent.TimeUnit;

/**
 * A change counter a waiter can sleep on without missing a wake-up: read {@link #seen()} before
 * looking at the state, then {@link #await} returns at once if anything signalled since.
 * ZooKeeper watchers call {@link #signal()}.
 */
final class ChangeSignal {
    private long changes;

    synchronized long seen() {
        return changes;
    }

    synchronized void signal() {
        changes++;
        notifyAll();
    }

    /** Waits until a change after {@code seen} or {@code nanos} pass. */
    synchronized void await(long seen, long nanos) throws InterruptedException {
        long deadline = System.nanoTime() + nanos;
        while (changes == seen) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }
}
