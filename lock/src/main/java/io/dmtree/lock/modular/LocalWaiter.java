package io.dmtree.lock.modular;

import io.dmtree.core.lock.LockMode;
import io.dmtree.lock.recovery.WaitWatch;

import java.util.concurrent.locks.LockSupport;

/** A thread waiting in its compute node's cohort: granted locally, or told to lead the next MN request. */
final class LocalWaiter {
    static final int WAITING = 0;
    static final int GRANTED = 1;
    static final int LEAD = 2;
    private static final int SPINS = 200;

    final Thread thread = Thread.currentThread();
    final LockMode mode;
    volatile int state = WAITING;

    LocalWaiter(LockMode mode) {
        this.mode = mode;
    }

    void wake(int newState) {
        state = newState;
        LockSupport.unpark(thread);
    }

    /** Waits to be granted or told to lead; consults membership at {@code watch}'s bound. */
    int await(WaitWatch watch) {
        int spins = 0;
        int s;
        watch.begin();
        while ((s = state) == WAITING) {
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
            } else {
                watch.poll("waiting in a modular lock's cohort"); // throws once this node departed
                LockSupport.parkNanos(this, watch.parkNanos());
            }
        }
        return s;
    }
}
