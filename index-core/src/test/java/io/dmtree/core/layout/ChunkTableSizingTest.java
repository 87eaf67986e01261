package io.dmtree.core.layout;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A region sized for n chunks holds exactly n: chunksThatFit is the inverse of regionBytesFor. */
class ChunkTableSizingTest {
    @Test
    void aRegionMadeForNChunksHoldsNAndNotOneMore() {
        long area = RegionLayout.chunkAreaOffset(1 << 20);
        for (long chunkBytes : new long[] {4096, 64 << 10, 1 << 20}) {
            for (long n : new long[] {1, 2, 3, 7, 8, 9, 63, 64, 65, 1000}) {
                long bytes = ChunkTableLayout.regionBytesFor(area, chunkBytes, n);
                assertEquals(n, ChunkTableLayout.chunksThatFit(bytes, area, chunkBytes), chunkBytes + " x " + n);
                assertEquals(n - 1, ChunkTableLayout.chunksThatFit(bytes - 1, area, chunkBytes), chunkBytes + " x " + n + " - 1");
            }
        }
        assertEquals(0, ChunkTableLayout.chunksThatFit(area, area, 4096));
    }
}
