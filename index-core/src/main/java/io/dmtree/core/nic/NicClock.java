package io.dmtree.core.nic;

import java.util.concurrent.locks.LockSupport;

/**
 * The time a {@link NicModel} runs on: {@link #now()} and waiting until a modelled instant.
 * {@link #system} is the wall clock; tests use a virtual clock whose {@link #awaitUntil} just
 * moves time forward, so modelled completions are exact and repeatable.
 */
public interface NicClock {
    long now();

    /** Returns at {@code deadline} or later. */
    void awaitUntil(long deadline);

    /**
     * The wall clock ({@link System#nanoTime()}). A waiting thread parks until {@code spinNanos}
     * before its deadline and spins the rest with {@link Thread#onSpinWait()}: on a 2-core host a
     * waiter must not burn the cores the modelled clients need, yet parking alone wakes late by the
     * kernel's timer slack (about 50 us on Linux), which the dilation makes small against modelled
     * delays.
     */
    static NicClock system(long spinNanos) {
        if (spinNanos < 0) {
            throw new IllegalArgumentException("spin time must not be negative: " + spinNanos);
        }
        return new NicClock() {
            @Override
            public long now() {
                return System.nanoTime();
            }

            @Override
            public void awaitUntil(long deadline) {
                while (true) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return;
                    }
                    if (left > spinNanos) {
                        LockSupport.parkNanos(left - spinNanos);
                    } else {
                        Thread.onSpinWait();
                    }
                }
            }
        };
    }
}
