package io.dmtree.cn;

import io.dmtree.core.tree.TreeReport;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Regression tests for the three failures reported against the Sherman B+-tree, each run with
 * several logical compute nodes and small nodes so splits happen all the time:
 * scans that trust the cache miss keys; a search during an update of a present key says absent;
 * concurrent inserts into an empty tree grow the root wrongly.
 */
class ShermanRegressionTest {

    private static EmbeddedCluster cluster(int cns) {
        return DmTree.embedded().computeNodes(cns).memoryNodes(2).nodeBytes(256).regionBytes(128L << 20)
                .chunkBytes(1L << 20).start();
    }

    private interface Body {
        void run(int thread, Random random, AtomicBoolean stop) throws Exception;
    }

    /** Runs {@code threads} workers until {@code stop} or the budget; rethrows the first failure with the seed. */
    private static void race(long seed, int threads, long budgetMillis, Body body) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Random r = new Random(seed + t);
            ts.add(new Thread(() -> {
                try {
                    start.await();
                    body.run(id, r, stop);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    stop.set(true);
                }
            }));
        }
        ts.forEach(Thread::start);
        start.countDown();
        long deadline = System.currentTimeMillis() + (long) (budgetMillis * Seeds.scale());
        while (System.currentTimeMillis() < deadline && !stop.get() && ts.stream().anyMatch(Thread::isAlive)) {
            Thread.sleep(5);
        }
        stop.set(true);
        for (Thread t : ts) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("seed " + seed, failure.get());
        }
    }

    @Test
    void scanUnderConcurrentInsertsMissesNoPreexistingKey() throws Exception {
        long seed = Seeds.seed("scanUnderConcurrentInsertsMissesNoPreexistingKey");
        int evens = 4_000;
        try (EmbeddedCluster cluster = cluster(3)) {
            for (long k = 0; k < 2L * evens; k += 2) {
                cluster.index(0).put(k, k);
            }
            // warm every compute node's cache, so stale cached parents are in play once splits start
            for (int cn = 0; cn < 3; cn++) {
                for (long k = 0; k < 2L * evens; k += 50) {
                    cluster.index(cn).get(k);
                }
            }
            race(seed, 4, 3_000, (thread, r, stop) -> {
                DmIndex index = cluster.index(thread % 3);
                if (thread < 2) {
                    while (!stop.get()) {
                        long k = 2L * r.nextInt(evens) + 1; // odd: new keys, splitting leaves
                        index.put(k, k);
                    }
                } else {
                    while (!stop.get()) {
                        long from = 2L * r.nextInt(evens / 2);
                        long to = from + 2L * (1 + r.nextInt(400));
                        List<DmIndex.LongEntry> got = index.range(from, to);
                        long expectEven = from;
                        long previous = Long.MIN_VALUE;
                        for (DmIndex.LongEntry e : got) {
                            assertTrue(e.key() > previous, "scan out of order");
                            previous = e.key();
                            if (e.key() % 2 == 0) {
                                assertEquals(expectEven, e.key(), "scan [" + from + ", " + to + ") missed key " + expectEven);
                                expectEven += 2;
                            }
                        }
                        assertEquals(Math.min(to, 2L * evens), expectEven, "scan [" + from + ", " + to + ") stopped early");
                    }
                }
            });
            TreeReport report = cluster.check();
            assertTrue(report.ok(), report::toString);
        }
    }

    @Test
    void searchDuringUpdatesOfAPresentKeyNeverSaysAbsent() throws Exception {
        long seed = Seeds.seed("searchDuringUpdatesOfAPresentKeyNeverSaysAbsent");
        int keys = 2_000;
        try (EmbeddedCluster cluster = cluster(3)) {
            for (long k = 0; k < keys; k++) {
                cluster.index(0).put(k * 10, 0);
            }
            race(seed, 5, 3_000, (thread, r, stop) -> {
                DmIndex index = cluster.index(thread % 3);
                long v = 1;
                while (!stop.get()) {
                    long k = 10L * r.nextInt(keys);
                    if (thread < 2) {
                        index.put(k, v++);                        // update a present key
                        index.put(k + 1 + r.nextInt(9), v);       // and insert next to it: splits
                    } else {
                        OptionalLong got = index.get(k);
                        assertTrue(got.isPresent(), "present key " + k + " reported absent");
                    }
                }
            });
            assertTrue(cluster.check().ok());
        }
    }

    @RepeatedTest(5)
    void concurrentInsertsIntoAnEmptyTreeGrowTheRootCorrectly() throws Exception {
        long seed = Seeds.seed("concurrentInsertsIntoAnEmptyTreeGrowTheRootCorrectly");
        int threads = 6;
        int perThread = 3_000;
        try (EmbeddedCluster cluster = cluster(3)) {
            race(seed, threads, 60_000, (thread, r, stop) -> {
                DmIndex index = cluster.index(thread % 3);
                for (int i = 0; i < perThread; i++) {
                    long k = (long) i * threads + thread; // disjoint, interleaved: every thread splits the same nodes
                    index.put(k, -k);
                }
            });
            TreeReport report = cluster.check();
            assertTrue(report.ok(), report::toString);
            assertEquals((long) threads * perThread, report.keys());
            assertTrue(report.height() >= 3, report::toString);
            for (int cn = 0; cn < 3; cn++) {
                for (long k = 0; k < (long) threads * perThread; k++) {
                    assertEquals(OptionalLong.of(-k), cluster.index(cn).get(k), "key " + k + " from compute node " + cn);
                }
            }
        }
    }
}
