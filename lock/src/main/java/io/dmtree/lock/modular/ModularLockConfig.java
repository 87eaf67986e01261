package io.dmtree.lock.modular;

/**
 * Run-time settings of the modular lock.
 *
 * @param queueSlots          waiter entries per lock at the MN: a power of two, at least the
 *                            number of compute nodes (each CN queues at most one request per lock)
 * @param maxLocalGrants      grants one CN's cohort may make per MN tenure (the MN grant counts as
 *                            the first); 1 disables local handover
 * @param maxRemoteWaitNanos  once a tenure that started with remote waiters behind it is this old,
 *                            it makes no further local grants
 */
public record ModularLockConfig(int queueSlots, int maxLocalGrants, long maxRemoteWaitNanos) {
    public static final int DEFAULT_QUEUE_SLOTS = 16;
    public static final int DEFAULT_MAX_LOCAL_GRANTS = 16;
    public static final long DEFAULT_MAX_REMOTE_WAIT_NANOS = 200_000;

    public ModularLockConfig {
        if (queueSlots < 2 || Integer.bitCount(queueSlots) != 1 || queueSlots > 4096) {
            throw new IllegalArgumentException("queue slots must be a power of two in [2, 4096]: " + queueSlots);
        }
        if (maxLocalGrants < 1 || maxLocalGrants > 30_000) {
            throw new IllegalArgumentException("max local grants must be in [1, 30000]: " + maxLocalGrants);
        }
        if (maxRemoteWaitNanos < 0) {
            throw new IllegalArgumentException("max remote wait must not be negative: " + maxRemoteWaitNanos);
        }
    }

    public static ModularLockConfig defaults() {
        return new ModularLockConfig(DEFAULT_QUEUE_SLOTS, DEFAULT_MAX_LOCAL_GRANTS, DEFAULT_MAX_REMOTE_WAIT_NANOS);
    }

    public ModularLockConfig withQueueSlots(int n) {
        return new ModularLockConfig(n, maxLocalGrants, maxRemoteWaitNanos);
    }

    public ModularLockConfig withMaxLocalGrants(int n) {
        return new ModularLockConfig(queueSlots, n, maxRemoteWaitNanos);
    }

    public ModularLockConfig withMaxRemoteWaitNanos(long n) {
        return new ModularLockConfig(queueSlots, maxLocalGrants, n);
    }
}
