package io.dmtree.lock.baseline;

import io.dmtree.lock.recovery.Quiescence;
import io.dmtree.lock.recovery.WaitWatch;

import java.util.concurrent.locks.LockSupport;

/** One thread's MCS queue node for one lock, in its compute node's memory. */
final class McsQueueNode {
    static final int WAITING = 0;
    static final int GRANTED = 1;
    /** alock: granted, but the cohort's budget is spent and the Peterson lock must be taken again. */
    static final int REACQUIRE = 2;
    /** The wait gave up: a drain began (the node is abandoned). */
    static final int ABORTED = -1;

    final Thread owner;
    final long tag;
    volatile long next;
    volatile int state = WAITING;
    volatile int budget;
    /** alock: whether this node belongs to the local cohort of its lock. */
    boolean local;
    /** The drain generation this hold was reinstated for (0: none), see {@link McsQueueNodes#reinstate}. */
    long reinstatedIn;

    McsQueueNode(long tag) {
        this(tag, Thread.currentThread());
    }

    McsQueueNode(long tag, Thread owner) {
        this.tag = tag;
        this.owner = owner;
    }

    void setNext(long successor) {
        next = successor;
        LockSupport.unpark(owner);
    }

    void grant(int newState, int newBudget) {
        budget = newBudget;
        state = newState;
        LockSupport.unpark(owner);
    }

    /** Waits for a grant; {@link #ABORTED} when a drain that began after {@code epoch} interrupts it. */
    int awaitGrant(Quiescence quiescence, long epoch, WaitWatch watch) {
        int spins = 0;
        int s;
        watch.begin();
        while ((s = state) == WAITING) {
            if (spins < 200) {
                spins++;
                Thread.onSpinWait();
                continue;
            }
            if (quiescence.aborting(epoch)) {
                return ABORTED;
            }
            watch.poll("waiting in an MCS queue");
            LockSupport.parkNanos(this, watch.parkNanos());
        }
        return s;
    }

    /** Waits for the successor to link; 0 when the client froze (a reset follows). */
    long awaitNext(Quiescence quiescence, WaitWatch watch) {
        int spins = 0;
        long n;
        watch.begin();
        while ((n = next) == 0) {
            if (spins < 200) {
                spins++;
                Thread.onSpinWait();
                continue;
            }
            if (quiescence.frozen()) {
                return 0;
            }
            watch.poll("waiting for an MCS successor to link");
            LockSupport.parkNanos(this, watch.parkNanos());
        }
        return n;
    }
}
