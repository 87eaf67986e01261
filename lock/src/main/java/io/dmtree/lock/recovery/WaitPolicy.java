package io.dmtree.lock.recovery;

/**
 * How long a lock wait may hear nothing before it consults membership, and how often a waiter
 * that still hears nothing looks again at the lock's memory-node state for itself (a grant may
 * have been lost with a departed member, or a send may have failed).
 *
 * @param livenessCheckNanos a wait consults {@link io.dmtree.core.lock.MemberLiveness} at least
 *                           this often (a parked waiter wakes up for it)
 * @param lookNanos          a waiter re-examines the MN state when membership changed, and at
 *                           least this often while nothing arrives; designs that never poll the MN
 *                           in their normal path keep this long so a long hold costs few verbs
 */
public record WaitPolicy(long livenessCheckNanos, long lookNanos) {
    public static final long DEFAULT_LIVENESS_CHECK_NANOS = 2_000_000;
    public static final long DEFAULT_LOOK_NANOS = 1_000_000_000;

    public WaitPolicy {
        if (livenessCheckNanos < 1_000 || lookNanos < livenessCheckNanos) {
            throw new IllegalArgumentException("wait policy needs 1 us <= liveness check <= look interval, got "
                    + livenessCheckNanos + " ns and " + lookNanos + " ns");
        }
    }

    public static WaitPolicy defaults() {
        return new WaitPolicy(DEFAULT_LIVENESS_CHECK_NANOS, DEFAULT_LOOK_NANOS);
    }
}
