package io.dmtree.lock.adaptive;

import io.dmtree.lock.modular.ModularLockConfig;
import io.dmtree.lock.modular.ModularLockLayout;

/**
 * Run-time settings of the adaptive lock.
 *
 * @param queue        settings of the modular lock behind the assignment word (its queue slots,
 *                     cohort bound and wait policy)
 * @param wordSpinNanos how long a word acquirer keeps retrying its CAS on a word held in the word
 *                      assignment before it takes the queued path (0: at the first failed CAS). It
 *                      stops at once when the word is QUEUED or the queue waits beside the holder.
 *                      A time constant: scaled with a modelled network's dilation
 * @param quietWaiters  a tenure is quiet when at most this many MN requests were queued behind it at
 *                      its grant, no local thread waits at its release and it made no local handover
 * @param quietTenures  a compute node hands the lock back to the word assignment at the end of the
 *                      {@code quietTenures}-th consecutive quiet MN tenure of its own on that lock
 */
public record AdaptiveLockConfig(ModularLockConfig queue, long wordSpinNanos, int quietWaiters, int quietTenures) {
    /** About ten modelled round trips: the word assignment serves short waits, the queue long ones. */
    public static final long DEFAULT_WORD_SPIN_NANOS = 20_000;
    public static final int DEFAULT_QUIET_WAITERS = 1;
    public static final int DEFAULT_QUIET_TENURES = 2;

    public AdaptiveLockConfig {
        if (queue == null) {
            throw new IllegalArgumentException("the adaptive lock needs the settings of its modular lock");
        }
        if (wordSpinNanos < 0 || wordSpinNanos > 10_000_000_000L) {
            throw new IllegalArgumentException("word spin must be in [0, 10 s]: " + wordSpinNanos + " ns");
        }
        if (quietWaiters < 0 || quietWaiters > ModularLockLayout.MAX_COMPUTE_NODES) {
            throw new IllegalArgumentException("quiet waiters must be in [0, " + ModularLockLayout.MAX_COMPUTE_NODES
                    + "]: " + quietWaiters);
        }
        if (quietTenures < 1 || quietTenures > 1_000_000) {
            throw new IllegalArgumentException("quiet tenures must be in [1, 1000000]: " + quietTenures);
        }
    }

    public static AdaptiveLockConfig defaults() {
        return new AdaptiveLockConfig(ModularLockConfig.defaults(), DEFAULT_WORD_SPIN_NANOS, DEFAULT_QUIET_WAITERS,
                DEFAULT_QUIET_TENURES);
    }

    public AdaptiveLockConfig withQueue(ModularLockConfig q) {
        return new AdaptiveLockConfig(q, wordSpinNanos, quietWaiters, quietTenures);
    }

    public AdaptiveLockConfig withWordSpinNanos(long n) {
        return new AdaptiveLockConfig(queue, n, quietWaiters, quietTenures);
    }

    public AdaptiveLockConfig withQuietWaiters(int n) {
        return new AdaptiveLockConfig(queue, wordSpinNanos, n, quietTenures);
    }

    public AdaptiveLockConfig withQuietTenures(int n) {
        return new AdaptiveLockConfig(queue, wordSpinNanos, quietWaiters, n);
    }
}
