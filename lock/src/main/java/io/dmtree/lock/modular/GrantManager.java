package io.dmtree.lock.modular;

/** The grant manager: tells selected waiters that they hold the lock, and lets a leader wait for that. */
interface GrantManager extends AutoCloseable {
    /** Release side: grant every request in {@code selection} of {@code lock}. */
    void grant(long lock, WaiterSelection selection, MnLockQueue.Scratch scratch);

    /** Waiter side: blocks until the request of {@code cohort} at {@code position} is granted; returns the waiters behind it. */
    int awaitGrant(Cohort cohort, int position, MnLockQueue.Scratch scratch);

    /** Grants that arrived for no waiting request (dropped by grant counting). */
    long staleGrants();

    @Override
    void close();
}
