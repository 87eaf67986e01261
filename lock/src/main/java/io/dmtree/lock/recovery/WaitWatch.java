package io.dmtree.lock.recovery;

import io.dmtree.core.lock.LapsedMemberException;
import io.dmtree.core.lock.MemberLiveness;

/**
 * The liveness side of one thread's lock waits, reused from wait to wait (no allocation): a wait
 * calls {@link #begin} once and {@link #poll} in every round. {@code poll} is cheap until the
 * liveness bound of the {@link WaitPolicy} has passed; then it consults membership, throws
 * {@link LapsedMemberException} if this compute node has departed, and answers {@link #LOOK} when
 * membership changed since the last look or the look interval has passed, so the design can
 * re-examine the lock's memory-node state for a grant that will never arrive.
 */
public final class WaitWatch {
    /** Nothing to do: keep waiting. */
    public static final int WAIT = 0;
    /** Look at the memory node again: membership changed, or nothing arrived for the look interval. */
    public static final int LOOK = 1;

    private final MemberLiveness liveness;
    private final int self;
    private final WaitPolicy policy;
    private long version;
    private long nextCheck;
    private long nextLook;

    public WaitWatch(MemberLiveness liveness, int self, WaitPolicy policy) {
        this.liveness = liveness;
        this.self = self;
        this.policy = policy;
    }

    public void begin() {
        long now = System.nanoTime();
        nextCheck = now + policy.livenessCheckNanos();
        nextLook = now + policy.lookNanos();
        version = liveness.version();
    }

    /** Park at most this long between rounds, so the bound is kept. */
    public long parkNanos() {
        return policy.livenessCheckNanos();
    }

    /**
     * One round of a wait that is doing {@code doing} (for the message of the exception): throws if
     * this node departed; {@link #LOOK} or {@link #WAIT}.
     */
    public int poll(String doing) {
        long now = System.nanoTime();
        if (now < nextCheck) {
            return WAIT;
        }
        nextCheck = now + policy.livenessCheckNanos();
        if (!liveness.isMember(self)) {
            throw new LapsedMemberException(self, doing);
        }
        long v = liveness.version();
        if (v != version) {
            version = v;
            nextLook = now + policy.lookNanos();
            return LOOK;
        }
        if (now >= nextLook) {
            nextLook = now + policy.lookNanos();
            return LOOK;
        }
        return WAIT;
    }

    public MemberLiveness liveness() {
        return liveness;
    }
}
