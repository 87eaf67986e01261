package io.dmtree.cn.map;

import io.dmtree.cn.DmIndex;
import io.dmtree.cn.DmTree;
import io.dmtree.cn.EmbeddedCluster;
import org.junit.jupiter.api.Test;

import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The map view against {@link ConcurrentSkipListMap}: a seeded random sequence of every
 * {@link ConcurrentNavigableMap} operation, each run on the same random view (sub, head, tail and
 * descending maps, nested) of both, must give the same result or throw the same exception, and
 * both must then hold the same entries; iterators (with remove), key sets, values, polls,
 * compute and merge included. For {@code long}, {@code String} (code-point order, including
 * supplementary characters) and {@code byte[]} keys.
 */
class NavigableMapConformanceTest {
    private static long seed(String test) {
        String fixed = System.getProperty("dmtree.seed");
        long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        System.out.println(test + " seed=" + seed + " (replay with -Ddmtree.seed=" + seed + ")");
        return seed;
    }

    private static EmbeddedCluster cluster(int keyBytes, int valueBytes) {
        return DmTree.embedded().keyBytes(keyBytes).valueBytes(valueBytes).nodeBytes(256).memoryNodes(2)
                .regionBytes(64L << 20).chunkBytes(1L << 20).start();
    }

    @Test
    void longMapBehavesAsConcurrentSkipListMap() {
        long seed = seed("longMapBehavesAsConcurrentSkipListMap");
        try (EmbeddedCluster cluster = cluster(8, 8)) {
            DmNavigableMap<Long, Long> dm = DmNavigableMap.of(cluster.index(0), Codec.longs(), Codec.longs());
            ConcurrentSkipListMap<Long, Long> jdk = new ConcurrentSkipListMap<>();
            Random rnd = new Random(seed);
            new Conformance<>(dm, jdk, rnd, () -> (long) (rnd.nextInt(121) - 60), () -> (long) rnd.nextInt(5), seed).run(4000);
        }
    }

    @Test
    void stringMapBehavesAsConcurrentSkipListMap() {
        long seed = seed("stringMapBehavesAsConcurrentSkipListMap");
        String[] alphabet = {"a", "b", "z", "é", "\uFFFD", "\uD834\uDD1E", "ab", "~"};
        try (EmbeddedCluster cluster = cluster(16, 16)) {
            DmNavigableMap<String, String> dm = DmNavigableMap.of(cluster.index(0), Codec.utf8(), Codec.utf8());
            ConcurrentSkipListMap<String, String> jdk = new ConcurrentSkipListMap<>(Codec::compareCodePoints);
            Random rnd = new Random(seed);
            Supplier<String> key = () -> {
                StringBuilder b = new StringBuilder();
                int n = rnd.nextInt(4);
                for (int i = 0; i < n; i++) {
                    b.append(alphabet[rnd.nextInt(alphabet.length)]);
                }
                return b.toString();
            };
            new Conformance<>(dm, jdk, rnd, key, () -> "v" + rnd.nextInt(5), seed).run(3000);
            assertThrows(IllegalArgumentException.class, () -> dm.put("nul\0", "x"));
            assertThrows(IllegalArgumentException.class, () -> dm.put("much too long a key", "x"));
            assertThrows(NullPointerException.class, () -> dm.put(null, "x"));
            assertThrows(NullPointerException.class, () -> dm.put("k", null));
            assertThrows(ClassCastException.class, () -> dm.get(42L));
        }
    }

    @Test
    void byteArrayKeysOrderUnsigned() {
        try (EmbeddedCluster cluster = cluster(4, 4)) {
            DmNavigableMap<byte[], byte[]> dm = DmNavigableMap.of(cluster.index(0), Codec.bytes(), Codec.bytes());
            ConcurrentSkipListMap<byte[], byte[]> jdk = new ConcurrentSkipListMap<>(Arrays::compareUnsigned);
            Random rnd = new Random(seed("byteArrayKeysOrderUnsigned"));
            for (int i = 0; i < 500; i++) {
                byte[] k = new byte[4];
                rnd.nextBytes(k);
                byte[] v = new byte[4];
                rnd.nextBytes(v);
                dm.put(k, v);
                jdk.put(k, v);
            }
            List<byte[]> got = new ArrayList<>(dm.keySet());
            List<byte[]> want = new ArrayList<>(jdk.keySet());
            assertEquals(want.size(), got.size());
            for (int i = 0; i < want.size(); i++) {
                assertArrayEquals(want.get(i), got.get(i));
                assertArrayEquals(jdk.get(want.get(i)), dm.get(got.get(i)));
            }
            byte[] probe = {(byte) 0x80, 0, 0, 0};
            assertArrayEquals(jdk.ceilingKey(probe), dm.ceilingKey(probe));
            assertArrayEquals(jdk.lowerKey(probe), dm.lowerKey(probe));
            assertThrows(IllegalArgumentException.class, () -> dm.put(new byte[3], new byte[4]));
        }
    }

    @Test
    void emptyMapAndBounds() {
        try (EmbeddedCluster cluster = cluster(8, 8)) {
            DmNavigableMap<Long, Long> dm = DmNavigableMap.of(cluster.index(0), Codec.longs(), Codec.longs());
            assertTrue(dm.isEmpty());
            assertEquals(0, dm.size());
            assertThrows(NoSuchElementException.class, dm::firstKey);
            assertThrows(NoSuchElementException.class, dm::lastKey);
            assertNull(dm.pollFirstEntry());
            assertNull(dm.ceilingKey(Long.MIN_VALUE));
            dm.put(Long.MIN_VALUE, 1L);
            dm.put(Long.MAX_VALUE, 2L);
            assertEquals(Long.MIN_VALUE, dm.firstKey());
            assertEquals(Long.MAX_VALUE, dm.lastKey());
            assertEquals(List.of(Long.MAX_VALUE), new ArrayList<>(dm.tailMap(Long.MAX_VALUE, true).keySet()));
            assertEquals(List.of(), new ArrayList<>(dm.tailMap(Long.MAX_VALUE, false).keySet()));
            assertEquals(List.of(Long.MIN_VALUE, Long.MAX_VALUE), new ArrayList<>(dm.headMap(Long.MAX_VALUE, true).keySet()));
            assertEquals(List.of(Long.MAX_VALUE, Long.MIN_VALUE), new ArrayList<>(dm.descendingKeySet()));
            assertThrows(IllegalArgumentException.class, () -> dm.headMap(0L).put(5L, 5L));
            assertThrows(IllegalArgumentException.class, () -> dm.subMap(5L, 1L));
            assertThrows(IllegalArgumentException.class, () -> dm.headMap(0L).tailMap(3L));
        }
    }

    /** One random sequence on two maps, each operation on the same random view of both. */
    private static final class Conformance<K, V> {
        private final ConcurrentNavigableMap<K, V> dm;
        private final ConcurrentNavigableMap<K, V> jdk;
        private final Random rnd;
        private final Supplier<K> key;
        private final Supplier<V> value;
        private final long seed;

        Conformance(ConcurrentNavigableMap<K, V> dm, ConcurrentNavigableMap<K, V> jdk, Random rnd, Supplier<K> key,
                    Supplier<V> value, long seed) {
            this.dm = dm;
            this.jdk = jdk;
            this.rnd = rnd;
            this.key = key;
            this.value = value;
            this.seed = seed;
        }

        void run(int steps) {
            for (int step = 0; step < steps; step++) {
                List<Function<ConcurrentNavigableMap<K, V>, ConcurrentNavigableMap<K, V>>> path = new ArrayList<>();
                int depth = rnd.nextInt(3);
                for (int d = 0; d < depth; d++) {
                    path.add(view());
                }
                Object a = outcome(() -> apply(path, dm));
                Object b = outcome(() -> apply(path, jdk));
                if (!(a instanceof Class<?>) && !(b instanceof Class<?>)) {
                    int op = rnd.nextInt(40);
                    long opSeed = rnd.nextLong();
                    K k = key.get();
                    V v = value.get();
                    V w = value.get();
                    @SuppressWarnings("unchecked")
                    ConcurrentNavigableMap<K, V> dv = (ConcurrentNavigableMap<K, V>) a;
                    @SuppressWarnings("unchecked")
                    ConcurrentNavigableMap<K, V> jv = (ConcurrentNavigableMap<K, V>) b;
                    Object got = outcome(() -> operate(op, dv, new Random(opSeed), k, v, w));
                    Object want = outcome(() -> operate(op, jv, new Random(opSeed), k, v, w));
                    assertEquals(want, got, "step " + step + " op " + op + " (seed " + seed + ")");
                } else {
                    assertEquals(b, a, "step " + step + ": making the view (seed " + seed + ")");
                }
                if (step % 50 == 0) {
                    assertEquals(new ArrayList<>(jdk.entrySet()), new ArrayList<>(dm.entrySet()), "contents at step " + step);
                    assertEquals(jdk, dm);
                    assertEquals(dm, jdk);
                    assertEquals(jdk.hashCode(), dm.hashCode());
                    assertEquals(jdk.toString(), dm.toString());
                }
            }
            assertEquals(new ArrayList<>(jdk.entrySet()), new ArrayList<>(dm.entrySet()));
        }

        private ConcurrentNavigableMap<K, V> apply(List<Function<ConcurrentNavigableMap<K, V>, ConcurrentNavigableMap<K, V>>> path,
                                                   ConcurrentNavigableMap<K, V> m) {
            for (Function<ConcurrentNavigableMap<K, V>, ConcurrentNavigableMap<K, V>> f : path) {
                m = f.apply(m);
            }
            return m;
        }

        private Function<ConcurrentNavigableMap<K, V>, ConcurrentNavigableMap<K, V>> view() {
            K a = key.get();
            K b = key.get();
            boolean ai = rnd.nextBoolean();
            boolean bi = rnd.nextBoolean();
            boolean head = rnd.nextBoolean();
            return switch (rnd.nextInt(6)) {
                case 0 -> m -> m.subMap(a, ai, b, bi);
                case 1 -> m -> m.headMap(a, ai);
                case 2 -> m -> m.tailMap(a, ai);
                case 3 -> m -> m.subMap(a, b);
                case 4 -> ConcurrentNavigableMap::descendingMap;
                default -> m -> head ? m.headMap(a) : m.tailMap(a);
            };
        }

        private Object operate(int op, ConcurrentNavigableMap<K, V> m, Random r, K k, V v, V w) {
            return switch (op) {
                case 0, 1 -> m.get(k);
                case 2 -> m.containsKey(k);
                case 3, 4, 5 -> m.put(k, v);
                case 6, 7 -> m.remove(k);
                case 8 -> m.putIfAbsent(k, v);
                case 9 -> m.replace(k, v);
                case 10 -> m.replace(k, v, w);
                case 11 -> m.remove(k, v);
                case 12 -> m.compute(k, (kk, old) -> old == null ? v : r.nextInt(3) == 0 ? null : w);
                case 13 -> m.computeIfAbsent(k, kk -> r.nextInt(4) == 0 ? null : v);
                case 14 -> m.computeIfPresent(k, (kk, old) -> r.nextInt(3) == 0 ? null : w);
                case 15 -> m.merge(k, v, (old, given) -> old.equals(given) ? null : given);
                case 16 -> m.firstEntry();
                case 17 -> m.lastEntry();
                case 18 -> m.firstKey();
                case 19 -> m.lastKey();
                case 20 -> m.ceilingEntry(k);
                case 21 -> m.floorEntry(k);
                case 22 -> m.higherKey(k);
                case 23 -> m.lowerKey(k);
                case 24 -> r.nextInt(4) == 0 ? m.pollFirstEntry() : m.firstKey();
                case 25 -> r.nextInt(4) == 0 ? m.pollLastEntry() : m.lastKey();
                case 26 -> m.size();
                case 27 -> m.isEmpty();
                case 28 -> m.containsValue(v);
                case 29 -> new ArrayList<>(m.entrySet());
                case 30 -> new ArrayList<>(m.navigableKeySet());
                case 31 -> new ArrayList<>(m.descendingKeySet());
                case 32 -> new ArrayList<>(m.values());
                case 33 -> {
                    // iterate, removing some through the iterator
                    List<Object> seen = new ArrayList<>();
                    for (Iterator<Map.Entry<K, V>> it = m.entrySet().iterator(); it.hasNext(); ) {
                        seen.add(it.next());
                        if (r.nextInt(4) == 0) {
                            it.remove();
                        }
                    }
                    yield seen;
                }
                case 34 -> m.entrySet().contains(new SimpleImmutableEntry<>(k, v));
                case 35 -> m.entrySet().remove(new SimpleImmutableEntry<>(k, v));
                case 36 -> m.keySet().remove(k);
                case 37 -> m.navigableKeySet().ceiling(k);
                case 38 -> r.nextInt(20) == 0 ? clear(m) : m.headMap(k, true).size();
                default -> m.descendingMap().firstEntry();
            };
        }

        private Object clear(Map<K, V> m) {
            m.clear();
            return "cleared";
        }

        private static Object outcome(Callable<?> c) {
            try {
                Object r = c.call();
                if (r instanceof Map.Entry<?, ?> e) {
                    return new SimpleImmutableEntry<>(e.getKey(), e.getValue());
                }
                if (r instanceof Collection<?> col && !(r instanceof NavigableMap)) {
                    return new ArrayList<>(col);
                }
                return r;
            } catch (Exception e) {
                return e.getClass();
            }
        }
    }

    @Test
    void worksOverAnyComputeNodeOfACluster() {
        try (EmbeddedCluster cluster = DmTree.embedded().computeNodes(2).nodeBytes(256).regionBytes(64L << 20)
                .chunkBytes(1L << 20).start()) {
            DmIndex a = cluster.index(0);
            DmIndex b = cluster.index(1);
            ConcurrentNavigableMap<Long, Long> ma = DmNavigableMap.of(a, Codec.longs(), Codec.longs());
            ConcurrentNavigableMap<Long, Long> mb = DmNavigableMap.of(b, Codec.longs(), Codec.longs());
            for (long i = 0; i < 300; i++) {
                ma.merge(i % 10, 1L, Long::sum);
                mb.merge(i % 10, 1L, Long::sum);
            }
            for (long i = 0; i < 10; i++) {
                assertEquals(60L, mb.get(i));
            }
            assertEquals(ma, mb);
        }
    }

    /**
     * Weakly consistent iteration under a concurrent writer on another compute node: every key
     * present throughout (the even ones) is returned, in strictly increasing (decreasing) order,
     * none twice, while the odd keys come and go and leaves split and merge.
     */
    @Test
    void iteratorsAreWeaklyConsistentUnderConcurrentWrites() throws Exception {
        long seed = seed("iteratorsAreWeaklyConsistentUnderConcurrentWrites");
        try (EmbeddedCluster cluster = DmTree.embedded().computeNodes(2).nodeBytes(256).memoryNodes(2)
                .regionBytes(64L << 20).chunkBytes(1L << 20).start()) {
            DmNavigableMap<Long, Long> reader = DmNavigableMap.of(cluster.index(0), Codec.longs(), Codec.longs());
            DmNavigableMap<Long, Long> writer = DmNavigableMap.of(cluster.index(1), Codec.longs(), Codec.longs());
            for (long k = 0; k < 2000; k += 2) {
                writer.put(k, k);
            }
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
            Thread churn = new Thread(() -> {
                Random r = new Random(seed);
                try {
                    for (int i = 0; i < 200_000 && !stop.get(); i++) {
                        long k = 2L * r.nextInt(1000) + 1;
                        if (r.nextBoolean()) {
                            writer.put(k, k);
                        } else {
                            writer.remove(k);
                        }
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            churn.start();
            try {
                Random r = new Random(seed + 1);
                for (int pass = 0; pass < 30; pass++) {
                    long a = r.nextInt(1800);
                    long b = a + r.nextInt(400);
                    boolean down = r.nextBoolean();
                    NavigableMap<Long, Long> view = down ? reader.subMap(a, true, b, false).descendingMap()
                            : reader.subMap(a, true, b, false);
                    List<Long> got = new ArrayList<>(view.keySet());
                    for (int i = 1; i < got.size(); i++) {
                        assertTrue(down ? got.get(i) < got.get(i - 1) : got.get(i) > got.get(i - 1), "order: " + got);
                    }
                    for (long k = a + (a % 2); k < Math.min(b, 2000); k += 2) { // the even keys loaded: 0..1998
                        assertTrue(got.contains(k), "key " + k + " present throughout is missing from [" + a + ", " + b + ")");
                    }
                    for (Long k : got) {
                        assertTrue(k >= a && k < b, "key " + k + " outside [" + a + ", " + b + ")");
                    }
                }
            } finally {
                stop.set(true);
                churn.join(60_000);
            }
            assertNull(failure.get());
            assertTrue(cluster.check().ok());
        }
    }
}
