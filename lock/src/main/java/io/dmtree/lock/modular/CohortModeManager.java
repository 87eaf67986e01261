package io.dmtree.lock.modular;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The mode manager of one compute node's cohort on one lock: what this CN holds at the memory
 * node, in which mode its local holders hold, and the grant count of the current tenure. One
 * atomic word, so a shared request joins shared local holders with one CAS and no mutex.
 *
 * <pre>
 *  63            22 21 20 19 18 17  16 15                 0
 * +----------------+--+--+--+--+------+--------------------+
 * |      zero      |R |Q |L |M |phase |   grant count      |
 * +----------------+--+--+--+--+------+--------------------+
 *   grant count: grants given in this tenure (the MN grant counts as the first)
 *   phase: FREE (no MN request), ACQUIRING (the leader is at the MN), HELD, RELEASING
 *   M: the MN request is exclusive          L: the local holders hold exclusively
 *   Q: local waiters are queued (joins stop, FIFO)
 *   R: a remote waiter was behind this CN when the MN granted it
 * </pre>
 *
 * <p>Grant counting: every grant this manager makes increments the count; the holder manager
 * records how many grants it has absorbed as holders. A release may update the mode only while
 * both counts agree: a join that was granted but has not reached the holder manager yet shows as
 * a difference, and the release is abandoned to the joiner, which releases later.
 */
final class CohortModeManager {
    static final int FREE = 0;
    static final int ACQUIRING = 1;
    static final int HELD = 2;
    static final int RELEASING = 3;

    static final long GRANTS_MASK = 0xFFFF;
    static final int PHASE_SHIFT = 16;
    static final long MN_EXCLUSIVE = 1L << 18;
    static final long LOCAL_EXCLUSIVE = 1L << 19;
    static final long QUEUED = 1L << 20;
    static final long REMOTE_WAITING = 1L << 21;

    private final AtomicLong word = new AtomicLong();

    long get() {
        return word.get();
    }

    boolean compareAndSet(long expected, long desired) {
        return word.compareAndSet(expected, desired);
    }

    /** Sets bits under the cohort mutex while joiners may CAS the grant count. */
    void setQueued(boolean queued) {
        while (true) {
            long w = word.get();
            long n = queued ? w | QUEUED : w & ~QUEUED;
            if (w == n || word.compareAndSet(w, n)) {
                return;
            }
        }
    }

    /**
     * A shared request joins shared local holders without the mutex: allowed while this CN holds
     * the lock, its local holders are shared, nobody is queued locally and the handover budget
     * is not used up. Returns whether the grant was made (the caller then joins the holders).
     */
    boolean tryJoinShared(int maxGrants, boolean remoteAgeExceeded) {
        while (true) {
            long w = word.get();
            if (phase(w) != HELD || (w & (LOCAL_EXCLUSIVE | QUEUED)) != 0 || grants(w) >= maxGrants
                    || ((w & REMOTE_WAITING) != 0 && remoteAgeExceeded)) {
                return false;
            }
            if (word.compareAndSet(w, w + 1)) {
                return true;
            }
        }
    }

    static int phase(long w) {
        return (int) ((w >>> PHASE_SHIFT) & 3);
    }

    static int grants(long w) {
        return (int) (w & GRANTS_MASK);
    }

    static boolean mnExclusive(long w) {
        return (w & MN_EXCLUSIVE) != 0;
    }

    static boolean localExclusive(long w) {
        return (w & LOCAL_EXCLUSIVE) != 0;
    }

    static boolean queued(long w) {
        return (w & QUEUED) != 0;
    }

    static boolean remoteWaiting(long w) {
        return (w & REMOTE_WAITING) != 0;
    }

    static long word(int phase, boolean mnExclusive, boolean localExclusive, boolean queued, boolean remoteWaiting,
                     int grants) {
        return ((long) phase << PHASE_SHIFT) | (mnExclusive ? MN_EXCLUSIVE : 0) | (localExclusive ? LOCAL_EXCLUSIVE : 0)
                | (queued ? QUEUED : 0) | (remoteWaiting ? REMOTE_WAITING : 0) | (grants & GRANTS_MASK);
    }
}
