package io.dmtree.lock.modular;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The threads of one compute node that use one lock. They put at most one request into the
 * lock's MN queue at a time, made by a leader thread; the CN's own mode, holder and waiter
 * managers ({@link CohortModeManager}, {@link CohortHolderManager}, {@link CohortWaiterManager})
 * share the MN grant among local threads and hand it over locally, bounded so remote waiters
 * are not starved.
 *
 * <h2>Algorithm</h2>
 * <ul>
 *   <li>Acquire: a shared request joins shared local holders with one CAS on the mode word when
 *   the tenure allows it ({@link CohortModeManager#tryJoinShared}) and then adds itself to the
 *   holders. Otherwise, under the mutex: if the cohort is FREE with nobody queued, the thread
 *   becomes the leader (phase ACQUIRING) and goes to the MN; else it queues locally and waits to
 *   be granted or told to lead.</li>
 *   <li>MN grant: the leader starts a tenure: phase HELD, grant count 1, holders 1, plus the
 *   consecutive shared local waiters when the tenure is shared.</li>
 *   <li>Release: a holder that is not the last leaves the holder manager with one CAS. The last
 *   holder, under the mutex, removes itself and reads the grant count the holder manager has
 *   absorbed; if the mode manager's count differs, a join is in flight and the release stops
 *   there (the joiner releases later). Otherwise the waiter manager selects local waiters the
 *   tenure may still serve, and the mode word is updated by CAS (validated again against the
 *   count): a local handover (no MN verb), or phase RELEASING followed by the MN release outside
 *   the mutex, after which the head local waiter, if any, leads the next MN request.</li>
 * </ul>
 *
 * <p>Invariants: local holders exist only in phase HELD; while holders are exclusive there is one;
 * the cohort has at most one MN request; the handover budget bounds grants per tenure by
 * {@code maxLocalGrants}, and grants stop early when a remote waiter was known at the MN grant and
 * the tenure has lasted longer than the remote-wait bound (the oldest remote waiter has waited at
 * least that long).
 */
final class Cohort {
    final long lock;
    final CohortModeManager mode = new CohortModeManager();
    final CohortHolderManager holders = new CohortHolderManager();
    final CohortWaiterManager waiters = new CohortWaiterManager();

    /** Start of the tenure, for the age bound of remote waiters. */
    volatile long tenureStartNanos;

    private static final long NONE = -1;
    /** The MN position (unsigned 32 bits) the leader waits on, or {@link #NONE}: what a grant must carry. */
    private final AtomicLong pendingPosition = new AtomicLong(NONE);
    volatile boolean mnGranted;
    volatile int mnWaitersBehind;
    /** The grant that took effect carried {@link GrantMessageLayout#FLAG_HANDED_ON}. */
    volatile boolean mnHandedOn;
    volatile Thread leader;

    /** The entry this CN's current MN request wrote (0 if it was granted at once) and its position. */
    long ownEntry;
    int ownPosition;
    /** MN requests behind this CN's request when the current tenure was granted. */
    int tenureWaitersBehind;

    Cohort(long lock) {
        this.lock = lock;
    }

    /** Called by the leader before its entry becomes visible at the MN. */
    void expectGrant(int position) {
        mnGranted = false;
        mnHandedOn = false;
        leader = Thread.currentThread();
        pendingPosition.set(Integer.toUnsignedLong(position));
    }

    /**
     * A grant for MN position {@code position} reached this CN, by message or by the leader's own
     * READ of the word. It takes effect only if it carries the position of the request this
     * cohort waits on, and only once (grant counting at the CN boundary): a second grant of the
     * same request, or a grant of an earlier one, is dropped.
     */
    boolean deliverGrant(int position, int waitersBehind) {
        return deliverGrant(position, waitersBehind, false);
    }

    /** As {@link #deliverGrant(int, int)}, for a grant message that may hand on the releaser's hook state. */
    boolean deliverGrant(int position, int waitersBehind, boolean handedOn) {
        if (!pendingPosition.compareAndSet(Integer.toUnsignedLong(position), NONE)) {
            return false;
        }
        mnWaitersBehind = waitersBehind;
        mnHandedOn = handedOn;
        mnGranted = true;
        LockSupport.unpark(leader);
        return true;
    }

    /** The leader, once {@link #mnGranted}: the waiters behind it; ends the wait. */
    int takeGrant() {
        leader = null;
        return mnWaitersBehind;
    }

    /** The MN position this cohort's leader waits on (unsigned), or -1. */
    long pendingPosition() {
        return pendingPosition.get();
    }
}
