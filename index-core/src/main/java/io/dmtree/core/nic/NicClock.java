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
     * The wall clock ({@link System#nanoTime()}). On a 2-core host a waiting thread must not burn
     * the cores the modelled clients need, yet parking alone wakes late by the kernel's timer slack
     * and the scheduler (about 50 us on Linux, more on a loaded host), which would stretch short
     * modelled waits several times over. So a waiter parks until {@code spinNanos} plus the
     * oversleep parking has shown so far before its deadline, and spins the rest, yielding the core
     * while more than {@code spinNanos} remain. The oversleep estimate is a moving average of how
     * late parks returned (shared by the clock's waiters; its updates may race, which only blurs a
     * heuristic), bounded to [0, 1 ms].
     */
    static NicClock system(long spinNanos) {
        if (spinNanos < 0) {
            throw new IllegalArgumentException("spin time must not be negative: " + spinNanos);
        }
        return new NicClock() {
            private static final long MAX_SLACK = 1_000_000;
            private volatile long slack = 50_000;

            @Override
            public long now() {
                return System.nanoTime();
            }

            @Override
            public void awaitUntil(long deadline) {
                long now = System.nanoTime();
                long sleep = deadline - now - spinNanos - slack;
                if (sleep > 0) {
                    LockSupport.parkNanos(sleep);
                    long late = System.nanoTime() - now - sleep;
                    long s = slack;
                    slack = Math.max(0, Math.min(MAX_SLACK, s + (late - s) / 8));
                }
                for (long left; (left = deadline - System.nanoTime()) > 0; ) {
                    if (left > spinNanos) {
                        Thread.yield();
                    } else {
                        Thread.onSpinWait();
                    }
                }
            }
        };
    }
}
