package io.dmtree.cn.recovery;

import io.dmtree.core.membership.FenceBook;
import io.dmtree.core.membership.FenceBook.FenceRecord;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MembershipTimeoutException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A compute-node slot passes to a new incarnation only once every earlier incarnation of it is
 * recovered: the new one reuses the slot's redo records and the lock-word fields that name the
 * slot, which recovery of the old one must have finished with. {@link #awaitRecovered} is what a
 * joining compute node waits for after its membership join and before it touches the index.
 */
public final class SlotHandover {
    /** Longest pause between two reads of the book when no change notice came (a safety net). */
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private SlotHandover() {
    }

    /**
     * Waits up to {@code timeout} until {@code book} holds no unrecovered record of compute-node
     * slot {@code slot} at an epoch below {@code joinedEpoch}; throws
     * {@link MembershipTimeoutException} naming the slot and what its records wait for.
     */
    public static void awaitRecovered(FenceBook book, int slot, long joinedEpoch, Duration timeout, int memoryNodes)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Semaphore changed = new Semaphore(0);
        try (AutoCloseable watch = book.watch(changed::release)) {
            while (true) {
                List<FenceRecord> waiting = unrecovered(book, slot, joinedEpoch);
                if (waiting.isEmpty()) {
                    return;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new MembershipTimeoutException("compute node slot " + slot + " still has unrecovered earlier"
                            + " incarnations after " + timeout.toMillis() + " ms: " + describe(waiting, memoryNodes)
                            + "; a live compute node recovers them once every memory node fenced them (is one running?)");
                }
                changed.tryAcquire(Math.min(left, POLL_NANOS), TimeUnit.NANOSECONDS);
                changed.drainPermits();
            }
        } catch (InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("closing a fence-book watch failed", e);
        }
    }

    private static List<FenceRecord> unrecovered(FenceBook book, int slot, long joinedEpoch) {
        List<FenceRecord> out = new ArrayList<>();
        for (FenceRecord r : book.outstanding()) {
            Member m = r.member();
            if (m.id().id() == slot && m.epoch() < joinedEpoch) {
                out.add(r);
            }
        }
        return out;
    }

    private static String describe(List<FenceRecord> records, int memoryNodes) {
        StringBuilder b = new StringBuilder();
        for (FenceRecord r : records) {
            b.append(b.length() == 0 ? "" : ", ").append(r.member());
            if (!r.fencedByAll(memoryNodes)) {
                b.append(" (fenced by memory nodes ").append(r.fencedBy().stream().sorted().toList()).append(" of ")
                        .append(memoryNodes).append(": waiting for the others to fence)");
            } else {
                b.append(" (fenced by every memory node: waiting for a live compute node to recover it)");
            }
        }
        return b.toString();
    }
}
