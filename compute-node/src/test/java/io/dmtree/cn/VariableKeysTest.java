package io.dmtree.cn;

import io.dmtree.core.tree.KeyLayout;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.core.tree.ValueLayout;
import io.dmtree.core.tree.VariableValues;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Variable-length keys: every size class (empty, 1 byte, long, the maximum, above it refused) with
 * values of every class, through splits at every level, in the order of
 * {@link Arrays#compareUnsigned(byte[], byte[])} (prefixes first), checked against a sorted map by
 * lookups and scans, by the tree checker and the region audit.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class VariableKeysTest {

    @Test
    void theEncodingKeepsTheKeysOrderAndNamesOneKeyPerSlot() {
        KeyLayout layout = new KeyLayout(6);
        byte[][] keys = {{}, {0}, {0, 0}, {0, 1}, {1}, {1, 0}, {1, 0, 0, 0}, {(byte) 0xFF}, {(byte) 0xFF, 0, 0, 0}};
        for (int i = 0; i < keys.length; i++) {
            assertArrayEquals(keys[i], layout.decode(layout.encode(keys[i])));
            for (int j = 0; j < keys.length; j++) {
                assertEquals(Integer.signum(Arrays.compareUnsigned(keys[i], keys[j])),
                        Integer.signum(Arrays.compareUnsigned(layout.encode(keys[i]), layout.encode(keys[j]))),
                        Arrays.toString(keys[i]) + " vs " + Arrays.toString(keys[j]));
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> layout.encode(new byte[5]));
        assertTrue(e.getMessage().contains("longer than this index's maximum of 4 bytes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> layout.encode(null));
        assertThrows(IllegalStateException.class, () -> layout.decode(new UnsafeBuffer(new byte[]{0, 0, 0, 0, 0, 9}), 0));
    }

    private static byte[] key(Random rnd, int len) {
        byte[] k = new byte[len];
        for (int i = 0; i < len; i++) {
            k[i] = (byte) (rnd.nextInt(4) * 60); // few distinct bytes: many shared prefixes and zero bytes
        }
        return k;
    }

    @Test
    void everyKeySizeClassThroughSplitsAtEveryLevelInUnsignedOrder() {
        long seed = Seeds.seed("VariableKeysTest");
        Random rnd = new Random(seed);
        int max = KeyLayout.MAX_KEY_BYTES;
        int[] lengths = {0, 1, 2, 7, 100, max - 1, max};
        int[] values = {0, 1, 27, 28, 29, 2000};
        try (EmbeddedCluster cluster = DmTree.embedded().memoryNodes(2).variableKeys(max).valueBytes(32).nodeBytes(8192)
                .regionBytes(256L << 20).chunkBytes(4L << 20).start()) {
            VariableValues index = ((CnIndex) cluster.index(0)).values();
            assertEquals(max, index.keyLayout().maxKeyBytes());
            TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
            for (int i = 0; i < 1500; i++) {
                byte[] k = key(rnd, lengths[rnd.nextInt(lengths.length)]);
                byte[] v = new byte[values[rnd.nextInt(values.length)]];
                rnd.nextBytes(v);
                assertEquals(!model.containsKey(k), index.put(k, v), "seed " + seed);
                model.put(k, v);
            }
            TreeReport report = cluster.check();
            assertTrue(report.ok(), report::toString);
            assertTrue(report.height() >= 3, "splits at every level: " + report);
            assertEquals(model.size(), report.keys());
            assertEquals(0, report.leakedBytes(), report::toString);
            for (Map.Entry<byte[], byte[]> e : model.entrySet()) {
                assertArrayEquals(e.getValue(), index.get(e.getKey()), "key of " + e.getKey().length + " bytes (seed " + seed + ")");
            }
            assertArrayEquals(model.get(new byte[0]), index.get(new byte[0]), "the empty key");
            // scans in unsigned order from random bounds
            List<byte[]> all = new ArrayList<>(model.keySet());
            for (int i = 0; i < 50; i++) {
                byte[] from = all.get(rnd.nextInt(all.size()));
                List<VariableValues.Entry> got = index.scan(from, null, 40);
                Iterator<Map.Entry<byte[], byte[]>> want = model.tailMap(from, true).entrySet().iterator();
                for (VariableValues.Entry e : got) {
                    Map.Entry<byte[], byte[]> w = want.next();
                    assertArrayEquals(w.getKey(), e.key(), "scan order (seed " + seed + ")");
                    assertArrayEquals(w.getValue(), e.value());
                }
                assertEquals(Math.min(40, model.tailMap(from, true).size()), got.size());
            }
            // deletes of half, conditionals on the longest keys
            for (int i = 0; i < all.size(); i += 2) {
                assertArrayEquals(model.remove(all.get(i)), index.getAndDelete(all.get(i)));
            }
            byte[] longest = new byte[max];
            Arrays.fill(longest, (byte) 'k');
            assertNull(index.putIfAbsent(longest, "v".getBytes(StandardCharsets.UTF_8)));
            assertTrue(index.replace(longest, "v".getBytes(StandardCharsets.UTF_8), new byte[3000]));
            model.put(longest, new byte[3000]);
            TreeReport after = cluster.check();
            assertTrue(after.ok(), after::toString);
            assertEquals(model.size(), after.keys());
            assertEquals(0, after.leakedBytes(), after::toString);
            for (byte[] k : all) {
                assertArrayEquals(model.get(k), index.get(k));
            }
            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                    () -> index.put(new byte[max + 1], new byte[1]));
            assertTrue(tooLong.getMessage().contains("longer than this index's maximum"), tooLong.getMessage());
            assertThrows(IllegalArgumentException.class, () -> index.put(new byte[1], new byte[ValueLayout.MAX_VALUE_BYTES + 1]));
        }
        assertThrows(IllegalArgumentException.class, () -> DmTree.embedded().variableKeys(KeyLayout.MAX_KEY_BYTES + 1));
    }

    @Test
    void shortStringKeysWithAShortMaximum() {
        try (EmbeddedCluster cluster = DmTree.embedded().variableKeys(16).regionBytes(64L << 20).start()) {
            VariableValues index = ((CnIndex) cluster.index(0)).values();
            TreeMap<String, String> model = new TreeMap<>();
            for (int i = 0; i < 3000; i++) {
                String k = "user" + (i * 7919 % 3000);
                index.put(k.getBytes(StandardCharsets.UTF_8), ("v" + i).getBytes(StandardCharsets.UTF_8));
                model.put(k, "v" + i);
            }
            List<VariableValues.Entry> got = index.scan("user1".getBytes(StandardCharsets.UTF_8),
                    "user2".getBytes(StandardCharsets.UTF_8), 10_000);
            List<String> keys = new ArrayList<>();
            got.forEach(e -> keys.add(new String(e.key(), StandardCharsets.UTF_8)));
            assertEquals(new ArrayList<>(model.subMap("user1", "user2").keySet()), keys, "string order, prefixes first");
            assertTrue(cluster.check().ok());
        }
    }
}
