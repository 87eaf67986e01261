package io.dmtree.workloads.ycsb;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Shares of a run: the records of all shares partition {@code 0 .. records-1}; the lanes of all
 * workers of all shares run every operation exactly once; operation {@code j} runs on share
 * {@code j mod count}, as the embedded runner sends it to compute node {@code j mod cns}.
 */
class StreamShareTest {
    @Test
    void recordsArePartitionedInOrder() {
        for (long records : new long[]{1, 2, 7, 100, 1_000_003, Long.MAX_VALUE / 2}) {
            for (int count = 1; count <= 9; count++) {
                long next = 0;
                for (int i = 0; i < count; i++) {
                    StreamShare s = new StreamShare(i, count);
                    assertEquals(next, s.firstRecord(records), records + " records, share " + i + " of " + count);
                    long end = s.endRecord(records);
                    long size = end - s.firstRecord(records);
                    assertEquals(true, size >= records / count && size <= records / count + 1, "balanced: " + size);
                    next = end;
                }
                assertEquals(records, next);
            }
        }
    }

    @Test
    void everyOperationRunsOnceOnItsComputeNode() {
        int size = 1013;
        for (int count = 1; count <= 4; count++) {
            for (int threads = 1; threads <= 3; threads++) {
                int[] ranBy = new int[size];
                java.util.Arrays.fill(ranBy, -1);
                long total = 0;
                for (int i = 0; i < count; i++) {
                    StreamShare s = new StreamShare(i, count);
                    int lanes = s.lanes(threads);
                    long ops = 0;
                    for (int w = 0; w < threads; w++) {
                        // the contestant's loop over slices [from, to)
                        for (int[] slice : new int[][]{{0, 400}, {400, 401}, {401, size}}) {
                            int first = slice[0] + Math.floorMod(s.lane(w) - slice[0], lanes);
                            for (int j = first; j < slice[1]; j += lanes) {
                                assertEquals(-1, ranBy[j], "operation " + j + " ran twice");
                                ranBy[j] = i;
                                ops++;
                            }
                        }
                    }
                    assertEquals(s.operations(size), ops, "share " + i + " of " + count);
                    total += ops;
                }
                assertEquals(size, total);
                for (int j = 0; j < size; j++) {
                    assertEquals(j % count, ranBy[j], "operation " + j + " with " + count + " compute nodes");
                }
            }
        }
    }

    @Test
    void badSharesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new StreamShare(2, 2));
        assertThrows(IllegalArgumentException.class, () -> new StreamShare(-1, 2));
        assertThrows(IllegalArgumentException.class, () -> new StreamShare(0, 0));
    }
}
