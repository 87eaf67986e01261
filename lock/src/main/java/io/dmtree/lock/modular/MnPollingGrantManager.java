package io.dmtree.lock.modular;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * The grant manager left on the memory node: the releaser WRITEs the granted mark into each
 * selected waiter's entry (one batch), and every waiter READs its own entry until it is marked.
 * Each poll is an MN verb: this is the cost the CN-side grant manager removes.
 */
final class MnPollingGrantManager implements GrantManager {
    private final MnLockQueue queue;
    private final ThreadLocal<UnsafeBuffer> grants = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[8 * 64]));
    private final ThreadLocal<UnsafeBuffer> poll = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[8]));

    MnPollingGrantManager(MnLockQueue queue) {
        this.queue = queue;
    }

    @Override
    public void grant(long lock, WaiterSelection sel, MnLockQueue.Scratch scratch) {
        UnsafeBuffer b = grants.get();
        if (b.capacity() < sel.count() * 8) {
            b = new UnsafeBuffer(new byte[sel.count() * 8]);
            grants.set(b);
        }
        queue.markGranted(lock, sel, scratch, b);
    }

    @Override
    public int awaitGrant(Cohort cohort, int position, MnLockQueue.Scratch scratch) {
        UnsafeBuffer b = poll.get();
        int polls = 0;
        while (true) {
            long e = queue.pollEntry(cohort.lock, position, b);
            if (ModularLockLayout.isFor(e, position) && ModularLockLayout.entryGranted(e)) {
                return ModularLockLayout.entryWaitersBehind(e);
            }
            if (++polls % 64 == 0) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
    }

    @Override
    public long staleGrants() {
        return 0;
    }

    @Override
    public void close() {
    }
}
