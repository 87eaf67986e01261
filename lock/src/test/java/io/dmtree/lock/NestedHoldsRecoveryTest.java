package io.dmtree.lock;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.RecoveryReport;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Live threads that hold several locks at once while a member's recovery runs: every thread takes
 * a group of locks in ascending order and releases them in the same order. A compute node stops
 * dead while holding the upper part of the group (it released the lower part), so live threads
 * hold lower locks and queue on its upper ones when the recovery starts (one thread of each live
 * node always takes the whole group, so this happens in every run); others take random ranges of
 * the group. Recovery must end (a drain may not wait for holders that wait for
 * the recovery themselves), every live thread must finish its rounds, no two threads may ever be
 * inside one lock at once, and every counter must be exact. Message handlers run on threads of
 * their own, as over a network carrier. Seeded ({@code -Ddmtree.seed=N}).
 */
class NestedHoldsRecoveryTest {
    static final long SEED = Long.getLong("dmtree.seed", System.nanoTime());
    private static final int LOCKS = 8;
    private static final int ROUNDS = 150;
    private static final long BOUND_MILLIS = 30_000;

    static List<String> designs() {
        System.out.println("NestedHoldsRecoveryTest seed=" + SEED);
        return LockDesigns.names();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("designs")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void recoveryEndsWhileLiveThreadsHoldSeveralLocks(String name) throws Exception {
        long seed = SEED ^ name.hashCode();
        SplittableRandom root = new SplittableRandom(seed);
        int victim = 2;
        try (LockTestCluster c = new LockTestCluster(LockDesigns.byName(name), 1, 3, 4, 0, true)) {
            long[] locks = new long[LOCKS];
            for (int i = 0; i < LOCKS; i++) {
                locks[i] = c.lock(3 + 5 * i);
            }
            AtomicIntegerArray inside = new AtomicIntegerArray(LOCKS);
            long[] counters = new long[LOCKS]; // plain words guarded by the locks: a broken exclusion loses increments
            AtomicLongArray made = new AtomicLongArray(LOCKS);
            AtomicReference<String> failure = new AtomicReference<>();
            AtomicInteger liveRounds = new AtomicInteger();

            // the victim takes the whole group, releases its lower half, and stops holding the rest
            int kept = LOCKS / 2;
            CountDownLatch victimHolds = new CountDownLatch(1);
            Thread dead = new Thread(() -> {
                LockClient v = c.client(victim);
                for (long lock : locks) {
                    v.acquire(lock, LockMode.EXCLUSIVE);
                }
                for (int i = 0; i < LOCKS; i++) {
                    enter(inside, i, failure, "victim");
                    counters[i]++;
                    made.incrementAndGet(i);
                }
                for (int i = 0; i < LOCKS - kept; i++) {
                    inside.decrementAndGet(i);
                    v.release(locks[i], LockMode.EXCLUSIVE, null);
                }
                victimHolds.countDown();
                LockSupport.park(); // stopped dead: never releases the rest
            }, "nested-victim");
            dead.setDaemon(true);
            dead.start();
            assertTrue(victimHolds.await(BOUND_MILLIS, TimeUnit.MILLISECONDS), "the victim never held its group");

            List<Thread> live = new ArrayList<>();
            for (int cn = 0; cn < 2; cn++) {
                for (int t = 0; t < 2; t++) {
                    int node = cn;
                    int thread = t;
                    long threadSeed = root.nextLong();
                    Thread th = new Thread(() -> {
                        SplittableRandom r = new SplittableRandom(threadSeed);
                        LockClient client = c.client(node);
                        try {
                            for (int round = 0; round < ROUNDS && failure.get() == null; round++) {
                                boolean whole = thread == 0; // the first thread of a node takes the whole group
                                int from = whole ? 0 : r.nextInt(LOCKS);
                                int to = whole ? LOCKS : from + 1 + r.nextInt(LOCKS - from);
                                for (int i = from; i < to; i++) {
                                    client.acquire(locks[i], LockMode.EXCLUSIVE);
                                    enter(inside, i, failure, Thread.currentThread().getName());
                                }
                                for (int i = from; i < to; i++) {
                                    counters[i]++;
                                    made.incrementAndGet(i);
                                }
                                if (r.nextInt(4) == 0) {
                                    LockSupport.parkNanos(200_000);
                                }
                                for (int i = from; i < to; i++) {
                                    inside.decrementAndGet(i);
                                    client.release(locks[i], LockMode.EXCLUSIVE, null);
                                }
                                liveRounds.incrementAndGet();
                            }
                        } catch (RuntimeException e) {
                            failure.compareAndSet(null, Thread.currentThread().getName() + ": " + e);
                        }
                    }, "nested-cn" + cn + "-t" + t);
                    th.setDaemon(true);
                    live.add(th);
                    th.start();
                }
            }
            Thread.sleep(50 + root.nextInt(100)); // live threads now hold lower locks and queue on the victim's

            c.fence(victim);
            c.depart(victim);
            for (int i = LOCKS - kept; i < LOCKS; i++) {
                inside.decrementAndGet(i); // the victim's holds end with it
            }
            AtomicReference<RecoveryReport> report = new AtomicReference<>();
            Thread recovery = new Thread(() -> {
                try {
                    report.set(c.recover(0, victim));
                } catch (Throwable e) {
                    failure.compareAndSet(null, "recovery: " + e);
                }
            }, "nested-recovery");
            recovery.setDaemon(true);
            recovery.start();
            recovery.join(BOUND_MILLIS);
            assertFalse(recovery.isAlive(), name + " seed " + seed + ": recovery did not end within " + BOUND_MILLIS
                    + " ms while live threads held several locks\n" + CrashRecoveryStress.stacks());
            for (Thread t : live) {
                t.join(BOUND_MILLIS);
                assertFalse(t.isAlive(), name + " seed " + seed + ": " + t.getName() + " did not finish its rounds\n"
                        + CrashRecoveryStress.stacks());
            }
            assertNull(failure.get(), name + " seed " + seed);
            assertNotNull(report.get(), "recovery reported nothing");

            // every lock is free again, and each counter saw every increment made under its lock
            LockClient check = c.client(1);
            for (int i = 0; i < LOCKS; i++) {
                check.acquire(locks[i], LockMode.EXCLUSIVE);
                assertEquals(made.get(i), counters[i], name + " seed " + seed + ": increments lost under lock " + i);
                check.release(locks[i], LockMode.EXCLUSIVE, null);
            }
            assertEquals(4 * ROUNDS, liveRounds.get(), "rounds made");
        }
    }

    private static void enter(AtomicIntegerArray inside, int i, AtomicReference<String> failure, String who) {
        if (inside.getAndIncrement(i) != 0) {
            failure.compareAndSet(null, who + " entered lock " + i + " while another thread was inside it");
        }
    }

    private static void assertTrue(boolean condition, String message) {
        org.junit.jupiter.api.Assertions.assertTrue(condition, message);
    }
}
