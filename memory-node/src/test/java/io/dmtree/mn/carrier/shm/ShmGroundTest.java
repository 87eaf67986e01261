package io.dmtree.mn.carrier.shm;

import io.dmtree.mn.MemoryNodeCommand;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shm carrier checks its ground: a region larger than its file system's free space is refused
 * at start (instead of SIGBUS later), and what a memory node killed with SIGKILL leaves behind is
 * removed by {@code dmtree mn --clean} while a live memory node's files stay.
 */
class ShmGroundTest {
    @TempDir
    Path dir;

    @Test
    void aRegionLargerThanTheFreeSpaceIsRefusedAtStartAndLeavesNoFile() throws Exception {
        long free = Files.getFileStore(dir).getUsableSpace();
        long chunk = 1L << 20;
        long region = ((free + (1L << 30)) / chunk + 1) * chunk;
        MemoryNodeOptions o = MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0),
                new MemoryNodeConfig(region, chunk, 64L << 10), "shm", dir);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MemoryNodeServer.start(o));
        assertTrue(e.getMessage().contains("does not fit in " + dir), e.getMessage());
        assertTrue(e.getMessage().contains("--memory"), e.getMessage());
        try (var left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "a refused start leaves nothing behind");
        }
    }

    @Test
    void cleanRemovesWhatAKilledMemoryNodeLeftAndKeepsALiveOnesFiles() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process p = new ProcessBuilder(java, "-Xmx128m", "-cp", cp, MemoryNodeCommand.class.getName(), "--id", "0",
                "--listen", "127.0.0.1:0", "--transport", "shm", "--memory", "64M", "--chunk", "1M", "--dir", dir.toString(),
                "--zk-listen", "127.0.0.1:0")
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertTrue(line != null && line.endsWith(" ready"), "ready line, got: " + line);
            p.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
        }
        Path deadRegion = dir.resolve("dmtree-mn0.region");
        Path deadLock = dir.resolve("dmtree-mn0.lock");
        Path deadZooKeeper = dir.resolve("dmtree-mn0.zk");
        assertTrue(Files.exists(deadRegion), "SIGKILL leaves the region file");
        assertTrue(Files.isDirectory(deadZooKeeper), "SIGKILL leaves memory node 0's ZooKeeper data");
        Path deadInbox = dir.resolve("dmtree-cn3-" + p.pid() + "-1.inbox");
        Files.write(deadInbox, new byte[64]);

        try (MemoryNodeServer live = MemoryNodeServer.start(MemoryNodeOptions.of(1, new InetSocketAddress("127.0.0.1", 0),
                new MemoryNodeConfig(16L << 20, 1L << 20, 64L << 10), "shm", dir))) {
            Path liveInbox = dir.resolve("dmtree-cn0-" + ProcessHandle.current().pid() + "-1.inbox");
            Files.write(liveInbox, new byte[64]);
            int code = new CommandLine(new MemoryNodeCommand()).execute("--clean", "--dir", dir.toString());
            assertEquals(0, code);
            assertFalse(Files.exists(deadRegion));
            assertFalse(Files.exists(deadLock));
            assertFalse(Files.exists(deadInbox));
            assertFalse(Files.exists(deadZooKeeper));
            assertTrue(Files.exists(dir.resolve("dmtree-mn1.region")), "the live memory node keeps its region");
            assertTrue(Files.exists(dir.resolve("dmtree-mn1.lock")), "the live memory node keeps its lock");
            assertTrue(Files.exists(liveInbox), "a live process keeps its inbox");
            Files.delete(liveInbox);
        }
        try (var left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "a clean stop leaves nothing behind");
        }
    }
}
