package io.dmtree.cn;

import io.dmtree.cn.history.HistoryCheck;
import io.dmtree.cn.history.HistoryFile;
import io.dmtree.cn.history.HistoryFile.Kind;
import io.dmtree.cn.history.HistoryFile.Op;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.core.tree.TreeStats;
import io.dmtree.lock.LockDesigns;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded concurrent stress of a tree that grows and shrinks: three compute nodes, two threads
 * each, insert and delete waves over a key range (so leaves, internal nodes and the root merge
 * and split while everything else runs), lookups and scans throughout. Checked: every key's
 * history is linearizable ({@link HistoryCheck}), every scan is sorted and holds every
 * <em>anchor</em> key in its range (anchors are put before and never touched, so a scan that
 * skipped a merged leaf would miss one), the final state, and the tree checker; and merges of
 * every level happened. Replay with {@code -Ddmtree.seed=N}; lengthen with
 * {@code -Ddmtree.stress.scale}; {@code -Ddmtree.stress.reuse=false} keeps removed nodes (reuse is on by
 * default), {@code -Ddmtree.stress.lock=a,b} runs only those designs.
 */
@Timeout(value = 300, unit = java.util.concurrent.TimeUnit.SECONDS)
class ShrinkingStressTest {
    private static final int ANCHOR_EVERY = 97;

    static List<String> designs() {
        String only = System.getProperty("dmtree.stress.lock");
        return only == null ? LockDesigns.names() : List.of(only.split(","));
    }

    @ParameterizedTest
    @MethodSource("designs")
    void growAndShrinkWavesStayLinearizable(String lock) throws Exception {
        long seed = Seeds.seed("growAndShrinkWavesStayLinearizable[" + lock + "]");
        Random rnd = new Random(seed);
        int cns = 3;
        int threadsPerCn = 2;
        int opsPerThread = (int) (20_000 * Seeds.scale());
        int keySpace = 4_000;
        try (EmbeddedCluster cluster = DmTree.embedded().computeNodes(cns).memoryNodes(2).nodeBytes(256).lock(lock)
                .regionBytes(128L << 20).chunkBytes(1L << 20).start()) {
            Map<Long, Long> initial = new HashMap<>();
            for (long k = 0; k < keySpace; k += ANCHOR_EVERY) {
                cluster.index(0).put(k, -k - 1);
                initial.put(k, -k - 1);
            }
            for (int cn = 0; cn < cns; cn++) {
                cluster.computeNode(cn).tree().reusing(Boolean.parseBoolean(System.getProperty("dmtree.stress.reuse", "true")));
            }
            List<Op> history = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            CountDownLatch start = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int t = 0; t < cns * threadsPerCn; t++) {
                DmIndex index = cluster.index(t % cns);
                long threadSeed = rnd.nextLong();
                long firstValue = (t + 1L) << 40;
                threads.add(daemon(() -> {
                    Random r = new Random(threadSeed);
                    List<Op> ops = new ArrayList<>(opsPerThread);
                    long v = firstValue;
                    try {
                        start.await();
                        for (int i = 0; i < opsPerThread; i++) {
                            boolean growing = (i / 2500) % 2 == 0; // waves: mostly puts, then mostly deletes
                            long key = r.nextInt(keySpace);
                            if (key % ANCHOR_EVERY == 0) {
                                key++; // anchors are never written
                            }
                            int dice = r.nextInt(100);
                            long t0 = System.nanoTime();
                            if (dice < 25) {
                                OptionalLong got = index.get(key);
                                ops.add(new Op(0, 0, 0, Kind.GET, key, 0, t0, System.nanoTime(), got.orElse(0), got.isEmpty()));
                            } else if (dice < (growing ? 80 : 30)) {
                                long value = v++;
                                index.put(key, value);
                                ops.add(new Op(0, 0, 0, Kind.PUT, key, value, t0, System.nanoTime(), 0, false));
                            } else if (dice < 95) {
                                index.delete(key);
                                ops.add(new Op(0, 0, 0, Kind.DELETE, key, 0, t0, System.nanoTime(), 0, false));
                            } else {
                                checkScan(index, r.nextInt(keySpace), 1 + r.nextInt(200));
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                    history.addAll(ops);
                }));
            }
            threads.forEach(Thread::start);
            start.countDown();
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("seed " + seed + ": operation failed", failure.get());
            }
            Map<Long, Long> finalValues = new HashMap<>();
            for (DmIndex.LongEntry e : cluster.index(1).scan(Long.MIN_VALUE, Integer.MAX_VALUE)) {
                finalValues.put(e.key(), e.value());
            }
            Map<Long, Long> finals = new HashMap<>();
            for (Op op : history) {
                finals.put(op.key(), finalValues.getOrDefault(op.key(), HistoryFile.ABSENT));
            }
            List<String> violations = HistoryCheck.check(history, initial, finals, false).violations();
            assertTrue(violations.isEmpty(), "seed " + seed + ": " + violations.size() + " violations, first: "
                    + violations.subList(0, Math.min(3, violations.size())));
            for (long k = 0; k < keySpace; k += ANCHOR_EVERY) {
                assertEquals(-k - 1, finalValues.get(k), "seed " + seed + ": anchor " + k);
            }
            TreeReport report = cluster.check();
            assertTrue(report.ok(), "seed " + seed + ": " + report);
            assertEquals(finalValues.size(), report.keys());
            long leafMerges = 0;
            long internalMerges = 0;
            long removed = 0;
            long reused = 0;
            long reusedReached = 0;
            for (int cn = 0; cn < cns; cn++) {
                TreeStats s = cluster.computeNode(cn).tree().stats();
                leafMerges += s.leafMerges.sum();
                internalMerges += s.internalMerges.sum();
                removed += cluster.computeNode(cn).tree().removedNodes().count();
                reused += cluster.computeNode(cn).tree().allocator().reused();
                reusedReached += s.reusedReached.sum();
            }
            System.out.printf("%s seed %d: %d leaf merges, %d internal merges, %d nodes removed, %d reused, %d reused"
                    + " nodes reached by stale pointers; final %s%n", lock, seed, leafMerges, internalMerges, removed,
                    reused, reusedReached, report);
            assertEquals(0, report.region().leaked(), "seed " + seed + ": " + report);
            assertTrue(leafMerges > 0, "seed " + seed + ": no leaf merged");
            assertTrue(internalMerges > 0, "seed " + seed + ": no internal node merged");
        }
    }

    /** A scan from {@code from}: sorted, and every anchor in the range it covered is there. */
    private static void checkScan(DmIndex index, long from, int limit) {
        List<DmIndex.LongEntry> scan = index.scan(from, limit);
        for (int j = 1; j < scan.size(); j++) {
            if (scan.get(j - 1).key() >= scan.get(j).key()) {
                throw new AssertionError("scan out of order: " + scan);
            }
        }
        if (scan.isEmpty() && from <= (4_000 - 1) / ANCHOR_EVERY * ANCHOR_EVERY) {
            throw new AssertionError("scan from " + from + " found nothing, though anchors lie above it");
        }
        long last = scan.size() == limit ? scan.get(scan.size() - 1).key() : Long.MAX_VALUE;
        int j = 0;
        for (long anchor = (from + ANCHOR_EVERY - 1) / ANCHOR_EVERY * ANCHOR_EVERY; anchor <= last && anchor < 4_000; anchor += ANCHOR_EVERY) {
            while (j < scan.size() && scan.get(j).key() < anchor) {
                j++;
            }
            if (j == scan.size() || scan.get(j).key() != anchor || scan.get(j).value() != -anchor - 1) {
                throw new AssertionError("scan from " + from + " (limit " + limit + ") missed anchor " + anchor + ": " + scan);
            }
        }
    }

    private static Thread daemon(Runnable body) {
        Thread t = new Thread(body);
        t.setDaemon(true);
        return t;
    }
}
