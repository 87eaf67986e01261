package io.dmtree.cn;

import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.KeyOrder;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.lock.baseline.CasSpinLock;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Conditional updates, batches, navigation, reverse scans, cursors and size, sequentially, against
 * a {@link TreeMap}: on an empty tree, at the key space's bounds, across many small leaves, after
 * merges, and with empty leaves left by deletes without shrinking. Also their exact MN costs.
 */
class IndexOperationsTest {
    static byte[] k(long key) {
        return KeyOrder.longKeyBytes(key);
    }

    static byte[] v(long value) {
        return ByteBuffer.allocate(8).putLong(value).array();
    }

    static long value(byte[] v) {
        return ByteBuffer.wrap(v).getLong();
    }

    static long key(byte[] k) {
        return KeyOrder.decodeLong(ByteBuffer.wrap(k).getLong());
    }

    private static EmbeddedCluster small(int mns) {
        return DmTree.embedded().memoryNodes(mns).nodeBytes(256).regionBytes(64L << 20).chunkBytes(1L << 20).start();
    }

    @Test
    void emptyTreeAnswersNothing() {
        try (EmbeddedCluster cluster = small(1)) {
            DmIndex index = cluster.index(0);
            assertNull(index.first());
            assertNull(index.last());
            assertNull(index.ceiling(k(5)));
            assertNull(index.floor(k(5)));
            assertNull(index.higher(k(5)));
            assertNull(index.lower(k(5)));
            assertEquals(0, index.approximateSize());
            assertEquals(List.of(), index.reverseScan(k(Long.MAX_VALUE), 10));
            assertFalse(index.cursor(null, null, false, 4).hasNext());
            assertFalse(index.cursor(null, null, true, 4).hasNext());
            assertEquals(Arrays.asList(null, null), index.getAll(List.of(k(1), k(2))));
            assertNull(index.getAndDelete(k(1)));
            assertNull(index.replace(k(1), v(1)));
            assertFalse(index.replace(k(1), v(1), v(2)));
            assertFalse(index.delete(k(1), v(1)));
            assertNull(index.get(k(1)), "failed conditions wrote nothing");
            assertNull(index.compute(k(1), old -> null));
            assertNull(index.get(k(1)));
        }
    }

    @Test
    void conditionalUpdatesFollowTheirConditions() {
        try (EmbeddedCluster cluster = small(1)) {
            DmIndex index = cluster.index(0);
            assertNull(index.putIfAbsent(k(1), v(10)));
            assertArrayEquals(v(10), index.putIfAbsent(k(1), v(11)));
            assertArrayEquals(v(10), index.get(k(1)));
            assertArrayEquals(v(10), index.getAndPut(k(1), v(12)));
            assertNull(index.getAndPut(k(2), v(20)));
            assertFalse(index.replace(k(1), v(10), v(13)), "stale expected value");
            assertTrue(index.replace(k(1), v(12), v(13)));
            assertArrayEquals(v(13), index.replace(k(1), v(14)));
            assertFalse(index.delete(k(1), v(13)));
            assertTrue(index.delete(k(1), v(14)));
            assertNull(index.get(k(1)));
            assertArrayEquals(v(20), index.getAndDelete(k(2)));
            assertNull(index.get(k(2)));
            assertArrayEquals(v(1), index.compute(k(3), old -> old == null ? v(1) : v(value(old) + 1)));
            assertArrayEquals(v(2), index.compute(k(3), old -> old == null ? v(1) : v(value(old) + 1)));
            assertNull(index.compute(k(3), old -> null));
            assertNull(index.get(k(3)));
            // a function that throws leaves the entry as it was and the leaf unlocked
            index.put(k(4), v(4));
            assertThrows(ArithmeticException.class, () -> index.compute(k(4), old -> {
                throw new ArithmeticException("no");
            }));
            assertArrayEquals(v(4), index.get(k(4)));
            index.put(k(4), v(5));
            assertThrows(IllegalArgumentException.class, () -> index.compute(k(4), old -> new byte[3]));
            assertArrayEquals(v(5), index.get(k(4)));
            assertThrows(IllegalArgumentException.class, () -> index.putIfAbsent(k(5), new byte[7]));
            assertThrows(IllegalArgumentException.class, () -> index.replace(new byte[3], v(1), v(2)));
            assertTrue(index.check().ok(), index.check().toString());
        }
    }

    @Test
    void boundsOfTheKeySpace() {
        try (EmbeddedCluster cluster = small(1)) {
            DmIndex index = cluster.index(0);
            byte[] zero = new byte[8];
            byte[] top = new byte[8];
            Arrays.fill(top, (byte) 0xFF);
            index.put(zero, v(0));
            index.put(top, v(1));
            assertArrayEquals(zero, index.first().key());
            assertArrayEquals(top, index.last().key());
            assertNull(index.lower(zero));
            assertNull(index.higher(top));
            assertArrayEquals(zero, index.floor(zero).key());
            assertArrayEquals(top, index.ceiling(top).key());
            assertArrayEquals(top, index.higher(zero).key());
            assertArrayEquals(zero, index.lower(top).key());
            assertEquals(2, index.reverseScan(top, 10).size());
            assertEquals(2, index.approximateSize());
        }
    }

    /** Many leaves (256-byte nodes): every navigation and scan agrees with a TreeMap, while growing and after merges. */
    @Test
    void agreesWithTreeMapAcrossLeavesAndMerges() {
        long seed = Seeds.seed("agreesWithTreeMapAcrossLeavesAndMerges");
        Random rnd = new Random(seed);
        try (EmbeddedCluster cluster = small(2)) {
            DmIndex index = cluster.index(0);
            TreeMap<Long, Long> model = new TreeMap<>();
            for (int i = 0; i < 3000; i++) {
                long key = rnd.nextInt(20_000) - 10_000;
                index.put(k(key), v(i));
                model.put(key, (long) i);
            }
            compare(index, model, rnd);
            TreeReport grown = index.check();
            assertTrue(grown.ok(), grown.toString());
            assertTrue(grown.height() >= 3, "splits at every level: " + grown);
            // delete nine in ten: leaves merge, the root shrinks
            for (Long key : new ArrayList<>(model.keySet())) {
                if (rnd.nextInt(10) != 0) {
                    assertTrue(index.delete(k(key)));
                    model.remove(key);
                }
            }
            assertTrue(cluster.computeNode(0).tree().stats().leafMerges.sum() > 0, "merges happened");
            compare(index, model, rnd);
            TreeReport shrunk = index.check();
            assertTrue(shrunk.ok(), shrunk.toString());
        }
    }

    /** Without shrinking, deletes leave empty leaves: navigation crosses runs of them. */
    @Test
    void crossesEmptyLeaves() {
        long seed = Seeds.seed("crossesEmptyLeaves");
        Random rnd = new Random(seed);
        try (EmbeddedCluster cluster = small(2)) {
            cluster.computeNode(0).tree().shrinking(false);
            DmIndex index = cluster.index(0);
            TreeMap<Long, Long> model = new TreeMap<>();
            for (long key = 0; key < 4000; key++) {
                index.put(k(key), v(key));
                model.put(key, key);
            }
            for (long key = 0; key < 4000; key++) {
                if (key % 1000 != 500) {
                    index.delete(k(key));
                    model.remove(key);
                }
            }
            assertEquals(4, model.size());
            compare(index, model, rnd);
            assertArrayEquals(k(500), index.first().key());
            assertArrayEquals(k(3500), index.last().key());
            assertArrayEquals(k(1500), index.higher(k(500)).key());
            assertArrayEquals(k(500), index.lower(k(1500)).key());
            assertTrue(index.check().ok());
        }
    }

    private static void compare(DmIndex index, NavigableMap<Long, Long> model, Random rnd) {
        assertEquals(model.size(), index.approximateSize(), "size when quiescent is exact");
        assertEntry(model.firstEntry(), index.first());
        assertEntry(model.lastEntry(), index.last());
        for (int i = 0; i < 400; i++) {
            long probe = rnd.nextInt(24_000) - 12_000;
            assertEntry(model.ceilingEntry(probe), index.ceiling(k(probe)));
            assertEntry(model.higherEntry(probe), index.higher(k(probe)));
            assertEntry(model.floorEntry(probe), index.floor(k(probe)));
            assertEntry(model.lowerEntry(probe), index.lower(k(probe)));
        }
        for (int i = 0; i < 20; i++) {
            long from = rnd.nextInt(24_000) - 12_000;
            int limit = 1 + rnd.nextInt(300);
            List<DmIndex.Entry> got = index.reverseScan(k(from), limit);
            List<Map.Entry<Long, Long>> want = new ArrayList<>(model.headMap(from, true).descendingMap().entrySet());
            want = want.subList(0, Math.min(limit, want.size()));
            assertEquals(want.size(), got.size(), "reverse scan from " + from);
            for (int j = 0; j < want.size(); j++) {
                assertEntry(want.get(j), got.get(j));
            }
        }
        // cursors over random ranges, both ways, resumed half-way from their position
        for (int i = 0; i < 10; i++) {
            long a = rnd.nextInt(24_000) - 12_000;
            long b = a + rnd.nextInt(8_000);
            boolean descending = rnd.nextBoolean();
            NavigableMap<Long, Long> range = model.subMap(a, true, b, false);
            List<Map.Entry<Long, Long>> want = new ArrayList<>((descending ? range.descendingMap() : range).entrySet());
            Cursor c = index.cursor(k(a), k(b), descending, 1 + rnd.nextInt(40));
            List<DmIndex.Entry> got = new ArrayList<>();
            while (c.hasNext() && got.size() < want.size() / 2) {
                got.add(c.next());
            }
            Cursor resumed = index.cursor(k(a), k(b), descending, 7);
            if (c.position() != null) {
                resumed.resumeAfter(c.position());
            }
            resumed.forEachRemaining(got::add);
            assertEquals(want.size(), got.size(), "cursor over [" + a + ", " + b + ") descending=" + descending);
            for (int j = 0; j < want.size(); j++) {
                assertEntry(want.get(j), got.get(j));
            }
        }
        // getAll on present and absent keys
        List<byte[]> keys = new ArrayList<>();
        List<Long> probes = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            long probe = rnd.nextInt(24_000) - 12_000;
            probes.add(probe);
            keys.add(k(probe));
        }
        List<byte[]> values = index.getAll(keys);
        for (int i = 0; i < probes.size(); i++) {
            Long want = model.get(probes.get(i));
            if (want == null) {
                assertNull(values.get(i));
            } else {
                assertEquals((long) want, value(values.get(i)));
            }
        }
    }

    private static void assertEntry(Map.Entry<Long, Long> want, DmIndex.Entry got) {
        if (want == null) {
            assertNull(got, () -> "expected none, got " + key(got.key()));
            return;
        }
        assertTrue(got != null, "expected " + want + ", got none");
        assertEquals((long) want.getKey(), key(got.key()));
        assertEquals((long) want.getValue(), value(got.value()));
    }

    @Test
    void putAllMatchesPutsAndKeepsTheLastOfARepeatedKey() {
        long seed = Seeds.seed("putAllMatchesPuts");
        Random rnd = new Random(seed);
        try (EmbeddedCluster cluster = small(2)) {
            DmIndex index = cluster.index(0);
            TreeMap<Long, Long> model = new TreeMap<>();
            for (int batch = 0; batch < 40; batch++) {
                List<DmIndex.Entry> entries = new ArrayList<>();
                int n = 1 + rnd.nextInt(200);
                for (int i = 0; i < n; i++) {
                    long key = rnd.nextInt(5000);
                    long val = rnd.nextLong();
                    entries.add(new DmIndex.Entry(k(key), v(val)));
                    model.put(key, val);
                }
                index.putAll(entries);
            }
            assertEquals(model.size(), index.approximateSize());
            for (Map.Entry<Long, Long> e : model.entrySet()) {
                assertEquals((long) e.getValue(), value(index.get(k(e.getKey()))));
            }
            assertTrue(index.check().ok(), index.check().toString());
            assertThrows(IllegalArgumentException.class, () -> index.putAll(List.of(new DmIndex.Entry(k(1), new byte[2]))));
        }
    }

    /** Exact MN costs (counters, not timings) of the new operations with a warm cache. */
    @Test
    void roundTripsOfTheNewOperations() {
        try (EmbeddedCluster cluster = DmTree.embedded().lock(CasSpinLock.NAME).regionBytes(256L << 20).start()) {
            DmIndex index = cluster.index(0);
            for (long key = 0; key < 50_000; key++) {
                index.put(key * 7, key);
            }
            for (long key = 0; key < 50_000; key += 5) {
                index.get(key * 7); // warm the cache
            }
            VerbCounts before = index.memoryNodeTraffic();
            index.ceiling(k(7 * 12_345 + 1));
            VerbCounts ceiling = index.memoryNodeTraffic().minus(before);
            assertTrue(ceiling.roundTrips() == 1 || ceiling.roundTrips() == 3, "ceiling: one READ, or three when it crosses a leaf: " + ceiling);

            before = index.memoryNodeTraffic();
            index.putIfAbsent(k(7 * 12_345), v(1));
            VerbCounts failed = index.memoryNodeTraffic().minus(before);
            assertEquals(3, failed.roundTrips(), "a failed putIfAbsent: lock, read, release: " + failed);
            assertEquals(1, failed.writes(), "only the lock word is written: " + failed);

            before = index.memoryNodeTraffic();
            assertTrue(index.replace(k(7 * 12_345), v(12_345), v(1)));
            VerbCounts cas = index.memoryNodeTraffic().minus(before);
            assertEquals(3, cas.roundTrips(), "compare-and-set as an update: " + cas);

            List<byte[]> keys = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                keys.add(k(7L * 400 * i));
            }
            before = index.memoryNodeTraffic();
            List<byte[]> got = index.getAll(keys);
            VerbCounts all = index.memoryNodeTraffic().minus(before);
            assertEquals(1, all.roundTrips(), "getAll of 100 keys on one memory node: one batch: " + all);
            assertEquals(100, all.reads(), "one READ per distinct leaf: " + all);
            assertEquals(400L, value(got.get(1)));
        }
    }
}
