package io.dmtree.lock.modular;

import io.dmtree.lock.recovery.WaitPolicy;

/**
 * Run-time settings of the modular lock.
 *
 * @param queueSlots          waiter entries per lock at the MN: a power of two, at least the
 *                            number of compute nodes (each CN queues at most one request per lock),
 *                            at most {@link ModularLockLayout#MAX_COMPUTE_NODES} (the lock word names
 *                            that many compute nodes, so more entries would never be used)
 * @param maxLocalGrants      grants one CN's cohort may make per MN tenure (the MN grant counts as
 *                            the first); 1 disables local handover
 * @param maxRemoteWaitNanos  once a tenure that started with remote waiters behind it is this old,
 *                            it makes no further local grants
 * @param waitPolicy          when waits consult membership and re-examine the MN state
 */
public record ModularLockConfig(int queueSlots, int maxLocalGrants, long maxRemoteWaitNanos, WaitPolicy waitPolicy) {
    public static final int DEFAULT_QUEUE_SLOTS = 16;
    public static final int DEFAULT_MAX_LOCAL_GRANTS = 16;
    public static final long DEFAULT_MAX_REMOTE_WAIT_NANOS = 200_000;

    public ModularLockConfig {
        if (queueSlots < 2 || Integer.bitCount(queueSlots) != 1 || queueSlots > ModularLockLayout.MAX_COMPUTE_NODES) {
            throw new IllegalArgumentException("queue slots must be a power of two in [2, "
                    + ModularLockLayout.MAX_COMPUTE_NODES + "]: " + queueSlots);
        }
        if (maxLocalGrants < 1 || maxLocalGrants > 30_000) {
            throw new IllegalArgumentException("max local grants must be in [1, 30000]: " + maxLocalGrants);
        }
        if (maxRemoteWaitNanos < 0) {
            throw new IllegalArgumentException("max remote wait must not be negative: " + maxRemoteWaitNanos);
        }
        if (waitPolicy == null) {
            throw new IllegalArgumentException("a wait policy is required");
        }
    }

    public static ModularLockConfig defaults() {
        return new ModularLockConfig(DEFAULT_QUEUE_SLOTS, DEFAULT_MAX_LOCAL_GRANTS, DEFAULT_MAX_REMOTE_WAIT_NANOS,
                WaitPolicy.defaults());
    }

    public ModularLockConfig withQueueSlots(int n) {
        return new ModularLockConfig(n, maxLocalGrants, maxRemoteWaitNanos, waitPolicy);
    }

    public ModularLockConfig withMaxLocalGrants(int n) {
        return new ModularLockConfig(queueSlots, n, maxRemoteWaitNanos, waitPolicy);
    }

    public ModularLockConfig withMaxRemoteWaitNanos(long n) {
        return new ModularLockConfig(queueSlots, maxLocalGrants, n, waitPolicy);
    }

    public ModularLockConfig withWaitPolicy(WaitPolicy p) {
        return new ModularLockConfig(queueSlots, maxLocalGrants, maxRemoteWaitNanos, p);
    }
}
