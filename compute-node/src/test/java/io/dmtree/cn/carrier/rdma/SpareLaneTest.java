package io.dmtree.cn.carrier.rdma;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A lane's spare takes over at once after a failure, a new spare is opened in the background, nothing leaks. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SpareLaneTest {
    /** A stand-in queue pair that counts its closes. */
    static final class FakeQp implements AutoCloseable {
        final int id;
        final AtomicInteger closes = new AtomicInteger();

        FakeQp(int id) {
            this.id = id;
        }

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }

    @Test
    void theSpareTakesOverWithoutWaitingAndIsReplaced() throws Exception {
        Queue<Runnable> background = new ArrayDeque<>();
        AtomicInteger next = new AtomicInteger(2);
        AtomicInteger opens = new AtomicInteger();
        FakeQp a = new FakeQp(0);
        FakeQp s = new FakeQp(1);
        SpareLane<FakeQp> lane = new SpareLane<>(a, s, () -> {
            opens.incrementAndGet();
            return new FakeQp(next.getAndIncrement());
        }, background::add);
        assertSame(a, lane.active());
        lane.failed(a, "IBV_WC_REM_ACCESS_ERR");
        assertEquals(1, a.closes.get());
        assertSame(s, lane.active(), "the spare, at once");
        assertEquals(0, opens.get(), "nothing opened on the caller's thread");
        assertFalse(lane.spareReady());
        assertEquals(1, background.size());
        background.poll().run();
        assertTrue(lane.spareReady());
        lane.failed(a, "again"); // a stale failure changes nothing
        assertSame(s, lane.active());
        assertEquals(1, a.closes.get());
        assertEquals(1, lane.failovers());
        assertEquals("IBV_WC_REM_ACCESS_ERR", lane.lastFailure());
        lane.close();
        assertEquals(1, s.closes.get());
        assertThrows(IllegalStateException.class, lane::active);
    }

    @Test
    void aFailedReplenishmentIsRetriedAndAnEmptyLaneOpensOnTheCallersThread() throws Exception {
        Queue<Runnable> background = new ArrayDeque<>();
        AtomicReference<Exception> failOpen = new AtomicReference<>(new java.io.IOException("fenced"));
        AtomicInteger next = new AtomicInteger(2);
        SpareLane<FakeQp> lane = new SpareLane<>(new FakeQp(0), new FakeQp(1), () -> {
            Exception e = failOpen.get();
            if (e != null) {
                throw e;
            }
            return new FakeQp(next.getAndIncrement());
        }, background::add);
        FakeQp first = lane.active();
        lane.failed(first, "x");
        background.poll().run(); // fails
        assertTrue(lane.lastFailure().contains("fenced"), lane.lastFailure());
        FakeQp second = lane.active();
        lane.failed(second, "y"); // no spare: the lane is empty; a replenishment is scheduled again
        assertEquals(1, background.size());
        background.poll().run(); // fails again
        assertThrows(java.io.IOException.class, lane::active, "an empty lane opens on the caller's thread, and says why not");
        failOpen.set(null);
        FakeQp third = lane.active();
        assertNotSame(second, third);
        background.poll().run(); // the spare after the caller's opening
        assertTrue(lane.spareReady());
        lane.close();
        assertEquals(1, third.closes.get());
    }

    @Test
    void concurrentFailuresNeverHandOutAFailedQueuePairAndCloseEachOnce() throws Exception {
        long seed = Long.getLong("dmtree.seed", System.nanoTime());
        System.out.println("SpareLaneTest seed " + seed + " (-Ddmtree.seed=" + seed + " repeats it)");
        Set<FakeQp> all = ConcurrentHashMap.newKeySet();
        Set<FakeQp> failed = ConcurrentHashMap.newKeySet();
        AtomicInteger next = new AtomicInteger(2);
        ExecutorService replenisher = Executors.newSingleThreadExecutor();
        FakeQp a = new FakeQp(0);
        FakeQp s = new FakeQp(1);
        all.add(a);
        all.add(s);
        SpareLane<FakeQp> lane = new SpareLane<>(a, s, () -> {
            FakeQp q = new FakeQp(next.getAndIncrement());
            all.add(q);
            return q;
        }, replenisher);
        AtomicReference<Throwable> error = new AtomicReference<>();
        Object laneLock = new Object();
        Thread[] threads = new Thread[4];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (int t = 0; t < threads.length; t++) {
            SplittableRandom r = new SplittableRandom(seed + t);
            threads[t] = new Thread(() -> {
                try {
                    for (int i = 0; i < 5_000 && System.nanoTime() < deadline; i++) {
                        synchronized (laneLock) { // as the verbs hold their lane's lock while posting; the replenisher runs beside
                            FakeQp q = lane.active();
                            if (failed.contains(q) || q.closes.get() > 0) {
                                throw new AssertionError("queue pair " + q.id + " handed out after it failed or closed");
                            }
                            if (r.nextInt(8) == 0) {
                                failed.add(q);
                                lane.failed(q, "error " + q.id);
                            }
                        }
                        if ((i & 63) == 0) {
                            Thread.yield();
                        }
                    }
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        replenisher.shutdown();
        assertTrue(replenisher.awaitTermination(10, TimeUnit.SECONDS));
        assertNull(error.get(), () -> String.valueOf(error.get()));
        lane.close();
        for (FakeQp q : all) {
            assertEquals(1, q.closes.get(), "queue pair " + q.id + " closed once (failed: " + failed.contains(q) + ")");
        }
    }
}
