package io.dmtree.cn.recovery;

import io.dmtree.core.membership.FenceBook;
import io.dmtree.core.membership.FenceBook.FenceRecord;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.Member;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A compute node that leaves cleanly records its own recovery as done before its lease ends, so
 * that its slot is free at once for a new incarnation even when no other compute node is live to
 * recover it (every memory node requests the fence of a member whose lease ends, and a joining
 * incarnation waits until its slot's earlier ones are recovered: {@link SlotHandover}).
 *
 * <h2>Protocol (the leaver, after it stopped every operation, left every memory node's control
 * plane and closed its verbs and messaging, with its lease still live)</h2>
 * <ol>
 *   <li>{@link FenceBook#requestFence} for itself;</li>
 *   <li>waits until every memory node acknowledged the fence (each refuses the incarnation's verbs
 *   from then on, as for a lapse);</li>
 *   <li>{@link FenceBook#claimRecovery} with its own lease, then {@link FenceBook#recovered}.</li>
 * </ol>
 * Then the caller closes the lease; the memory nodes' later requests for the same incarnation
 * change nothing (requests are idempotent).
 *
 * <p>Invariant: this runs only for a leaver that is {@linkplain io.dmtree.cn.InFlightWork quiescent}
 * (no hold, no operation in progress, none failed), so there is nothing to repair, release or
 * complete: the fence ordering of the book (fenced by all before recovered) is kept, and
 * "recovered" is true. Every wait is bounded by {@code timeout}; a leave that cannot finish (a
 * memory node down, the service unreachable) says why and leaves the record outstanding, and a
 * live compute node recovers it as it would a lapse.
 */
public final class CleanLeave {
    private CleanLeave() {
    }

    /** Runs the protocol; returns null when done, else why it stopped (the record stays for a live member). */
    public static String settle(FenceBook book, Lease self, int memoryNodes, Duration timeout) throws InterruptedException {
        Member me = self.member();
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (!self.isLive()) {
                return "its lease already ended (" + self.state() + ")";
            }
            book.requestFence(me);
            Semaphore changed = new Semaphore(0);
            try (AutoCloseable watch = book.watch(changed::release)) {
                while (true) {
                    FenceRecord r = book.record(me);
                    if (r != null && r.fencedByAll(memoryNodes)) {
                        break;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return "memory nodes " + (r == null ? "[]" : r.fencedBy().stream().sorted().toList()) + " of "
                                + memoryNodes + " fenced it within " + timeout.toMillis() + " ms";
                    }
                    changed.tryAcquire(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)), TimeUnit.NANOSECONDS);
                    changed.drainPermits();
                }
            }
            if (!book.claimRecovery(self, me)) {
                FenceRecord r = book.record(me);
                return r != null && r.recovered() ? null : "another member holds the claim to recover it";
            }
            book.recovered(me);
            return null;
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            return "the fence book failed: " + e.getMessage();
        }
    }
}
