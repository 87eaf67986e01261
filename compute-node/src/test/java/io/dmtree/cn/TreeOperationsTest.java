package io.dmtree.cn;

import io.dmtree.core.tree.TreeReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/** Single-threaded tree operations against a sorted map, with small nodes so every level splits. */
class TreeOperationsTest {

    private static DmIndex smallNodeIndex(int keyBytes, int valueBytes) {
        return DmTree.embedded().keyBytes(keyBytes).valueBytes(valueBytes).nodeBytes(256)
                .regionBytes(256L << 20).open();
    }

    @Test
    void emptyTreeAnswersAbsentAndScansNothing() {
        try (DmIndex index = DmTree.embedded().regionBytes(64L << 20).open()) {
            assertEquals(OptionalLong.empty(), index.get(7L));
            assertFalse(index.delete(7L));
            assertTrue(index.scan(Long.MIN_VALUE, 10).isEmpty());
            TreeReport report = index.check();
            assertTrue(report.ok(), report::toString);
            assertEquals(1, report.height());
        }
    }

    @Test
    void longKeysThroughRootGrowthSplitsAtEveryLevelAndDeletes() {
        Random rnd = new Random(42);
        TreeMap<Long, Long> model = new TreeMap<>();
        try (DmIndex index = smallNodeIndex(8, 8)) {
            for (int i = 0; i < 20_000; i++) {
                long k = rnd.nextLong() % 1_000_000;
                long v = rnd.nextLong();
                index.put(k, v);
                model.put(k, v);
            }
            TreeReport report = index.check();
            assertTrue(report.ok(), report::toString);
            assertTrue(report.height() >= 4, "small nodes must split internal levels too: " + report);
            assertEquals(model.size(), report.keys());
            for (Map.Entry<Long, Long> e : model.entrySet()) {
                assertEquals(OptionalLong.of(e.getValue()), index.get(e.getKey()));
            }
            assertEquals(OptionalLong.empty(), index.get(2_000_000L));
            // delete about half
            List<Long> keys = new ArrayList<>(model.keySet());
            Collections.shuffle(keys, rnd);
            for (int i = 0; i < keys.size() / 2; i++) {
                assertTrue(index.delete(keys.get(i)));
                model.remove(keys.get(i));
            }
            assertFalse(index.delete(keys.get(0)));
            report = index.check();
            assertTrue(report.ok(), report::toString);
            assertEquals(model.size(), report.keys());
            for (long k : keys) {
                Long v = model.get(k);
                assertEquals(v == null ? OptionalLong.empty() : OptionalLong.of(v), index.get(k));
            }
            // scans and ranges, negative keys included
            for (int i = 0; i < 200; i++) {
                long from = rnd.nextLong() % 1_100_000;
                int limit = rnd.nextInt(300);
                List<DmIndex.LongEntry> got = index.scan(from, limit);
                Iterator<Map.Entry<Long, Long>> it = model.tailMap(from, true).entrySet().iterator();
                for (DmIndex.LongEntry e : got) {
                    Map.Entry<Long, Long> m = it.next();
                    assertEquals(m.getKey(), e.key());
                    assertEquals(m.getValue(), e.value());
                }
                assertEquals(Math.min(limit, model.tailMap(from, true).size()), got.size());
                long to = from + rnd.nextInt(50_000);
                List<DmIndex.LongEntry> range = index.range(from, to);
                assertEquals(model.subMap(from, true, to, false).size(), range.size());
                if (!range.isEmpty()) {
                    assertEquals(model.ceilingKey(from), range.get(0).key());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {16, 1, 64})
    void byteKeysInUnsignedOrder(int keyBytes) {
        Random rnd = new Random(keyBytes);
        TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        int valueBytes = 24;
        try (DmIndex index = DmTree.embedded().keyBytes(keyBytes).valueBytes(valueBytes).regionBytes(256L << 20)
                .nodeBytes(keyBytes == 64 ? 1024 : 512).open()) {
            int n = keyBytes == 1 ? 256 : 8_000;
            for (int i = 0; i < n; i++) {
                byte[] k = new byte[keyBytes];
                if (keyBytes == 1) {
                    k[0] = (byte) i;
                } else {
                    rnd.nextBytes(k);
                }
                byte[] v = new byte[valueBytes];
                rnd.nextBytes(v);
                index.put(k, v);
                model.put(k, v);
            }
            TreeReport report = index.check();
            assertTrue(report.ok(), report::toString);
            assertEquals(model.size(), report.keys());
            for (Map.Entry<byte[], byte[]> e : model.entrySet()) {
                assertArrayEquals(e.getValue(), index.get(e.getKey()));
            }
            List<DmIndex.Entry> all = index.scan(new byte[keyBytes], Integer.MAX_VALUE);
            assertEquals(model.size(), all.size());
            Iterator<byte[]> it = model.keySet().iterator();
            for (DmIndex.Entry e : all) {
                assertArrayEquals(it.next(), e.key());
            }
            byte[] from = all.get(all.size() / 3).key();
            byte[] to = all.get(2 * all.size() / 3).key();
            List<DmIndex.Entry> range = index.range(from, to);
            assertEquals(model.subMap(from, true, to, false).size(), range.size());
            assertArrayEquals(from, range.get(0).key());
        }
    }

    @Test
    void wrongWidthsAreRefusedNotTruncated() {
        try (DmIndex index = DmTree.embedded().keyBytes(16).valueBytes(8).regionBytes(64L << 20).open()) {
            assertThrows(IllegalArgumentException.class, () -> index.put(new byte[17], new byte[8]));
            assertThrows(IllegalArgumentException.class, () -> index.put(new byte[15], new byte[8]));
            assertThrows(IllegalArgumentException.class, () -> index.put(new byte[16], new byte[9]));
            assertThrows(IllegalArgumentException.class, () -> index.get((byte[]) null));
            assertThrows(IllegalArgumentException.class, () -> index.put(1L, 2L));
            assertNull(index.get(new byte[16]));
        }
        assertThrows(IllegalArgumentException.class, () -> DmTree.embedded().keyBytes(65));
        assertThrows(IllegalArgumentException.class, () -> DmTree.embedded().keyBytes(0));
        assertThrows(IllegalArgumentException.class, () -> DmTree.embedded().valueBytes(257));
        assertThrows(IllegalArgumentException.class, () -> DmTree.embedded().keyBytes(64).valueBytes(256).nodeBytes(256));
        assertThrows(IllegalArgumentException.class, () -> DmTree.embedded().lock("no-such-lock").open());
    }

    @Test
    void useAfterCloseFailsClearly() {
        DmIndex index = DmTree.embedded().regionBytes(64L << 20).open();
        index.put(1L, 1L);
        index.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> index.get(1L));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        index.close(); // idempotent
    }

    @Test
    void largeValuesGetLargerNodesAutomatically() {
        try (DmIndex index = DmTree.embedded().keyBytes(64).valueBytes(256).regionBytes(128L << 20).open()) {
            byte[] k = new byte[64];
            byte[] v = new byte[256];
            for (int i = 0; i < 2_000; i++) {
                k[0] = (byte) (i >> 8);
                k[1] = (byte) i;
                v[255] = (byte) i;
                index.put(k.clone(), v.clone());
            }
            k[0] = (byte) (1234 >> 8);
            k[1] = (byte) 1234;
            assertEquals((byte) 1234, index.get(k)[255]);
            assertTrue(index.check().ok());
        }
    }
}
