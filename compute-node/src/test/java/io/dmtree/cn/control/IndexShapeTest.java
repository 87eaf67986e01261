package io.dmtree.cn.control;

import io.dmtree.core.tree.TreeConfig;
import io.dmtree.lock.LockDesigns;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compute nodes that leave the index's settings open take them from the index the cluster holds,
 * or the defaults for a new one; given settings that disagree with the stored index are refused.
 */
class IndexShapeTest {
    private static final TreeConfig WIDE = TreeConfig.defaults().withKeyBytes(32).withValueBytes(200);

    @TempDir
    Path dir;

    private MemoryNodeServer start() {
        return MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0),
                new MemoryNodeConfig(16L << 20, 1L << 20, 64L << 10), "tcp", dir));
    }

    private static ClusterClient.Options options(MemoryNodeServer mn) {
        return ClusterClient.Options.of(List.of(mn.address())).withTimeoutMillis(10_000);
    }

    @Test
    void anOpenShapeCreatesWithTheFreshSettingsThenEveryoneAdoptsTheStoredOnes() {
        try (MemoryNodeServer mn = start();
             RemoteComputeNode first = RemoteComputeNode.join(options(mn), IndexShape.AS_STORED, WIDE, 16, 8);
             RemoteComputeNode second = RemoteComputeNode.join(options(mn), IndexShape.AS_STORED, TreeConfig.defaults(), 16, 8);
             RemoteComputeNode third = RemoteComputeNode.join(options(mn), new IndexShape(32, null, null, null),
                     TreeConfig.defaults(), 16, 8)) {
            assertEquals(LockDesigns.defaultName(), first.computeNode().lockDesign().name());
            for (RemoteComputeNode n : List.of(first, second, third)) {
                assertEquals(32, n.computeNode().treeConfig().keyBytes());
                assertEquals(200, n.computeNode().treeConfig().valueBytes());
                assertEquals(first.computeNode().treeConfig().nodeBytes(), n.computeNode().treeConfig().nodeBytes());
                assertEquals(LockDesigns.defaultName(), n.computeNode().lockDesign().name());
            }
            byte[] key = new byte[32];
            key[0] = 7;
            byte[] value = new byte[200];
            value[199] = 9;
            first.index().put(key, value);
            assertEquals(9, second.index().get(key)[199]);
        }
    }

    @Test
    void aGivenSettingThatDisagreesWithTheStoredIndexIsRefusedNamingBoth() {
        try (MemoryNodeServer mn = start();
             RemoteComputeNode first = RemoteComputeNode.join(options(mn), new IndexShape(null, null, null, "cas-spin"),
                     TreeConfig.defaults(), 16, 8)) {
            assertEquals("cas-spin", first.computeNode().lockDesign().name());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RemoteComputeNode.join(options(mn),
                    new IndexShape(null, null, null, "modular"), TreeConfig.defaults(), 16, 8).close());
            assertTrue(e.getMessage().contains("'cas-spin'") && e.getMessage().contains("'modular'"), e.getMessage());
            try (RemoteComputeNode adopting = RemoteComputeNode.join(options(mn), IndexShape.AS_STORED, TreeConfig.defaults(), 16, 8)) {
                assertEquals("cas-spin", adopting.computeNode().lockDesign().name());
            }
        }
    }

    @Test
    void anUnknownLockDesignIsRefusedBeforeJoining() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new IndexShape(null, null, null, "nope"));
        assertTrue(e.getMessage().contains("known:"), e.getMessage());
    }
}
