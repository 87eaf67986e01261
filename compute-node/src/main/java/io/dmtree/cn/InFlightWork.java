package io.dmtree.cn;

import java.util.concurrent.atomic.LongAdder;

/**
 * Whether a compute node can vouch that it leaves nothing behind: no lock operation or index
 * mutation in progress, no lock held, and none of them ever ended in a failure (after which the
 * memory nodes may hold a queue entry, a half-written node or a redo record of it). A compute node
 * that is quiescent when it closes may record its own recovery as done when it leaves
 * ({@link io.dmtree.cn.recovery.CleanLeave}); any other leave is recovered by a live member as a
 * lapse is.
 *
 * <p>{@link #enter} and {@link #exit} bracket each operation (a lock hold counts from its acquire to
 * the end of its release); the count is a {@link LongAdder}, so the hot path takes no shared cache
 * line. {@link #quiescent} is exact only once no thread starts operations any more (the index is
 * closed and the workers stopped), which is when it is asked.
 */
public final class InFlightWork {
    private final LongAdder busy = new LongAdder();
    private volatile Throwable failure;

    /** An operation (or a lock hold) begins. */
    public void enter() {
        busy.increment();
    }

    /** The operation that {@link #enter} began ended normally. */
    public void exit() {
        busy.decrement();
    }

    /** An operation ended with {@code t}: what it left on the memory nodes is unknown from now on. */
    public void failed(Throwable t) {
        if (failure == null) {
            failure = t;
        }
    }

    /** True while nothing is in progress or held and nothing ever failed. */
    public boolean quiescent() {
        return failure == null && busy.sum() == 0;
    }

    /** Why this node is not quiescent, for a log line; null if it is. */
    public String why() {
        Throwable f = failure;
        if (f != null) {
            return "an operation failed (" + f + ")";
        }
        long b = busy.sum();
        return b == 0 ? null : b + " lock hold(s) or operation(s) in progress";
    }
}
