package io.dmtree.cn;

import io.dmtree.cn.history.HistoryCheck;
import io.dmtree.cn.history.HistoryFile;
import io.dmtree.cn.history.HistoryFile.Kind;
import io.dmtree.cn.history.HistoryFile.Op;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.lock.LockDesigns;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
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
 * Seeded concurrent stress: several logical compute nodes, several threads each, mixed get, put,
 * delete and scan on overlapping keys with small nodes (so splits race with everything), checked
 * against the sequential model of a map, then by the tree checker. Runs once per lock design.
 */
@Timeout(value = 300, unit = java.util.concurrent.TimeUnit.SECONDS) // a lost wake-up or deadlock fails, not hangs
class ConcurrentStressTest {
    static List<String> designs() {
        return LockDesigns.names();
    }

    private static EmbeddedCluster cluster(String lock, int cns, int mns) {
        return DmTree.embedded().computeNodes(cns).memoryNodes(mns).nodeBytes(256).lock(lock)
                .regionBytes(128L << 20).chunkBytes(1L << 20).start();
    }

    /** Exact linearizability on many small histories, each round on the tree the earlier rounds left. */
    @ParameterizedTest
    @MethodSource("designs")
    void smallHistoriesAreLinearizable(String lock) throws Exception {
        long seed = Seeds.seed("smallHistoriesAreLinearizable[" + lock + "]");
        Random rnd = new Random(seed);
        int cns = 3;
        int threadsPerCn = 2;
        int rounds = (int) (150 * Seeds.scale());
        try (EmbeddedCluster cluster = cluster(lock, cns, 2)) {
            Map<Long, Long> state = new HashMap<>();
            long nextValue = 1;
            for (int round = 0; round < rounds; round++) {
                long base = rnd.nextInt(4000);
                int keys = 4;
                Map<Long, Long> initial = new HashMap<>(state);
                List<Op> history = java.util.Collections.synchronizedList(new ArrayList<>());
                List<List<Op>> perThread = new ArrayList<>();
                List<Thread> threads = new ArrayList<>();
                CountDownLatch start = new CountDownLatch(1);
                AtomicReference<Throwable> failure = new AtomicReference<>();
                long valueBase = nextValue;
                nextValue += 1000;
                for (int t = 0; t < cns * threadsPerCn; t++) {
                    DmIndex index = cluster.index(t % cns);
                    long threadSeed = rnd.nextLong();
                    long firstValue = valueBase + t * 100L;
                    List<Op> ops = new ArrayList<>();
                    perThread.add(ops);
                    threads.add(daemon(() -> {
                        Random r = new Random(threadSeed);
                        long v = firstValue;
                        try {
                            start.await();
                            for (int i = 0; i < 8; i++) {
                                long key = base + r.nextInt(keys) * 3;
                                int dice = r.nextInt(10);
                                long t0 = System.nanoTime();
                                if (dice < 4) {
                                    ops.add(timedGet(index, key, t0));
                                } else if (dice < 9) {
                                    long value = v++;
                                    index.put(key, value);
                                    ops.add(op(key, Kind.PUT, value, t0));
                                } else {
                                    index.delete(key);
                                    ops.add(op(key, Kind.DELETE, 0, t0));
                                }
                            }
                        } catch (Throwable e) {
                            failure.set(e);
                        }
                    }));
                }
                runTogether(threads, start, failure, seed);
                perThread.forEach(history::addAll);
                List<String> violations = HistoryCheck.check(history, initial, Map.of(), true).violations();
                assertTrue(violations.isEmpty(), "seed " + seed + " round " + round + ": " + violations);
                // carry the state forward: read it back (quiescent) for the next round's model
                for (long key : history.stream().map(Op::key).distinct().toList()) {
                    OptionalLong v = cluster.index(0).get(key);
                    if (v.isPresent()) {
                        state.put(key, v.getAsLong());
                    } else {
                        state.remove(key);
                    }
                }
                // fill around to provoke splits in the next rounds
                for (int i = 0; i < 6; i++) {
                    long k = base + rnd.nextInt(60) - 30;
                    if (k % 3 != base % 3) {
                        long value = nextValue++;
                        cluster.index(rnd.nextInt(cns)).put(k, value);
                        state.put(k, value);
                    }
                }
            }
            TreeReport report = cluster.check();
            assertTrue(report.ok(), "seed " + seed + ": " + report);
            assertEquals(state.size(), report.keys(), "seed " + seed);
        }
    }

    /** Long histories on a hot key range: per-key regularity and the final state, then the checker. */
    @ParameterizedTest
    @MethodSource("designs")
    void longHistoriesOnHotKeysStayConsistent(String lock) throws Exception {
        long seed = Seeds.seed("longHistoriesOnHotKeysStayConsistent[" + lock + "]");
        Random rnd = new Random(seed);
        int cns = 3;
        int threadsPerCn = 2;
        int opsPerThread = (int) (20_000 * Seeds.scale());
        int keySpace = 3_000;
        try (EmbeddedCluster cluster = cluster(lock, cns, 2)) {
            Map<Long, Long> initial = new HashMap<>();
            for (long k = 0; k < keySpace; k += 2) {
                cluster.index(0).put(k, -k - 1);
                initial.put(k, -k - 1);
            }
            List<Op> history = java.util.Collections.synchronizedList(new ArrayList<>());
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
                            // skewed: half the operations on 1% of the keys
                            long key = r.nextBoolean() ? r.nextInt(keySpace / 100) : r.nextInt(keySpace);
                            int dice = r.nextInt(100);
                            long t0 = System.nanoTime();
                            if (dice < 45) {
                                ops.add(timedGet(index, key, t0));
                            } else if (dice < 85) {
                                long value = v++;
                                index.put(key, value);
                                ops.add(op(key, Kind.PUT, value, t0));
                            } else if (dice < 95) {
                                index.delete(key);
                                ops.add(op(key, Kind.DELETE, 0, t0));
                            } else {
                                List<DmIndex.LongEntry> scan = index.scan(key, 20);
                                for (int j = 1; j < scan.size(); j++) {
                                    if (scan.get(j - 1).key() >= scan.get(j).key()) {
                                        throw new AssertionError("scan out of order: " + scan);
                                    }
                                }
                            }
                        }
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                    history.addAll(ops);
                }));
            }
            runTogether(threads, start, failure, seed);
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
            TreeReport report = cluster.check();
            assertTrue(report.ok(), "seed " + seed + ": " + report);
            assertEquals(finalValues.size(), report.keys());
        }
    }

    /** Starts the workers at once, waits for all, and rethrows the first failure with the seed. */
    private static void runTogether(List<Thread> threads, CountDownLatch start, AtomicReference<Throwable> failure,
                                    long seed) throws InterruptedException {
        threads.forEach(Thread::start);
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("seed " + seed + ": operation failed", failure.get());
        }
    }

    /** A get, recorded with its invocation time {@code t0} and its response time. */
    private static Op timedGet(DmIndex index, long key, long t0) {
        OptionalLong got = index.get(key);
        return new Op(0, 0, 0, Kind.GET, key, 0, t0, System.nanoTime(), got.orElse(0), got.isEmpty());
    }

    /** A put or delete that was invoked at {@code t0} and returned now. */
    private static Op op(long key, Kind kind, long value, long t0) {
        return new Op(0, 0, 0, kind, key, value, t0, System.nanoTime(), 0, false);
    }

    /** Workers are daemons, so a hung one cannot keep the test JVM alive after a timeout. */
    private static Thread daemon(Runnable body) {
        Thread t = new Thread(body);
        t.setDaemon(true);
        return t;
    }
}
