package io.dmtree.lock.modular;

/** The grant manager: tells selected waiters that they hold the lock, and lets a leader wait for that. */
interface GrantManager extends AutoCloseable {
    /**
     * Release side: grant every request in {@code selection} of {@code lock}. Never fails because a
     * selected waiter's compute node has departed (its grant is dropped; its recovery passes it on).
     */
    void grant(long lock, WaiterSelection selection, MnLockQueue.Scratch scratch);

    /**
     * Waiter side: blocks until the request of {@code cohort} at {@code position} is granted;
     * returns the waiters behind it. Bounded: consults membership at the scratch's watch, and
     * re-examines the lock's MN state when membership changed or nothing came for a while.
     */
    int awaitGrant(Cohort cohort, int position, boolean exclusive, MnLockQueue.Scratch scratch);

    /** Grants that arrived for no waiting request (dropped by grant counting). */
    long staleGrants();

    /** Grants found by the waiters themselves in the MN state (lost, or not yet arrived). */
    long selfGrants();

    @Override
    void close();
}
