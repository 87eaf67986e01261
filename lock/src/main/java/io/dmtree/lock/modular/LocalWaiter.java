package io.dmtree.lock.modular;

import io.dmtree.core.lock.LockMode;

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

    int await() {
        int spins = 0;
        int s;
        while ((s = state) == WAITING) {
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
            }
        }
        return s;
    }
}
