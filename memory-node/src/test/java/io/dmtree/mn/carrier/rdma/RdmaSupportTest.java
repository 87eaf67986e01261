package io.dmtree.mn.carrier.rdma;

import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rdma carrier refuses to start, saying what is missing and how to get it. */
class RdmaSupportTest {
    @TempDir
    Path dir;

    @Test
    void namesAMissingDeviceAndAMissingLibrary() throws Exception {
        String both = RdmaSupport.missing(dir.resolve("absent").toFile(), () -> "no disni in java.library.path");
        assertTrue(both.contains("no RDMA device"), both);
        assertTrue(both.contains("rdma link add rxe0 type rxe"), both);
        assertTrue(both.contains("libdisni"), both);
        assertTrue(both.contains("github.com/zrlio/disni"), both);

        Path devices = Files.createDirectories(dir.resolve("infiniband"));
        String library = RdmaSupport.missing(devices.toFile(), () -> null);
        assertTrue(library.contains("is empty"), library);
        Files.createDirectories(devices.resolve("rxe0"));
        String onlyLibrary = RdmaSupport.missing(devices.toFile(), () -> "not found");
        assertTrue(onlyLibrary.contains("libdisni") && !onlyLibrary.contains("no RDMA device"), onlyLibrary);
        assertNull(RdmaSupport.missing(devices.toFile(), () -> null), "nothing missing");
    }

    @Test
    void aMemoryNodeWithTheRdmaTransportStopsAtOnceHereWithTheReason() {
        // this build machine has neither an RDMA device nor libdisni (if it ever has both, there is nothing to refuse)
        String missing = RdmaSupport.missing();
        org.junit.jupiter.api.Assumptions.assumeTrue(missing != null, "this host can run rdma");
        MemoryNodeOptions o = MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0),
                new MemoryNodeConfig(1 << 20, 64 << 10, 64 << 10), "rdma", dir).withMaxFrameBytes(1 << 20);
        long start = System.nanoTime();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MemoryNodeServer.start(o));
        assertTrue(System.nanoTime() - start < 30_000_000_000L);
        assertEquals(missing, e.getMessage());
        assertTrue(e.getMessage().startsWith("the rdma transport cannot start on this host"), e.getMessage());
        assertTrue(!new File(dir.toFile(), "dmtree-mn0.lock").exists(), "nothing left behind");
    }
}
