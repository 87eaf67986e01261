package io.dmtree.lock;

import io.dmtree.core.memory.ModelledLatencyVerbs;
import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.lock.baseline.CasSpinLock;
import io.dmtree.lock.modular.ModularLockDesign;
import io.dmtree.lock.modular.ModularLockLayout;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.*;

/** The modular lock's verb budget, from the exact counters of the local carrier. */
class ModularLockVerbBudgetTest {

    @Test
    void uncontendedAcquireIsOneVerbAndReleaseTwoVerbsInOneRoundTrip() {
        try (LockTestCluster c = new LockTestCluster(ModularLockDesign.modular(), 1, 2, 4)) {
            long lock = c.lock(0);
            for (LockMode mode : LockMode.values()) {
                VerbCounts t0 = c.traffic();
                c.client(0).acquire(lock, mode);
                VerbCounts acq = c.traffic().minus(t0);
                assertEquals(1, acq.verbs(), "acquire " + mode + ": " + acq);
                assertEquals(1, acq.faa());
                assertEquals(1, acq.roundTrips());

                VerbCounts t1 = c.traffic();
                c.client(0).release(lock, mode, null);
                VerbCounts rel = c.traffic().minus(t1);
                assertEquals(2, rel.verbs(), "release " + mode + ": " + rel);
                assertEquals(1, rel.faa());
                assertEquals(1, rel.reads());
                assertEquals(1, rel.roundTrips(), "release " + mode + " must be one round trip: " + rel);
            }
            assertEquals(0, ModularLockLayout.size(c.peek(lock)), "queue empty again");
            assertEquals(0, ModularLockLayout.exclusive(c.peek(lock)));
        }
    }

    @Test
    void releaseRidesOnTheCallersWriteBackBatch() {
        try (LockTestCluster c = new LockTestCluster(ModularLockDesign.modular(), 1, 1, 4)) {
            long lock = c.lock(0);
            long data = GlobalAddress.of(0, 1 << 20);
            UnsafeBuffer value = new UnsafeBuffer(new byte[64]);
            value.putLong(0, 42);
            c.client(0).acquire(lock, LockMode.EXCLUSIVE);
            VerbBatch wb = new VerbBatch().write(data, value, 0, 64);
            VerbCounts t0 = c.traffic();
            c.client(0).release(lock, LockMode.EXCLUSIVE, wb);
            VerbCounts rel = c.traffic().minus(t0);
            assertEquals(3, rel.verbs(), rel.toString());
            assertEquals(1, rel.roundTrips(), "write-back plus release in one round trip: " + rel);
            assertEquals(42, c.peek(data));
            assertEquals(3, wb.size(), "the batch holds what was posted");
        }
    }

    /**
     * One holder on CN 0 and {@code n} waiters, one per other CN, that arrive one after another.
     * Every waiter adds exactly 6 MN verbs (its FAA; its entry WRITE and word READ in one batch; its release CAS clearing its entry, FAA and READ in one batch),
     * however many wait, nobody touches the MN while waiting, and grants follow arrival order.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 8, 15})
    void mnVerbsPerHandoverStayConstantAsWaitersGrow(int n) throws Exception {
        try (LockTestCluster c = new LockTestCluster(ModularLockDesign.modular(), 1, n + 1, 4)) {
            long lock = c.lock(0);
            c.client(0).acquire(lock, LockMode.EXCLUSIVE);
            ConcurrentLinkedQueue<Integer> order = new ConcurrentLinkedQueue<>();
            List<Thread> waiters = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                int cn = i;
                CountDownLatch started = new CountDownLatch(1);
                Thread t = new Thread(() -> {
                    started.countDown();
                    LockClient client = c.client(cn);
                    client.acquire(lock, LockMode.EXCLUSIVE);
                    order.add(cn);
                    client.release(lock, LockMode.EXCLUSIVE, null);
                });
                t.start();
                waiters.add(t);
                started.await();
                awaitEntry(c, lock, i);
            }
            VerbCounts before = c.traffic();
            Thread.sleep(50);
            assertEquals(0, c.traffic().minus(before).verbs(), "waiters must not poll the MN");
            c.client(0).release(lock, LockMode.EXCLUSIVE, null);
            for (Thread t : waiters) {
                t.join(10_000);
                assertFalse(t.isAlive(), "waiter never granted");
            }
            VerbCounts total = c.traffic();
            assertEquals(1 + 6L * n + 2, total.verbs(), "n=" + n + ": " + total);
            List<Integer> expected = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                expected.add(i);
            }
            assertEquals(expected, new ArrayList<>(order), "grants follow MN arrival order");
            assertEquals(0, ModularLockLayout.size(c.peek(lock)));
        }
    }

    /** Waits until the request at queue position {@code position} has its entry written. */
    static void awaitEntry(LockTestCluster c, long lock, int position) throws InterruptedException {
        long entryAddress = GlobalAddress.plus(lock, ModularLockLayout.entryOffset(position, 16));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!ModularLockLayout.isFor(c.peek(entryAddress), position)) {
            assertTrue(System.nanoTime() < deadline, "entry " + position + " never written");
            Thread.sleep(1);
        }
    }

    /**
     * High contention as the tree makes it: every holder READs a 1 KiB node and writes 64 bytes back
     * in its release batch, so a hold lasts about two round trips. The figure compared is MN verbs
     * of the lock itself per acquire+release (all verbs minus the node's READ and WRITE). Round
     * trips are modelled (each parks the caller, {@link ModelledLatencyVerbs}) so that, as on a
     * network, all 16 threads have verbs in flight at once on this 2-core machine; the verb
     * counts themselves are exact.
     */
    @Test
    void atTwoCnsTimesEightThreadsModularUsesAtLeast95PercentFewerMnVerbsThanCasSpin() throws Exception {
        double modular = verbsPerOp(ModularLockDesign.modular());
        double casSpin = verbsPerOp(new CasSpinLock());
        System.out.printf("MN verbs per acquire+release at 2 CNs x 8 threads, 1 lock: modular %.3f, cas-spin %.3f,"
                + " reduction %.1f%%%n", modular, casSpin, 100 * (1 - modular / casSpin));
        assertTrue(modular <= 0.05 * casSpin, "modular " + modular + " vs cas-spin " + casSpin);
    }

    static double verbsPerOp(LockDesign design) throws Exception {
        int cns = 2;
        int threads = 8;
        int opsPerThread = 300;
        try (LockTestCluster c = new LockTestCluster(design, 1, cns, threads + 1, 20_000)) {
            long lock = c.lock(0);
            long data = GlobalAddress.of(0, 1 << 20);
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> all = new ArrayList<>();
            for (int cn = 0; cn < cns; cn++) {
                LockClient client = c.client(cn);
                io.dmtree.core.memory.Verbs verbs = c.verbs(cn);
                for (int t = 0; t < threads; t++) {
                    Thread th = new Thread(() -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        UnsafeBuffer node = new UnsafeBuffer(new byte[1024]);
                        VerbBatch wb = new VerbBatch();
                        for (int i = 0; i < opsPerThread; i++) {
                            client.acquire(lock, LockMode.EXCLUSIVE);
                            verbs.read(data, node, 0, 1024);
                            node.putLong(0, node.getLong(0) + 1);
                            wb.clear();
                            wb.write(data, node, 0, 64);
                            client.release(lock, LockMode.EXCLUSIVE, wb);
                        }
                    });
                    th.start();
                    all.add(th);
                }
            }
            go.countDown();
            for (Thread th : all) {
                th.join();
            }
            long ops = (long) cns * threads * opsPerThread;
            assertEquals(ops, c.peek(data), "node counter: the lock lost an update");
            return (double) (c.traffic().verbs() - 2 * ops) / ops;
        }
    }
}
