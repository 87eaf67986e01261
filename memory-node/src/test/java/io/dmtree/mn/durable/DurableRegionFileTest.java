package io.dmtree.mn.durable;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.OutOfMemoryNodeSpaceException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A memory node over a durable region file: formatted once, restored by every later open with
 * every byte, the chunk allocator and the header intact; every kind of wrong or damaged file refused
 * with a message saying what differs.
 */
class DurableRegionFileTest {
    private static final MemoryNodeConfig CONFIG = new MemoryNodeConfig(8L << 20, 1L << 20, 64L << 10);
    private static final DurableRegionFile.Options SMALL_SEGMENTS = new DurableRegionFile.Options(22, false);
    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        dir = Files.createTempDirectory("dmtree-durable-");
    }

    @AfterEach
    void removeDir() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private MemoryNode open(int id, MemoryNodeConfig config) throws IOException {
        DurableRegionFile f = DurableRegionFile.open(dir, id, config.regionBytes(), SMALL_SEGMENTS);
        try {
            return new MemoryNode(id, config, f.region(), f, !f.created());
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private static void close(MemoryNode mn) {
        mn.close();
        ((DurableRegionFile) mn.durability()).close();
    }

    @Test
    void aRestartFindsEveryByteTheChunkAllocatorAndTheHeader() throws IOException {
        MemoryNode first = open(2, CONFIG);
        assertFalse(first.restored());
        long chunk1 = first.allocateChunk();
        long chunk2 = first.allocateChunk();
        long lockWord = RegionLayout.LOCK_TABLE_START + 64;
        first.region().putLongVolatile(lockWord, 0x1234L); // a lock some compute node holds
        long across = (4L << 20) - 8; // a word next to a segment boundary: both segments persist
        first.region().putLongVolatile(across, 77);
        first.region().putLongVolatile(across + 8, 78);
        first.region().putLongVolatile(RegionLayout.redoDirectoryEntry(5), chunk1);
        first.bindCluster(0xABCDL, "test");
        close(first);

        MemoryNode second = open(2, CONFIG);
        try {
            assertTrue(second.restored());
            assertTrue(second.previousStopWasClean());
            assertEquals(2, second.lives());
            assertEquals(0x1234L, second.region().getLongVolatile(lockWord), "lock words are not reset");
            assertEquals(77, second.region().getLongVolatile(across));
            assertEquals(78, second.region().getLongVolatile(across + 8));
            assertEquals(java.util.List.of(5), second.slotsWithRedoBlocks());
            assertEquals(2, second.chunks().allocated(), "the allocator's count lives in the region");
            long chunk3 = second.allocateChunk();
            assertNotEquals(chunk1, chunk3);
            assertNotEquals(chunk2, chunk3);
            assertEquals(0xABCDL, second.clusterId());
            IllegalStateException other = assertThrows(IllegalStateException.class, () -> second.bindCluster(0x99L, "another"));
            assertTrue(other.getMessage().contains("belongs to cluster abcd"), other.getMessage());
            assertTrue(second.restoreSummary().contains("chunks 3/"), second.restoreSummary());
        } finally {
            close(second);
        }
    }

    @Test
    void aProcessThatDidNotCloseLeavesAnUncleanStopAndEveryStore() throws IOException {
        MemoryNode first = open(0, CONFIG);
        first.region().putLongVolatile(RegionLayout.ROOT_POINTER_OFFSET, 4242);
        ((DurableRegionFile) first.durability()).close(); // as a killed process: no clean stop recorded
        MemoryNode second = open(0, CONFIG);
        try {
            assertTrue(second.restored());
            assertFalse(second.previousStopWasClean());
            assertEquals(4242, second.region().getLongVolatile(RegionLayout.ROOT_POINTER_OFFSET));
            assertTrue(second.restoreSummary().contains("unclean"), second.restoreSummary());
        } finally {
            close(second);
        }
    }

    @Test
    void theChunkAllocatorNeverHandsOutMoreThanTheRegionHoldsAcrossRestarts() throws IOException {
        long capacity = CONFIG.chunkCount();
        for (int life = 0; life < 3 && life < capacity; life++) {
            MemoryNode mn = open(0, CONFIG);
            try {
                mn.allocateChunk();
            } finally {
                close(mn);
            }
        }
        MemoryNode mn = open(0, CONFIG);
        try {
            for (long i = mn.chunks().allocated(); i < capacity; i++) {
                mn.allocateChunk();
            }
            assertThrows(OutOfMemoryNodeSpaceException.class, mn::allocateChunk);
            assertEquals(capacity, mn.chunks().allocated());
        } finally {
            close(mn);
        }
    }

    @Test
    void aRegionOfAnotherSizeMemoryNodeOrShapeIsRefused() throws IOException {
        close(open(1, CONFIG));
        IllegalStateException size = assertThrows(IllegalStateException.class, () -> open(1, CONFIG.withRegionBytes(16L << 20)));
        assertTrue(size.getMessage().contains("holds a region of " + CONFIG.regionBytes() + " bytes"), size.getMessage());
        assertTrue(size.getMessage().contains("--memory " + CONFIG.regionBytes()), size.getMessage());

        Files.move(DurableRegionFile.file(dir, 1), DurableRegionFile.file(dir, 3));
        IllegalStateException id = assertThrows(IllegalStateException.class, () -> open(3, CONFIG));
        assertTrue(id.getMessage().contains("region of memory node 1, not of memory node 3"), id.getMessage());
        Files.move(DurableRegionFile.file(dir, 3), DurableRegionFile.file(dir, 1));

        MemoryNodeConfig otherChunks = new MemoryNodeConfig(CONFIG.regionBytes(), 2L << 20, CONFIG.lockTableBytes());
        IllegalStateException chunk = assertThrows(IllegalStateException.class, () -> open(1, otherChunks));
        assertTrue(chunk.getMessage().contains("chunk size of " + CONFIG.chunkBytes()), chunk.getMessage());
        assertTrue(chunk.getMessage().contains("--chunk"), chunk.getMessage());
        close(open(1, CONFIG)); // still fine with its own configuration
    }

    @Test
    void aDamagedHeaderOrAForeignFileIsRefused() throws IOException {
        close(open(0, CONFIG));
        Path file = DurableRegionFile.file(dir, 0);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(RegionLayout.LOCK_TABLE_BYTES_OFFSET + 2);
            raf.write(0x5A); // one flipped byte of an identity word
        }
        IllegalStateException damaged = assertThrows(IllegalStateException.class, () -> open(0, CONFIG));
        assertTrue(damaged.getMessage().contains("damaged header"), damaged.getMessage());

        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(0);
            raf.write("not a region".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        IllegalStateException foreign = assertThrows(IllegalStateException.class, () -> open(0, CONFIG));
        assertTrue(foreign.getMessage().contains("is not a dmtree region"), foreign.getMessage());

        Files.delete(file);
        Files.createDirectory(file);
        IllegalStateException notFile = assertThrows(IllegalStateException.class, () -> open(0, CONFIG));
        assertTrue(notFile.getMessage().contains("is not a regular file"), notFile.getMessage());
    }

    @Test
    void aFileInUseIsRefusedAndOneNeverFormattedIsFormatted() throws IOException {
        MemoryNode mn = open(0, CONFIG);
        try {
            IllegalStateException inUse = assertThrows(IllegalStateException.class, () -> open(0, CONFIG));
            assertTrue(inUse.getMessage().contains("is in use"), inUse.getMessage());
        } finally {
            close(mn);
        }
        Path file = DurableRegionFile.file(dir, 4);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(CONFIG.regionBytes()); // a first start that died before formatting
        }
        MemoryNode fresh = open(4, CONFIG);
        try {
            assertFalse(fresh.restored());
            assertEquals(RegionLayout.MAGIC, fresh.region().getLongVolatile(RegionLayout.MAGIC_OFFSET));
        } finally {
            close(fresh);
        }
    }
}
