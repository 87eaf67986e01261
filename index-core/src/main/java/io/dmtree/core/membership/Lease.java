package io.dmtree.core.membership;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * A member's own handle on its lease: who it is ({@link #member()}, with its epoch) and whether it
 * still holds the lease. The service renews the lease while the holder's process runs and reaches
 * the service; a holder that stops (crash, SIGSTOP, a long pause) or loses touch for longer than
 * {@link Membership#leaseLength()} lapses.
 *
 * <p>The handle learns of its own lapse: {@link #state()} turns {@link LeaseState#LAPSED}, the
 * {@link #onEnd end callbacks} run once, and {@link #checkLive()} throws. A lapsed handle stays
 * lapsed; its holder stops using anything the lease guarded and may join again, which gives a new
 * epoch. The holder may learn of its lapse later than the others do (it was stopped when it
 * happened), which is why memory nodes fence by epoch instead of trusting the holder.
 *
 * <p>{@link #close()} leaves the cluster: the lease ends at once, the id returns to the pool, and
 * watchers see the end like a lapse (recovery is the same; a member that left cleanly holds
 * nothing to recover).
 */
public interface Lease extends AutoCloseable {
    /** This incarnation: slot, epoch and endpoint. */
    Member member();

    /** The state as this holder last learned it. */
    LeaseState state();

    /** {@code true} while {@link #state()} is {@link LeaseState#LIVE}. */
    default boolean isLive() {
        return state() == LeaseState.LIVE;
    }

    /** Throws {@link LeaseLapsedException} unless the lease is {@link LeaseState#LIVE}. */
    default void checkLive() {
        LeaseState s = state();
        if (s != LeaseState.LIVE) {
            throw new LeaseLapsedException(member(), s);
        }
    }

    /**
     * Runs {@code callback} once with the final state when the lease lapses or is closed (at once,
     * on the caller's thread, if it already ended). Callbacks run on a service thread and must
     * not block.
     */
    void onEnd(Consumer<LeaseState> callback);

    /** Waits up to {@code timeout} for the lease to end; returns the state then. */
    LeaseState awaitEnd(Duration timeout) throws InterruptedException;

    /** Leaves the cluster: ends the lease now (idempotent). */
    @Override
    void close();
}
