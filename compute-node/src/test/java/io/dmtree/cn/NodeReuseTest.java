package io.dmtree.cn;

import io.dmtree.core.layout.ChunkTableLayout;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.region.ChunkTable;
import io.dmtree.core.tree.KeyOrder;
import io.dmtree.core.tree.NodeImage;
import io.dmtree.core.tree.NodeLayout;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.core.tree.TreeStats;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An injected ABA: a reader holds, in its index cache, a parent that points to a leaf another
 * compute node merged away and freed; the block is then handed out again as a new leaf over the
 * same range holding a key the tree does not hold (as a split that has not linked its new node yet
 * would). The reader's lookup through its stale parent must not answer from the reused block: the
 * block's born era is later than the cache entry's, so the reader restarts from the root. With the
 * check off the same lookup answers the key that is not there, so the test can fail.
 */
class NodeReuseTest {
    private static final long BOGUS = 0xBADL;

    @Test
    void aReaderWithAStalePointerToAReusedNodeIsNotFooled() {
        try (EmbeddedCluster cluster = DmTree.embedded().computeNodes(2).nodeBytes(256).regionBytes(64L << 20)
                .chunkBytes(1L << 20).start()) {
            cluster.computeNode(0).tree().reusing(true);
            DmIndex writer = cluster.index(0);
            DmIndex reader = cluster.index(1);
            int n = 1500;
            for (long k = 0; k < n; k++) {
                writer.put(k, k);
            }
            for (long k = 0; k < n; k++) {
                assertEquals(OptionalLong.of(k), reader.get(k)); // caches every internal node
            }
            for (long k = 0; k < n; k++) {
                if (k % 50 != 0) {
                    writer.delete(k);
                }
            }
            long[] removed = cluster.computeNode(0).tree().removedNodes().addresses();
            assertTrue(removed.length > 0, "the deletes merged nothing away");
            Verbs verbs = cluster.computeNode(0).verbs();
            NodeLayout layout = cluster.config().tree().layout();
            ChunkTable table = ChunkTable.open(verbs);

            // a removed, freed leaf whose range holds a deleted key
            long victim = GlobalAddress.NULL;
            long key = -1;
            NodeImage old = new NodeImage(layout);
            for (long address : removed) {
                verbs.read(address, old.buffer(), 0, layout.nodeBytes());
                if (old.level() != 0 || old.highInfinite() || wordOf(table, address) != ChunkTableLayout.BLOCK_FREE) {
                    continue;
                }
                long low = KeyOrder.getLongKey(old.buffer(), old.lowFenceOffset());
                long high = KeyOrder.getLongKey(old.buffer(), old.highFenceOffset());
                for (long k = low; k < high; k++) {
                    if (k % 50 != 0) {
                        key = k;
                        break;
                    }
                }
                if (key >= 0) {
                    victim = address;
                    break;
                }
            }
            assertNotEquals(GlobalAddress.NULL, victim, "no freed leaf to reuse");

            // hand the block out again (claim, raise the era) and write a new leaf there, unlinked
            int mn = GlobalAddress.memoryNode(victim);
            ChunkTableLayout t = table.layout(mn);
            long offset = GlobalAddress.offset(victim);
            long c = t.chunkOf(offset);
            long wordAt = t.blockWord(c, (offset - t.chunkOffset(c)) / layout.nodeBytes());
            long free = table.blockWords(mn, c, (int) t.blocksPerChunk(layout.nodeBytes()))[(int) ((offset - t.chunkOffset(c))
                    / layout.nodeBytes())];
            assertEquals(free, table.cas(mn, wordAt, free, ChunkTableLayout.word(ChunkTableLayout.BLOCK_NODE, 9, 0)));
            long born = verbs.faa(GlobalAddress.of(0, RegionLayout.REUSE_ERA_OFFSET), 1) + 1;
            NodeImage reused = new NodeImage(layout);
            reused.init(0, old.buffer(), old.lowFenceOffset(), old.buffer(), old.highFenceOffset(), old.sibling(), 0);
            UnsafeBuffer k = new UnsafeBuffer(new byte[8]);
            KeyOrder.putLongKey(k, 0, key);
            UnsafeBuffer v = new UnsafeBuffer(new byte[8]);
            v.putLong(0, BOGUS, java.nio.ByteOrder.BIG_ENDIAN);
            reused.putLeafEntry(0, k, 0, v, 0);
            reused.setCount(1);
            reused.setBornEra(born);
            reused.seal();
            verbs.write(victim, reused.buffer(), 0, layout.nodeBytes());

            TreeStats stats = cluster.computeNode(1).tree().stats();
            long reachedBefore = stats.reusedReached.sum();
            // without the check the stale cached parent leads into the reused block's keys
            cluster.computeNode(1).tree().checkReuse(false);
            assertEquals(OptionalLong.of(BOGUS), reader.get(key), "without the born-era check the ABA goes unseen");
            cluster.computeNode(1).tree().checkReuse(true);
            assertEquals(OptionalLong.empty(), reader.get(key), "the reader answered from a reused block");
            assertTrue(stats.reusedReached.sum() > reachedBefore, "the reader never saw the reused block: " + stats);
            for (long q = 0; q < n; q++) {
                assertEquals(q % 50 == 0 ? OptionalLong.of(q) : OptionalLong.empty(), reader.get(q), "get " + q);
            }
            assertEquals(n / 50, reader.scan(0L, Integer.MAX_VALUE).size());
            TreeReport r = cluster.check();
            assertTrue(r.ok(), r::toString);
            assertEquals(256, r.region().leaked(), "the injected leaf is held by member 9, which linked it nowhere: " + r);
        }
    }

    private static int wordOf(ChunkTable table, long address) {
        int mn = GlobalAddress.memoryNode(address);
        ChunkTableLayout t = table.layout(mn);
        long offset = GlobalAddress.offset(address);
        long c = t.chunkOf(offset);
        int b = (int) ((offset - t.chunkOffset(c)) / 256);
        return ChunkTableLayout.state(table.blockWords(mn, c, b + 1)[b]);
    }
}
