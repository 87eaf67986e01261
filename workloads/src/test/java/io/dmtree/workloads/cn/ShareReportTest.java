package io.dmtree.workloads.cn;

import io.dmtree.cn.DmIndex;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.workloads.ycsb.MemoryNodeCost;
import io.dmtree.workloads.ycsb.OperationType;
import io.dmtree.workloads.ycsb.SystemResult;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A compute node's report survives the barrier exactly (counters, texts, histograms); the
 * aggregate sums, merges and takes the slowest wall time; malformed reports, including thousands of
 * seeded mutations, are refused with an {@link IllegalArgumentException} and nothing else.
 */
class ShareReportTest {
    private static SystemResult result(long seed, long operations, long runNanos) {
        Random rnd = new Random(seed);
        Map<OperationType, Histogram> latencies = new EnumMap<>(OperationType.class);
        for (OperationType t : new OperationType[]{OperationType.READ, OperationType.UPDATE}) {
            Histogram h = new Histogram(3);
            for (int i = 0; i < operations / 2; i++) {
                h.recordValue(500 + rnd.nextInt(100_000));
            }
            latencies.put(t, h);
        }
        VerbCounts traffic = new VerbCounts(rnd.nextInt(1000), rnd.nextInt(1000), rnd.nextInt(1000), rnd.nextInt(1000),
                rnd.nextInt(100_000), rnd.nextInt(100_000), rnd.nextInt(1000));
        return new SystemResult("dmtree", "cas-spin", "setup of " + seed, 100 + seed, 1_000 + seed, operations, runNanos,
                latencies, seed, 2 * seed, 31 * seed, new MemoryNodeCost(traffic, operations),
                new DmIndex.CacheStats(seed, seed + 1, 4096, 64L << 20));
    }

    @Test
    void aReportRoundTripsExactly() {
        SystemResult r = result(7, 10_000, 123_456_789);
        SystemResult back = ShareReport.decode(ShareReport.encode(r), "dmtree");
        assertEquals(r.lock(), back.lock());
        assertEquals(r.setup(), back.setup());
        assertEquals(r.loadedRecords(), back.loadedRecords());
        assertEquals(r.loadNanos(), back.loadNanos());
        assertEquals(r.operations(), back.operations());
        assertEquals(r.runNanos(), back.runNanos());
        assertEquals(r.readMisses(), back.readMisses());
        assertEquals(r.scannedEntries(), back.scannedEntries());
        assertEquals(r.digest(), back.digest());
        assertEquals(r.memoryNodes(), back.memoryNodes());
        assertEquals(r.cache(), back.cache());
        assertEquals(r.latencies().keySet(), back.latencies().keySet());
        for (OperationType t : r.latencies().keySet()) {
            assertEquals(r.latencies().get(t), back.latencies().get(t), t.name());
        }
        assertTrue(ShareReport.encode(r).length < 4096, "compressed: " + ShareReport.encode(r).length + " bytes");
    }

    @Test
    void theAggregateSumsMergesAndTakesTheSlowestWallTime() {
        SystemResult a = result(1, 1000, 2_000_000_000L);
        SystemResult b = result(2, 3000, 1_000_000_000L);
        RunAggregate agg = RunAggregate.of(Map.of(4, ShareReport.encode(a), 9, ShareReport.encode(b)), Set.of(5));
        assertEquals(Set.of(5), agg.departed());
        SystemResult m = agg.merged("two");
        assertEquals(4000, m.operations());
        assertEquals(2_000_000_000L, m.runNanos());
        assertEquals(2000.0, m.throughputOpsPerSec(), 1e-9);
        assertEquals(a.loadedRecords() + b.loadedRecords(), m.loadedRecords());
        assertEquals(a.memoryNodes().traffic().plus(b.memoryNodes().traffic()), m.memoryNodes().traffic());
        assertEquals(a.memoryNodes().traffic().plus(b.memoryNodes().traffic()).verbs() / 4000.0, m.memoryNodes().verbsPerOp(), 1e-12);
        assertEquals(a.latencies().get(OperationType.READ).getTotalCount() + b.latencies().get(OperationType.READ).getTotalCount(),
                m.latencies().get(OperationType.READ).getTotalCount());
        assertEquals(a.digest() + b.digest(), m.digest());
        assertEquals(a.cache().hits() + b.cache().hits(), m.cache().hits());
        assertEquals("two", m.setup());
    }

    @Test
    void malformedReportsAreRefusedClearly() {
        byte[] good = ShareReport.encode(result(3, 200, 1000));
        IllegalArgumentException shortOne = assertThrows(IllegalArgumentException.class,
                () -> ShareReport.decode(new byte[10], "dmtree"));
        assertTrue(shortOne.getMessage().contains("shorter than"), shortOne.getMessage());
        byte[] badMagic = good.clone();
        badMagic[0] ^= 1;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ShareReport.decode(badMagic, "dmtree"))
                .getMessage().contains("magic"));
        byte[] cut = java.util.Arrays.copyOf(good, good.length - 3);
        assertThrows(IllegalArgumentException.class, () -> ShareReport.decode(cut, "dmtree"));
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ShareReport.decode(longer, "dmtree"))
                .getMessage().contains("after the last histogram"));
        IllegalArgumentException named = assertThrows(IllegalArgumentException.class,
                () -> RunAggregate.of(Map.of(3, cut), Set.of()));
        assertTrue(named.getMessage().startsWith("compute node 3:"), named.getMessage());
    }

    @Test
    void seededMutationsAreRefusedOrDecodedNeverAnythingElse() {
        long seed = Long.getLong("dmtree.fuzz.seed", System.nanoTime());
        int cases = Integer.getInteger("dmtree.fuzz.cases", 3000);
        System.out.println("ShareReportTest seed=" + seed + " cases=" + cases + " (rerun with -Ddmtree.fuzz.seed=" + seed + ")");
        Random rnd = new Random(seed);
        byte[] good = ShareReport.encode(result(seed & 0xFF, 100, 1000));
        int refused = 0;
        for (int c = 0; c < cases; c++) {
            byte[] m;
            switch (rnd.nextInt(3)) {
                case 0 -> {
                    m = good.clone();
                    for (int i = 0; i < 1 + rnd.nextInt(4); i++) {
                        m[rnd.nextInt(m.length)] ^= (byte) (1 << rnd.nextInt(8));
                    }
                }
                case 1 -> m = java.util.Arrays.copyOf(good, rnd.nextInt(good.length));
                default -> {
                    m = new byte[rnd.nextInt(400)];
                    rnd.nextBytes(m);
                }
            }
            try {
                ShareReport.decode(m, "dmtree");
            } catch (IllegalArgumentException e) {
                refused++;
            } catch (RuntimeException e) {
                throw new AssertionError("case " + c + " (seed " + seed + "): " + e, e);
            }
        }
        assertTrue(refused > cases / 2, refused + " of " + cases + " refused");
    }
}
