package io.dmtree.lock;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.lock.modular.ModularLockConfig;
import io.dmtree.lock.modular.ModularLockDesign;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/** FIFO designs grant in arrival order; the modular cohort's local handover is bounded. */
class FifoOrderTest {

    /**
     * A holder on CN 0 (the MN's host, so {@code alock}'s waiters are all in its remote cohort);
     * waiters on CNs 1..4 arrive one at a time (each after the lock's MN memory changed, i.e. after
     * its doorway). Grants must follow arrival order: overtaking bound 0.
     */
    @ParameterizedTest
    @ValueSource(strings = {"modular", "modular-mn-grant", "dslr", "rdma-mcs", "alock", "adaptive"})
    void grantsFollowArrivalOrder(String name) throws Exception {
        int waiters = 4;
        try (LockTestCluster c = new LockTestCluster(LockDesigns.byName(name), 1, waiters + 1, 4)) {
            long lock = c.lock(0);
            int words = LockDesigns.byName(name).lockBytes() / 8;
            c.client(0).acquire(lock, LockMode.EXCLUSIVE);
            ConcurrentLinkedQueue<Integer> order = new ConcurrentLinkedQueue<>();
            List<Thread> ts = new ArrayList<>();
            for (int cn = 1; cn <= waiters; cn++) {
                long[] before = snapshot(c, lock, words);
                LockClient client = c.client(cn);
                int id = cn;
                Thread t = new Thread(() -> {
                    client.acquire(lock, LockMode.EXCLUSIVE);
                    order.add(id);
                    client.release(lock, LockMode.EXCLUSIVE, null);
                });
                t.start();
                ts.add(t);
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (java.util.Arrays.equals(before, snapshot(c, lock, words))) {
                    assertTrue(System.nanoTime() < deadline, name + ": waiter " + cn + " never reached the MN");
                    Thread.sleep(1);
                }
                Thread.sleep(20); // let the doorway finish (entry WRITE, link message)
            }
            c.client(0).release(lock, LockMode.EXCLUSIVE, null);
            for (Thread t : ts) {
                t.join(10_000);
                assertFalse(t.isAlive(), name + ": a waiter was never granted");
            }
            assertEquals(List.of(1, 2, 3, 4), new ArrayList<>(order), name + ": grant order");
        }
    }

    private static long[] snapshot(LockTestCluster c, long lock, int words) {
        long[] w = new long[words];
        for (int i = 0; i < words; i++) {
            w[i] = c.peek(GlobalAddress.plus(lock, 8L * i));
        }
        return w;
    }

    /**
     * Six threads of CN 0 hammer one lock; a thread of CN 1 then asks for it. From the moment its
     * request is queued at the MN until it holds, CN 0 enters the lock at most maxLocalGrants
     * times: the documented overtaking bound of a remote waiter behind one cohort.
     */
    @Test
    void cohortHandoverIsBoundedForARemoteWaiter() throws Exception {
        int maxLocalGrants = 5;
        ModularLockDesign d = new ModularLockDesign(io.dmtree.lock.modular.LockAssignment.MODULAR,
                ModularLockConfig.defaults().withMaxLocalGrants(maxLocalGrants).withMaxRemoteWaitNanos(Long.MAX_VALUE / 4));
        try (LockTestCluster c = new LockTestCluster(d, 1, 2, 64)) {
            long lock = c.lock(0);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong cn0Entries = new AtomicLong();
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                Thread th = new Thread(() -> {
                    while (!stop.get()) {
                        c.client(0).acquire(lock, LockMode.EXCLUSIVE);
                        cn0Entries.incrementAndGet();
                        Thread.yield();
                        c.client(0).release(lock, LockMode.EXCLUSIVE, null);
                    }
                });
                th.start();
                ts.add(th);
            }
            Thread.sleep(100);
            AtomicLong queuedAt = new AtomicLong(-1);
            AtomicLong overtakes = new AtomicLong(-1);
            AtomicInteger worst = new AtomicInteger();
            for (int round = 0; round < 20; round++) {
                queuedAt.set(-1);
                Thread remote = new Thread(() -> {
                    c.client(1).acquire(lock, LockMode.EXCLUSIVE);
                    // granted before the main thread saw it queued: nobody overtook it
                    long at = queuedAt.get();
                    overtakes.set(at < 0 ? 0 : cn0Entries.get() - at);
                    c.client(1).release(lock, LockMode.EXCLUSIVE, null);
                });
                long sizeBefore = io.dmtree.lock.modular.ModularLockLayout.size(c.peek(lock));
                remote.start();
                // queued: the lock word's size grows past CN 0's one request
                while (io.dmtree.lock.modular.ModularLockLayout.size(c.peek(lock)) < 2 && remote.isAlive()) {
                    Thread.onSpinWait();
                }
                queuedAt.set(cn0Entries.get());
                remote.join(10_000);
                assertFalse(remote.isAlive(), "remote waiter starved");
                worst.accumulateAndGet((int) overtakes.get(), Math::max);
                assertTrue(sizeBefore >= 0);
            }
            stop.set(true);
            for (Thread th : ts) {
                th.join(10_000);
            }
            System.out.println("most CN 0 entries while the CN 1 waiter was queued: " + worst.get()
                    + " (bound " + maxLocalGrants + ")");
            assertTrue(worst.get() <= maxLocalGrants, "remote waiter overtaken " + worst.get() + " times");
        }
    }
}
