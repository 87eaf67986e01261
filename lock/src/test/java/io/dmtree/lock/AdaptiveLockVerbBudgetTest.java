package io.dmtree.lock;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.lock.adaptive.AdaptiveLockClient;
import io.dmtree.lock.adaptive.AdaptiveLockConfig;
import io.dmtree.lock.adaptive.AdaptiveLockDesign;
import io.dmtree.lock.adaptive.AdaptiveLockLayout;
import io.dmtree.lock.baseline.CasSpinLock;
import io.dmtree.lock.modular.ModularLockLayout;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The adaptive lock's verb budget in each assignment and at the switches, from the exact counters
 * of the local carrier: the word assignment costs what {@code cas-spin} costs uncontended, the
 * queued assignment what {@code modular} costs per waiter, and waiters queued behind a queue holder
 * never touch the MN.
 */
class AdaptiveLockVerbBudgetTest {

    @Test
    void uncontendedIsOneCasAndOneFaaInTheWriteBackRoundTrip() {
        try (LockTestCluster c = new LockTestCluster(new AdaptiveLockDesign(), 1, 2, 4)) {
            long lock = c.lock(0);
            long data = GlobalAddress.of(0, 1 << 20);
            UnsafeBuffer value = new UnsafeBuffer(new byte[64]);
            for (int round = 0; round < 3; round++) {
                VerbCounts t0 = c.traffic();
                c.client(0).acquire(lock, LockMode.EXCLUSIVE);
                VerbCounts acq = c.traffic().minus(t0);
                assertEquals(1, acq.verbs(), "acquire: " + acq);
                assertEquals(1, acq.cas(), acq.toString());
                assertNotEquals(AdaptiveLockLayout.FREE, c.peek(lock), "the word names its holder");

                value.putLong(0, round + 1);
                VerbBatch wb = new VerbBatch().write(data, value, 0, 64);
                VerbCounts t1 = c.traffic();
                c.client(0).release(lock, LockMode.EXCLUSIVE, wb);
                VerbCounts rel = c.traffic().minus(t1);
                assertEquals(2, rel.verbs(), "write-back and release: " + rel);
                assertEquals(1, rel.faa(), rel.toString());
                assertEquals(1, rel.roundTrips(), "one round trip: " + rel);
                assertEquals(round + 1, c.peek(data));
                assertEquals(AdaptiveLockLayout.FREE, c.peek(lock));
            }
            assertEquals(0, c.peek(GlobalAddress.plus(lock, AdaptiveLockLayout.QUEUE_LOCK_OFFSET)),
                    "the modular lock behind the word was never used");
        }
    }

    /**
     * CN 0 holds in the word assignment; CN 1 finds it held, queues and takes the word over when
     * CN 0 releases; then {@code n - 1} more waiters queue behind CN 1. While they wait nobody
     * touches the MN; each costs exactly what a modular waiter costs plus its failed CAS (7 verbs);
     * grants follow arrival order and are handed on (no further take-over). Afterwards, once
     * {@code quietTenures} quiet tenures passed, an acquire is one CAS again.
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 4, 8})
    void switchesToTheQueueUnderContentionAndBackWhenItEnds(int n) throws Exception {
        AdaptiveLockDesign d = new AdaptiveLockDesign(AdaptiveLockConfig.defaults().withQuietTenures(2));
        try (LockTestCluster c = new LockTestCluster(d, 1, n + 1, 4)) {
            long lock = c.lock(0);
            long queueWord = GlobalAddress.plus(lock, AdaptiveLockLayout.QUEUE_LOCK_OFFSET);
            c.client(0).acquire(lock, LockMode.EXCLUSIVE);
            ConcurrentLinkedQueue<Integer> order = new ConcurrentLinkedQueue<>();
            CountDownLatch firstHolds = new CountDownLatch(1);
            CountDownLatch letFirstGo = new CountDownLatch(1);
            Thread first = new Thread(() -> {
                c.client(1).acquire(lock, LockMode.EXCLUSIVE);
                order.add(1);
                firstHolds.countDown();
                try {
                    letFirstGo.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                c.client(1).release(lock, LockMode.EXCLUSIVE, null);
            });
            first.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (c.peek(lock) == AdaptiveLockLayout.tag(0, 0)) { // until CN 1 flags the queue beside CN 0's tag
                assertTrue(System.nanoTime() < deadline, "CN 1 never flagged the word");
                Thread.sleep(1);
            }
            assertTrue(AdaptiveLockLayout.queueFlag(c.peek(lock)), AdaptiveLockLayout.describe(c.peek(lock)));
            c.client(0).release(lock, LockMode.EXCLUSIVE, null);
            firstHolds.await();
            assertEquals(AdaptiveLockLayout.QUEUED, c.peek(lock), "CN 1's take-over left the word to the queue");

            VerbCounts base = c.traffic();
            List<Thread> waiters = new ArrayList<>();
            for (int i = 2; i <= n; i++) {
                int cn = i;
                Thread t = new Thread(() -> {
                    LockClient client = c.client(cn);
                    client.acquire(lock, LockMode.EXCLUSIVE);
                    order.add(cn);
                    client.release(lock, LockMode.EXCLUSIVE, null);
                });
                t.start();
                waiters.add(t);
                ModularLockVerbBudgetTest.awaitEntry(c, queueWord, i - 1);
            }
            VerbCounts quiet = c.traffic();
            Thread.sleep(50);
            assertEquals(0, c.traffic().minus(quiet).verbs(), "queued waiters must not poll the MN");
            letFirstGo.countDown();
            first.join(10_000);
            for (Thread t : waiters) {
                t.join(10_000);
                assertFalse(t.isAlive(), "waiter never granted");
            }
            VerbCounts total = c.traffic().minus(base);
            // CN 1's release (FAA + READ) and 7 verbs per later waiter: CAS, FAA, WRITE+READ, CAS+FAA+READ
            assertEquals(2 + 7L * (n - 1), total.verbs(), "n=" + n + ": " + total);
            List<Integer> expected = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                expected.add(i);
            }
            assertEquals(expected, new ArrayList<>(order), "grants follow MN arrival order");
            assertEquals(AdaptiveLockLayout.QUEUED, c.peek(lock), "one quiet tenure is not enough to switch back");
            assertEquals(0, ModularLockLayout.size(c.peek(queueWord)));

            // contention has ended: CN n's next quiet tenure (its second in a row) switches back
            LockClient last = c.client(n);
            VerbCounts t0 = c.traffic();
            last.acquire(lock, LockMode.EXCLUSIVE);
            VerbCounts acq = c.traffic().minus(t0);
            assertEquals(2, acq.verbs(), "queued acquire granted at once, take-over finds QUEUED: " + acq);
            VerbCounts t1 = c.traffic();
            last.release(lock, LockMode.EXCLUSIVE, null);
            VerbCounts rel = c.traffic().minus(t1);
            assertEquals(3, rel.verbs(), "switch back: WRITE of the word, FAA, READ: " + rel);
            assertEquals(1, rel.roundTrips(), rel.toString());
            assertEquals(AdaptiveLockLayout.FREE, c.peek(lock), "back in the word assignment");
            VerbCounts t2 = c.traffic();
            last.acquire(lock, LockMode.EXCLUSIVE);
            assertEquals(1, c.traffic().minus(t2).verbs(), "an acquire is one CAS again");
            last.release(lock, LockMode.EXCLUSIVE, null);
            AdaptiveLockClient.Stats s = ((AdaptiveLockClient) c.client(1)).stats();
            assertEquals(1, s.takeOvers(), "CN 1 took the word over once: " + s);
        }
    }

    /**
     * High contention as the tree makes it (2 CNs x 8 threads on one lock, a 1 KiB READ and a
     * 64-byte write-back per hold, modelled round trips so all threads have verbs in flight): the
     * lock settles in the queued assignment and its MN verbs per acquire+release stay within a small
     * fraction of {@code cas-spin}'s (exact counts; the ratio is printed).
     */
    @Test
    void underHighContentionAdaptiveUsesAtLeast90PercentFewerMnVerbsThanCasSpin() throws Exception {
        double adaptive = ModularLockVerbBudgetTest.verbsPerOp(new AdaptiveLockDesign());
        double casSpin = ModularLockVerbBudgetTest.verbsPerOp(new CasSpinLock());
        System.out.printf("MN verbs per acquire+release at 2 CNs x 8 threads, 1 lock: adaptive %.3f, cas-spin %.3f,"
                + " reduction %.1f%%%n", adaptive, casSpin, 100 * (1 - adaptive / casSpin));
        assertTrue(adaptive <= 0.10 * casSpin, "adaptive " + adaptive + " vs cas-spin " + casSpin);
    }
}
