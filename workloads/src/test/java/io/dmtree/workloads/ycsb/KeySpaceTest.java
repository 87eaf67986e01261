package io.dmtree.workloads.ycsb;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeySpaceTest {
    @Test
    void narrowWidthsAreBijectionsOverTheirWholeSpace() {
        for (int width = 1; width <= 3; width++) {
            KeySpace ks = new KeySpace(width, 42);
            long capacity = ks.capacity();
            assertEquals(1L << (8 * width), capacity);
            BitSet seen = new BitSet((int) capacity);
            byte[] key = new byte[width];
            for (long r = 0; r < capacity; r++) {
                ks.writeKey(r, key);
                int v = 0;
                for (byte b : key) {
                    v = (v << 8) | (b & 0xFF);
                }
                assertTrue(!seen.get(v), "width " + width + ": record " + r + " repeats a key");
                seen.set(v);
            }
            assertEquals(capacity, seen.cardinality());
        }
    }

    @Test
    void eightByteKeysAreDistinctAndMatchTheirLongForm() {
        KeySpace ks = new KeySpace(8, 1);
        Set<Long> seen = new HashSet<>();
        for (long r = 0; r < 200_000; r++) {
            assertTrue(seen.add(ks.longKey(r)));
        }
        byte[] k = ks.key(12345);
        long big = 0;
        for (byte b : k) {
            big = (big << 8) | (b & 0xFF);
        }
        assertEquals(ks.longKey(12345), big);
    }

    @Test
    void wideKeysHaveTheirWidthAndAreDistinct() {
        KeySpace ks = new KeySpace(16, 3);
        Set<String> seen = new HashSet<>();
        for (long r = 0; r < 50_000; r++) {
            byte[] k = ks.key(r);
            assertEquals(16, k.length);
            assertTrue(seen.add(Arrays.toString(k)));
        }
        assertArrayEquals(ks.key(7), ks.key(7));
    }

    @Test
    void keyOrderIsNotInsertOrder() {
        for (int width : new int[]{2, 8, 24}) {
            KeySpace ks = new KeySpace(width, 5);
            int ascending = 0;
            int n = 2000;
            byte[] previous = ks.key(0);
            for (int r = 1; r < n; r++) {
                byte[] k = ks.key(r);
                if (Arrays.compareUnsigned(previous, k) < 0) {
                    ascending++;
                }
                previous = k;
            }
            double share = ascending / (double) (n - 1);
            assertTrue(share > 0.4 && share < 0.6, "width " + width + ": " + share + " of neighbours ascend");
        }
    }

    @Test
    void refusesRecordCountsThatDoNotFit() {
        KeySpace one = new KeySpace(1, 0);
        one.requireCapacity(256);
        assertThrows(IllegalArgumentException.class, () -> one.requireCapacity(257));
        KeySpace three = new KeySpace(3, 0);
        assertThrows(IllegalArgumentException.class, () -> three.requireCapacity((1L << 24) + 1));
        assertThrows(IllegalArgumentException.class, () -> new KeySpace(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new KeySpace(65, 0));
        assertThrows(IllegalStateException.class, () -> new KeySpace(4, 0).longKey(1));
    }

    @Test
    void theSeedChangesTheMapping() {
        assertTrue(new KeySpace(8, 1).longKey(10) != new KeySpace(8, 2).longKey(10));
    }
}
