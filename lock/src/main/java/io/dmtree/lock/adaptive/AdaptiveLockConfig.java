package io.dmtree.lock.adaptive;

import io.dmtree.lock.modular.ModularLockConfig;

/**
 * Run-time settings of the adaptive lock.
 *
 * @param queue        settings of the modular lock behind the assignment word (its queue slots,
 *                     cohort bound and wait policy)
 * @param quietTenures a compute node hands the lock back to the word assignment at the end of the
 *                     {@code quietTenures}-th consecutive quiet MN tenure of its own on that lock
 *                     (quiet: nobody was queued behind it at its grant, no local thread waits, no
 *                     local handover happened); 1 switches back at the first quiet tenure
 */
public record AdaptiveLockConfig(ModularLockConfig queue, int quietTenures) {
    public static final int DEFAULT_QUIET_TENURES = 2;

    public AdaptiveLockConfig {
        if (queue == null) {
            throw new IllegalArgumentException("the adaptive lock needs the settings of its modular lock");
        }
        if (quietTenures < 1 || quietTenures > 1_000_000) {
            throw new IllegalArgumentException("quiet tenures must be in [1, 1000000]: " + quietTenures);
        }
    }

    public static AdaptiveLockConfig defaults() {
        return new AdaptiveLockConfig(ModularLockConfig.defaults(), DEFAULT_QUIET_TENURES);
    }

    public AdaptiveLockConfig withQueue(ModularLockConfig q) {
        return new AdaptiveLockConfig(q, quietTenures);
    }

    public AdaptiveLockConfig withQuietTenures(int n) {
        return new AdaptiveLockConfig(queue, n);
    }
}
