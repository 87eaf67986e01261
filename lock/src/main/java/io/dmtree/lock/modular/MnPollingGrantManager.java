package io.dmtree.lock.modular;

import io.dmtree.lock.recovery.WaitWatch;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The grant manager left on the memory node: the releaser WRITEs the granted mark into each
 * selected waiter's entry (one batch of CAS), and every waiter READs its own entry until it is
 * marked. Waiters so granted do not learn how many wait behind them (their cohort's local handover
 * is bounded by the grant count alone).
 * Each poll is an MN verb: this is the cost the CN-side grant manager removes. The polling
 * consults membership at the {@link io.dmtree.lock.recovery.WaitPolicy} bound and, when that
 * changed or the look interval passed, also reads the word: a releaser that departed between its
 * FAA and its marks leaves its successor at the head but unmarked.
 */
final class MnPollingGrantManager implements GrantManager {
    private final MnLockQueue queue;
    private final ThreadLocal<UnsafeBuffer> poll = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[8]));
    private final AtomicLong self = new AtomicLong();

    MnPollingGrantManager(MnLockQueue queue) {
        this.queue = queue;
    }

    @Override
    public void grant(long lock, WaiterSelection sel, MnLockQueue.Scratch scratch) {
        queue.markGranted(lock, sel, scratch);
    }

    @Override
    public int awaitGrant(Cohort cohort, int position, boolean exclusive, MnLockQueue.Scratch scratch) {
        UnsafeBuffer b = poll.get();
        WaitWatch watch = scratch.watch;
        watch.begin();
        int polls = 0;
        while (!cohort.mnGranted) {
            long e = queue.pollEntry(cohort.lock, position, b);
            if (ModularLockLayout.isFor(e, position) && ModularLockLayout.entryGranted(e)
                    && cohort.deliverGrant(position, 0)) {
                break;
            }
            if (watch.poll("polling for a modular lock grant") == WaitWatch.LOOK) {
                int behind = queue.holdsByState(cohort.lock, position, exclusive, scratch);
                if (behind >= 0 && cohort.deliverGrant(position, 0)) {
                    self.incrementAndGet();
                    break;
                }
            }
            if (++polls % 64 == 0) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
        return cohort.takeGrant();
    }

    @Override
    public long staleGrants() {
        return 0;
    }

    @Override
    public long selfGrants() {
        return self.get();
    }

    @Override
    public void close() {
    }
}
