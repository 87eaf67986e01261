package io.dmtree.cn;

import io.dmtree.cn.history.MapHistoryCheck;
import io.dmtree.cn.history.MapHistoryCheck.Kind;
import io.dmtree.cn.history.MapHistoryCheck.Op;
import io.dmtree.core.tree.KeyOrder;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.core.tree.VariableValues;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded concurrent stress of variable-length values across three compute nodes: point,
 * conditional and read-modify-write operations on eight keys in leaves of four entries (puts
 * split, deletes merge), with values whose length class follows from the value (inline, at the
 * threshold, just above it, long), so overwrites move keys between inline values and value
 * blocks; every round's history is checked for linearizability by {@link MapHistoryCheck}, every
 * value read is checked whole, and at the end the tree checker and the region audit (no value
 * block leaked) run.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class VariableValuesLinearizabilityTest {
    private static final int SLOT = 32;
    private static final int[] LENGTHS = {8, SLOT - 4, SLOT - 3, 1500};
    private static final long[] DOMAIN = {100, 140, 180, 220, 260, 300, 340, 380};

    static byte[] k(long key) {
        return KeyOrder.longKeyBytes(key);
    }

    /** Value v as bytes: its length class from v, v in the first 8 bytes, a pattern of v after. */
    static byte[] v(long value) {
        byte[] out = new byte[LENGTHS[(int) Math.floorMod(value, LENGTHS.length)]];
        ByteBuffer.wrap(out).putLong(value);
        for (int i = 8; i < out.length; i++) {
            out[i] = (byte) (value * 31 + i);
        }
        return out;
    }

    static long value(byte[] v) {
        if (v == null) {
            return MapHistoryCheck.ABSENT;
        }
        long value = ByteBuffer.wrap(v).getLong();
        if (!java.util.Arrays.equals(v, v(value))) {
            throw new AssertionError("a value read was not whole: " + v.length + " bytes starting with " + value);
        }
        return value;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"modular", "cas-spin"})
    void historiesAreLinearizable(String lock) throws Exception {
        long seed = Seeds.seed("VariableValuesLinearizabilityTest[" + lock + "]");
        Random rnd = new Random(seed);
        int cns = 3;
        int opsPerThread = 8;
        int rounds = (int) (150 * Seeds.scale());
        try (EmbeddedCluster cluster = DmTree.embedded().computeNodes(cns).memoryNodes(2).keyBytes(8).valueBytes(SLOT)
                .variableValues(true).nodeBytes(256).lock(lock).regionBytes(64L << 20).chunkBytes(1L << 20).start()) {
            VariableValues setup = ((CnIndex) cluster.index(0)).values();
            for (long key = 0; key < 500; key++) {
                setup.put(k(key), v(key));
            }
            for (long key = 60; key < 460; key++) {
                setup.delete(k(key));
            }
            MapHistoryCheck check = new MapHistoryCheck(DOMAIN, Map.of());
            List<List<Op>> histories = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                histories.add(Collections.synchronizedList(new ArrayList<>()));
            }
            long[][] initials = new long[rounds][DOMAIN.length];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CyclicBarrier start = new CyclicBarrier(cns + 1);
            CyclicBarrier end = new CyclicBarrier(cns + 1);
            AtomicLong startAt = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < cns; t++) {
                VariableValues values = ((CnIndex) cluster.index(t)).values();
                long threadSeed = rnd.nextLong();
                int process = t;
                Thread thread = new Thread(() -> {
                    Random r = new Random(threadSeed);
                    try {
                        for (int round = 0; round < rounds; round++) {
                            start.await(60, TimeUnit.SECONDS);
                            long go = startAt.get();
                            while (System.nanoTime() < go) {
                                Thread.onSpinWait();
                            }
                            try {
                                for (int i = 0; i < opsPerThread; i++) {
                                    runOne(values, r, process, histories.get(round));
                                }
                            } catch (Throwable e) {
                                failure.compareAndSet(null, e);
                            }
                            end.await(60, TimeUnit.SECONDS);
                        }
                    } catch (Exception e) {
                        failure.compareAndSet(null, e);
                    }
                }, "varlen-stress-" + t);
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
                String violation = check.violation(histories.get(round), initials[round]);
                int r = round;
                assertNull(violation, () -> "round " + r + " (seed " + seed + "): " + violation);
            }
            for (Thread thread : threads) {
                thread.join(60_000);
                assertFalse(thread.isAlive(), "a worker hung: " + thread.getName());
            }
            TreeReport report = cluster.check();
            assertTrue(report.ok(), report.toString());
            assertEquals(0, report.leakedBytes(), report::toString);
        }
    }

    private static void runOne(VariableValues index, Random r, int process, List<Op> history) {
        long key = DOMAIN[r.nextInt(DOMAIN.length)];
        long val = 1 + r.nextInt(4); // few values (one per length class), so compare-and-set sometimes succeeds
        long expected = 1 + r.nextInt(4);
        long invoke = System.nanoTime();
        Kind kind;
        long result = 0;
        boolean flag = false;
        switch (r.nextInt(10)) {
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
            default -> {
                kind = Kind.COMPUTE_INCREMENT;
                result = value(index.compute(k(key), old -> v(old == null ? val : value(old) + 1)));
            }
        }
        history.add(new Op(process, kind, key, val, expected, 0, result, flag, invoke, System.nanoTime()));
    }
}
