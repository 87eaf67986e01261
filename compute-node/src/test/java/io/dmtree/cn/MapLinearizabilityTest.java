package io.dmtree.cn;

import io.dmtree.cn.history.MapHistoryCheck;
import io.dmtree.cn.history.MapHistoryCheck.Kind;
import io.dmtree.cn.history.MapHistoryCheck.Op;
import io.dmtree.core.tree.KeyOrder;
import io.dmtree.core.tree.TreeReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded concurrent stress of the whole-map operations: three compute nodes, a thread each (they
 * start every round together),
 * on a domain of eight keys spread over leaves of four entries (so puts split and deletes merge while
 * navigation crosses leaves), with a background of keys that never change; every round's history
 * (conditional updates, compute, batches, navigation) is checked for linearizability as a whole
 * map by {@link MapHistoryCheck}, then the tree by its checker. Once per lock design, with
 * shrinking on and off (off leaves runs of empty leaves for navigation to cross). Leaf validation
 * is what the stress exercises least on a two-core host (a navigation must be overtaken between two
 * leaf reads); the deterministic {@link #ceilingNeverAnswersAKeyPutAfterOneItSkipped} forces that
 * interleaving, and fails with validation off.
 */
@Timeout(value = 300, unit = java.util.concurrent.TimeUnit.SECONDS)
class MapLinearizabilityTest {
    private static final int VALUE_BYTES = 32;
    private static final long[] DOMAIN = {100, 140, 180, 220, 260, 300, 340, 380};

    private static EmbeddedCluster cluster(String lock, int cns) {
        // 8-byte keys and 32-byte values in 256-byte nodes: four entries per leaf
        return DmTree.embedded().computeNodes(cns).memoryNodes(2).keyBytes(8).valueBytes(VALUE_BYTES).nodeBytes(256)
                .lock(lock).regionBytes(64L << 20).chunkBytes(1L << 20).start();
    }

    static byte[] k(long key) {
        return KeyOrder.longKeyBytes(key);
    }

    static byte[] v(long value) {
        return ByteBuffer.allocate(VALUE_BYTES).putLong(value).array();
    }

    static long value(byte[] v) {
        return v == null ? MapHistoryCheck.ABSENT : ByteBuffer.wrap(v).getLong();
    }

    static long key(byte[] k) {
        return KeyOrder.decodeLong(ByteBuffer.wrap(k).getLong());
    }

    @ParameterizedTest(name = "{0}, shrinking {1}")
    @CsvSource({"modular, true", "modular, false", "cas-spin, true", "cas-spin, false", "hocl, true", "dslr, false"})
    void historiesAreLinearizable(String lock, boolean shrinking) throws Exception {
        long seed = Seeds.seed("MapLinearizabilityTest[" + lock + ", " + shrinking + "]");
        Random rnd = new Random(seed);
        int cns = 3;
        int threadsPerCn = 1;
        int opsPerThread = 8;
        int rounds = (int) (200 * Seeds.scale());
        try (EmbeddedCluster cluster = cluster(lock, cns)) {
            for (int cn = 0; cn < cns; cn++) {
                cluster.computeNode(cn).tree().shrinking(shrinking);
            }
            DmIndex setup = cluster.index(0);
            Map<Long, Long> background = new HashMap<>();
            for (long key = 0; key < 500; key++) {
                setup.put(k(key), v(key));
                if (key < 60 || key >= 460) {
                    background.put(key, key);
                }
            }
            for (long key = 60; key < 460; key++) {
                setup.delete(k(key)); // without shrinking these leaves stay, empty, around the domain
            }
            MapHistoryCheck check = new MapHistoryCheck(DOMAIN, background);
            int navigations = 0;
            long overlapping = 0;
            long restartsBefore = 0;
            for (int cn = 0; cn < cns; cn++) {
                restartsBefore += cluster.computeNode(cn).tree().stats().restarts.sum();
                if (Boolean.getBoolean("dmtree.test.noValidation")) {
                    ((CnIndex) cluster.index(cn)).navigation().validating(false);
                }
            }
            int workers = cns * threadsPerCn;
            List<List<Op>> histories = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                histories.add(Collections.synchronizedList(new ArrayList<>()));
            }
            long[][] initials = new long[rounds][DOMAIN.length];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            // every round: the checker thread records the initial state, then all workers start together
            CyclicBarrier start = new CyclicBarrier(workers + 1);
            CyclicBarrier end = new CyclicBarrier(workers + 1);
            AtomicLong startAt = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < workers; t++) {
                DmIndex index = cluster.index(t % cns);
                long threadSeed = rnd.nextLong();
                int process = t;
                Thread thread = new Thread(() -> {
                    Random r = new Random(threadSeed);
                    try {
                        for (int round = 0; round < rounds; round++) {
                            start.await(60, TimeUnit.SECONDS);
                            long go = startAt.get();
                            while (System.nanoTime() < go) {
                                Thread.onSpinWait(); // all start at once, not as the barrier wakes them
                            }
                            try {
                                for (int i = 0; i < opsPerThread; i++) {
                                    runOne(index, r, process, histories.get(round));
                                }
                            } catch (Throwable e) {
                                failure.compareAndSet(null, e);
                            }
                            end.await(60, TimeUnit.SECONDS);
                        }
                    } catch (Exception e) {
                        failure.compareAndSet(null, e);
                    }
                }, "map-stress-" + t);
                threads.add(thread);
                thread.start();
            }
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < DOMAIN.length; i++) {
                    initials[round][i] = value(setup.get(k(DOMAIN[i])));
                }
                startAt.set(System.nanoTime() + 2_000_000);
                start.await(60, TimeUnit.SECONDS);
                end.await(60, TimeUnit.SECONDS);
                if (failure.get() != null) {
                    throw new AssertionError("round " + round + " (seed " + seed + ")", failure.get());
                }
                List<Op> history = histories.get(round);
                for (Op op : history) {
                    navigations += switch (op.kind()) {
                        case CEILING, HIGHER, FLOOR, LOWER, FIRST, LAST -> 1;
                        default -> 0;
                    };
                }
                overlapping += overlapping(history);
                String violation = check.violation(history, initials[round]);
                int r = round;
                assertNull(violation, () -> "round " + r + " (seed " + seed + "): " + violation);
            }
            for (Thread thread : threads) {
                thread.join(60_000);
                assertTrue(!thread.isAlive(), "a worker hung: " + thread.getName());
            }
            TreeReport report = cluster.check();
            assertTrue(report.ok(), report.toString());
            long restarts = -restartsBefore;
            for (int cn = 0; cn < cns; cn++) {
                restarts += cluster.computeNode(cn).tree().stats().restarts.sum();
            }
            // how much ran concurrently depends on the host's load, so it is reported, not asserted
            System.out.printf("%d rounds: %d navigations, %d operations overlapping another process's, %d restarts%n",
                    rounds, navigations, overlapping, restarts);
            assertTrue(navigations > rounds, "navigation ran: " + navigations);

        }
    }

    /** Operations whose interval overlaps one of another process. */
    private static long overlapping(List<Op> history) {
        long count = 0;
        for (Op a : history) {
            for (Op b : history) {
                if (a.process() != b.process() && a.invoke() < b.response() && b.invoke() < a.response()) {
                    count++;
                    break;
                }
            }
        }
        return count;
    }

    /** One random operation on the domain, recorded with its invocation and response times. */
    private static void runOne(DmIndex index, Random r, int process, List<Op> history) {
        long key = DOMAIN[r.nextInt(DOMAIN.length)];
        long val = 1 + r.nextInt(4); // few values, so compare-and-set sometimes succeeds
        long expected = 1 + r.nextInt(4);
        long probe = 90 + r.nextInt(300);
        int choice = r.nextInt(16);
        long invoke = System.nanoTime();
        Kind kind;
        long resultKey = 0;
        long result = 0;
        boolean flag = false;
        long opKey = key;
        switch (choice) {
            case 0 -> {
                kind = Kind.GET;
                result = value(index.get(k(key)));
            }
            case 1 -> {
                kind = Kind.PUT;
                index.put(k(key), v(val));
            }
            case 2 -> {
                kind = Kind.DELETE;
                flag = index.delete(k(key));
            }
            case 3 -> {
                kind = Kind.PUT_IF_ABSENT;
                result = value(index.putIfAbsent(k(key), v(val)));
            }
            case 4 -> {
                kind = Kind.GET_AND_PUT;
                result = value(index.getAndPut(k(key), v(val)));
            }
            case 5 -> {
                kind = Kind.GET_AND_DELETE;
                result = value(index.getAndDelete(k(key)));
            }
            case 6 -> {
                kind = Kind.REPLACE;
                result = value(index.replace(k(key), v(val)));
            }
            case 7 -> {
                kind = Kind.COMPARE_AND_SET;
                flag = index.replace(k(key), v(expected), v(val));
            }
            case 8 -> {
                kind = Kind.COMPARE_AND_DELETE;
                flag = index.delete(k(key), v(expected));
            }
            case 9 -> {
                kind = Kind.COMPUTE_INCREMENT;
                result = value(index.compute(k(key), old -> v(old == null ? val : value(old) + 1)));
            }
            case 10, 11 -> {
                // a batch of two: each key is linearizable on its own, so each is recorded as its own operation
                long other = DOMAIN[r.nextInt(DOMAIN.length)];
                if (choice == 10) {
                    List<byte[]> got = index.getAll(List.of(k(key), k(other)));
                    long response = System.nanoTime();
                    history.add(new Op(process, Kind.GET, key, 0, 0, 0, value(got.get(0)), false, invoke, response));
                    history.add(new Op(process, Kind.GET, other, 0, 0, 0, value(got.get(1)), false, invoke, response));
                } else {
                    long otherVal = 1 + r.nextInt(4);
                    index.putAll(List.of(new DmIndex.Entry(k(key), v(val)), new DmIndex.Entry(k(other), v(otherVal))));
                    long response = System.nanoTime();
                    history.add(new Op(process, Kind.PUT, key, key == other ? otherVal : val, 0, 0, 0, false, invoke, response));
                    if (other != key) {
                        history.add(new Op(process, Kind.PUT, other, otherVal, 0, 0, 0, false, invoke, response));
                    }
                }
                return;
            }
            default -> {
                kind = switch (choice) {
                    case 12 -> Kind.CEILING;
                    case 13 -> Kind.FLOOR;
                    case 14 -> r.nextBoolean() ? Kind.HIGHER : Kind.LOWER;
                    default -> r.nextBoolean() ? Kind.FIRST : Kind.LAST;
                };
                opKey = probe;
                DmIndex.Entry e = switch (kind) {
                    case CEILING -> index.ceiling(k(probe));
                    case FLOOR -> index.floor(k(probe));
                    case HIGHER -> index.higher(k(probe));
                    case LOWER -> index.lower(k(probe));
                    case FIRST -> index.first();
                    default -> index.last();
                };
                resultKey = e == null ? MapHistoryCheck.ABSENT : key(e.key());
                result = e == null ? 0 : value(e.value());
            }
        }
        history.add(new Op(process, kind, opKey, val, expected, resultKey, result, flag, invoke, System.nanoTime()));
    }

    /**
     * The case the validation exists for, made deterministic: ceiling(8) reads the empty leaf of 8,
     * then (at the crossing) another compute node puts 8 and then 13 in the next leaf. The leaf of 8
     * changed, so the ceiling restarts and answers 8; without validation it answers 13, which no
     * instant allowed.
     */
    @Test
    void ceilingNeverAnswersAKeyPutAfterOneItSkipped() {
        for (boolean validating : new boolean[] {true, false}) {
            try (EmbeddedCluster cluster = cluster("modular", 2)) {
                for (int cn = 0; cn < 2; cn++) {
                    cluster.computeNode(cn).tree().shrinking(false);
                }
                DmIndex writer = cluster.index(0);
                CnIndex reader = (CnIndex) cluster.index(1);
                for (long key = 0; key < 40; key++) {
                    writer.put(k(key), v(key));
                }
                for (long key = 0; key < 40; key++) {
                    if (key != 0 && key != 39) {
                        writer.delete(k(key)); // empty leaves between 0 and 39; 8 and 13 fall in different ones
                    }
                }
                int[] crossings = {0};
                reader.navigation().validating(validating);
                reader.navigation().onCrossing(() -> {
                    if (crossings[0]++ == 0) {
                        writer.put(k(8), v(80));
                        writer.put(k(13), v(130));
                    }
                });
                long restartsBefore = cluster.computeNode(1).tree().stats().restarts.sum();
                DmIndex.Entry e = reader.ceiling(k(8));
                reader.navigation().onCrossing(null);
                if (validating) {
                    assertEquals(8, key(e.key()), "ceiling(8) after a put of 8 then 13");
                    assertArrayEquals(v(80), e.value());
                    assertTrue(cluster.computeNode(1).tree().stats().restarts.sum() > restartsBefore, "the crossed leaf failed validation");
                } else {
                    assertEquals(13, key(e.key()), "without validation the skipped 8 goes unnoticed (the control)");
                }
                // floor, the mirror case: floor(13) crosses left from 13's empty leaf while 13 then 8 go in
                writer.delete(k(8));
                writer.delete(k(13));
                crossings[0] = 0;
                reader.navigation().onCrossing(() -> {
                    if (crossings[0]++ == 0) {
                        writer.put(k(13), v(131));
                        writer.put(k(8), v(81));
                    }
                });
                DmIndex.Entry f = reader.floor(k(13));
                reader.navigation().onCrossing(null);
                assertEquals(validating ? 13 : 8, key(f.key()), "floor(13), validating " + validating);
            }
        }
    }
}
