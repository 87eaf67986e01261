package io.dmtree.lock.baseline;

import java.util.concurrent.locks.LockSupport;

/** One thread's MCS queue node for one lock, in its compute node's memory. */
final class McsQueueNode {
    static final int WAITING = 0;
    static final int GRANTED = 1;
    /** alock: granted, but the cohort's budget is spent and the Peterson lock must be taken again. */
    static final int REACQUIRE = 2;

    final Thread owner = Thread.currentThread();
    volatile long next;
    volatile int state = WAITING;
    volatile int budget;
    /** alock: whether this node belongs to the local cohort of its lock. */
    boolean local;

    void setNext(long successor) {
        next = successor;
        LockSupport.unpark(owner);
    }

    void grant(int newState, int newBudget) {
        budget = newBudget;
        state = newState;
        LockSupport.unpark(owner);
    }

    int awaitGrant() {
        int spins = 0;
        int s;
        while ((s = state) == WAITING) {
            spins = pause(spins);
        }
        return s;
    }

    long awaitNext() {
        int spins = 0;
        long n;
        while ((n = next) == 0) {
            spins = pause(spins);
        }
        return n;
    }

    private int pause(int spins) {
        if (spins < 200) {
            Thread.onSpinWait();
            return spins + 1;
        }
        LockSupport.park(this);
        return spins;
    }
}
