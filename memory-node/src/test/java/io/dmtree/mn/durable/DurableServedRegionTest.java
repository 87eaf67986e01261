package io.dmtree.mn.durable;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every carrier that serves a region from this host serves the durable region's file: a memory
 * node with a data directory, stopped and started again, serves what it served (its chunk count,
 * a tree-node word in a chunk, a lock word), says so, and its stop leaves the file while it removes
 * everything else; shm compute nodes are pointed at that file. A region of another size is refused.
 */
class DurableServedRegionTest {
    private static final MemoryNodeConfig CONFIG = new MemoryNodeConfig(8L << 20, 1L << 20, 64L << 10);

    @TempDir
    Path dir;

    private MemoryNodeServer start(String transport, Path data, MemoryNodeConfig config) {
        return MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0), config, transport,
                dir.resolve("run")).withDataDir(data));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"local", "tcp", "shm"})
    void aRestartedMemoryNodeServesWhatItServedBefore(String transport) throws IOException {
        Path data = dir.resolve("data");
        long chunk;
        try (MemoryNodeServer mn = start(transport, data, CONFIG)) {
            assertEquals("", mn.restoreReport());
            assertTrue(mn.readyLine().contains("data=" + DurableRegionFile.file(data, 0).toAbsolutePath()), mn.readyLine());
            if (transport.equals("shm")) {
                assertEquals(DurableRegionFile.file(data, 0).toAbsolutePath().toString(),
                        mn.controlPlane().description().shmPath(), "compute nodes map the durable file");
            }
            chunk = mn.memoryNode().allocateChunk();
            mn.memoryNode().region().putLongVolatile(GlobalAddress.offset(chunk) + 64, 0xC0FFEEL);
            mn.memoryNode().region().putLongVolatile(RegionLayout.LOCK_TABLE_START + 8, 5);
        }
        assertTrue(Files.exists(DurableRegionFile.file(data, 0)), "the region file stays");
        try (java.util.stream.Stream<Path> left = Files.list(dir.resolve("run"))) {
            assertEquals(java.util.List.of(), left.toList(), "everything else is removed at a clean stop");
        }
        try (MemoryNodeServer mn = start(transport, data, CONFIG)) {
            String report = mn.restoreReport();
            assertTrue(report.contains("restored data file") && report.contains("previous stop clean")
                    && report.contains("chunks 1/"), report);
            assertTrue(report.contains("no membership"), report);
            assertEquals(0xC0FFEEL, mn.memoryNode().region().getLongVolatile(GlobalAddress.offset(chunk) + 64));
            assertEquals(5, mn.memoryNode().region().getLongVolatile(RegionLayout.LOCK_TABLE_START + 8));
            assertNotEquals(chunk, mn.memoryNode().allocateChunk(), "no chunk is handed out twice");
            assertEquals(2, mn.memoryNode().lives());
        }
    }

    @Test
    void aRegionOfAnotherSizeIsRefusedAndTheDirectoryStaysAsItWas() throws IOException {
        Path data = dir.resolve("data");
        start("tcp", data, CONFIG).close();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> start("tcp", data, CONFIG.withRegionBytes(16L << 20)));
        assertTrue(e.getMessage().contains("--memory " + CONFIG.regionBytes()), e.getMessage());
        assertEquals(CONFIG.regionBytes(), Files.size(DurableRegionFile.file(data, 0)));
        try (MemoryNodeServer mn = start("tcp", data, CONFIG)) {
            assertTrue(mn.memoryNode().restored());
        }
    }

    @Test
    void aSyncMappingWhereTheFileSystemHasNoDaxIsRefusedSayingSo() throws IOException {
        Path data = dir.resolve("data");
        boolean dax = Files.getFileStore(dir).type().contains("dax");
        if (dax) {
            return; // a DAX file system maps it: nothing to refuse here
        }
        IOException e = assertThrows(IOException.class,
                () -> DurableRegionFile.open(data, 0, CONFIG.regionBytes(), new DurableRegionFile.Options(30, true)));
        assertTrue(e.getMessage().contains("cannot map") && e.getMessage().contains("READ_WRITE_SYNC"), e.getMessage());
        assertFalse(Files.exists(DurableRegionFile.file(data, 0)), "the file it made is removed");
    }
}
