package io.dmtree.mn;

import io.dmtree.core.layout.RegionLayout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Formatting a region over memory that held anything: the header's fields, an empty redo directory, a free lock table. */
class RegionFormatTest {

    @Test
    void formatLeavesEveryRedoDirectoryEntryEmptyAndKeepsTheExistingFields() {
        MemoryNodeConfig config = new MemoryNodeConfig(48L << 20, 1L << 20, 64L << 10); // above the C allocator's mmap threshold ceiling
        OffHeapRegion region = new OffHeapRegion(config.regionBytes());
        for (long o = 0; o < config.chunkAreaOffset(); o += 8) {
            region.putLongVolatile(o, -1L); // a reused mapping full of old bytes
        }
        try (MemoryNode mn = new MemoryNode(3, config, region)) {
            for (int m = 0; m < RegionLayout.REDO_DIRECTORY_ENTRIES; m++) {
                assertEquals(0L, region.getLongVolatile(RegionLayout.redoDirectoryEntry(m)), "member " + m);
            }
            assertEquals(RegionLayout.MAGIC, region.getLongVolatile(RegionLayout.MAGIC_OFFSET));
            assertEquals(RegionLayout.LOCK_TABLE_START, region.getLongVolatile(RegionLayout.LOCK_TABLE_OFFSET_OFFSET));
            assertEquals(config.chunkAreaOffset(), region.getLongVolatile(RegionLayout.CHUNK_AREA_OFFSET_OFFSET));
            assertEquals(0L, region.getLongVolatile(RegionLayout.ROOT_POINTER_OFFSET));
            assertEquals(0L, region.getLongVolatile(RegionLayout.LOCK_TABLE_START + 64));
        }
        assertTrue(RegionLayout.SUPERBLOCK_OFFSET + RegionLayout.SUPERBLOCK_BYTES <= RegionLayout.REDO_DIRECTORY_OFFSET,
                "the directory lies beyond the superblock");
        assertTrue(RegionLayout.redoDirectoryEntry(RegionLayout.REDO_DIRECTORY_ENTRIES - 1) + 8 <= RegionLayout.HEADER_BYTES,
                "and inside the header");
        assertThrows(IllegalArgumentException.class, () -> RegionLayout.redoDirectoryEntry(RegionLayout.REDO_DIRECTORY_ENTRIES));
        assertThrows(IllegalArgumentException.class, () -> RegionLayout.redoDirectoryEntry(-1));
    }
}
