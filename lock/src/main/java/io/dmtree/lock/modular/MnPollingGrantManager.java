package io.dmtree.lock.modular;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * The grant manager left on the memory node: the releaser WRITEs the granted mark into each
 * selected waiter's entry (one batch of CAS), and every waiter READs its own entry until it is
 * marked. Waiters so granted do not learn how many wait behind them (their cohort's local handover
 * is bounded by the grant count alone).
 * Each poll is an MN verb: this is the cost the CN-side grant manager removes.
 */
final class MnPollingGrantManager implements GrantManager {
    private final MnLockQueue queue;
    private final ThreadLocal<UnsafeBuffer> poll = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[8]));

    MnPollingGrantManager(MnLockQueue queue) {
        this.queue = queue;
    }

    @Override
    public void grant(long lock, WaiterSelection sel, MnLockQueue.Scratch scratch) {
        queue.markGranted(lock, sel, scratch);
    }

    @Override
    public int awaitGrant(Cohort cohort, int position, MnLockQueue.Scratch scratch) {
        UnsafeBuffer b = poll.get();
        int polls = 0;
        while (!cohort.mnGranted) {
            long e = queue.pollEntry(cohort.lock, position, b);
            if (ModularLockLayout.isFor(e, position) && ModularLockLayout.entryGranted(e)
                    && cohort.deliverGrant(position, 0)) {
                break;
            }
            if (++polls % 64 == 0) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
        return cohort.awaitGrant();
    }

    @Override
    public long staleGrants() {
        return 0;
    }

    @Override
    public void close() {
    }
}
