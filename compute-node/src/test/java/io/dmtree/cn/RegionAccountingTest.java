package io.dmtree.cn;

import io.dmtree.core.layout.ChunkTableLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.region.ChunkTable;
import io.dmtree.core.tree.MemoryReclaim;
import io.dmtree.core.tree.NodeAllocator;
import io.dmtree.core.tree.NodeImage;
import io.dmtree.core.tree.RegionUse;
import io.dmtree.core.tree.RepairReport;
import io.dmtree.core.tree.TreeRecovery;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.mn.local.LocalControlPlane;
import io.dmtree.mn.carrier.local.LocalVerbs;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Chunk ownership and region accounting in process: every byte of a filled tree's region is
 * accounted for; an orphan a crashed split leaves (a block handed out and written, never linked)
 * shows as leaked until its member's memory is reclaimed, which frees it and adopts the member's
 * chunks, whose free blocks the next allocation reuses; a second reclamation frees nothing; a
 * reachable node whose block is recorded free (a double free, a wild pointer) is a checker problem.
 */
class RegionAccountingTest {
    private static final int LAPSED = 2;

    private static EmbeddedCluster cluster() {
        return EmbeddedCluster.builder().computeNodes(3).memoryNodes(2).nodeBytes(256).chunkBytes(64 << 10)
                .regionBytes(16L << 20).lockTableBytes(64 << 10).threadsPerComputeNode(4).start();
    }

    @Test
    void everyByteOfAFilledTreeIsAccountedFor() {
        try (EmbeddedCluster c = cluster()) {
            Random rnd = new Random(Seeds.seed("everyByteOfAFilledTreeIsAccountedFor"));
            for (int i = 0; i < 3000; i++) {
                c.index(i % 3).put(rnd.nextLong() >>> 1, i);
            }
            TreeReport r = c.check();
            assertTrue(r.ok(), r::toString);
            RegionUse u = r.region();
            assertNotNull(u);
            int nodes = r.nodesPerLevel().stream().mapToInt(Integer::intValue).sum();
            assertEquals((long) nodes * 256, u.reachable(), r::toString);
            assertEquals(0, u.leaked(), r::toString);
            assertTrue(u.metadata() > 0, "the redo blocks are metadata: " + u);
            assertEquals(r.keys(), u.records());
            assertEquals(u.allocated(), u.reachable() + u.metadata() + u.removed() + u.pinned() + u.free() + u.leaked());
            assertTrue(u.allocated() < u.capacity());
        }
    }

    @Test
    void anOrphanLeaksUntilItsMembersMemoryIsReclaimedAndItsBlocksAreThenReused() {
        try (EmbeddedCluster c = cluster()) {
            long seed = Seeds.seed("anOrphanLeaksUntilItsMembersMemoryIsReclaimedAndItsBlocksAreThenReused");
            Random rnd = new Random(seed);
            for (int i = 0; i < 2000; i++) {
                c.index(i % 3).put(rnd.nextLong() >>> 1, i); // compute node 2 splits nodes of its own chunks
            }
            ComputeNode live = c.computeNode(0);
            Verbs verbs = live.verbs();
            LocalControlPlane plane = new LocalControlPlane(List.of(c.memoryNode(0), c.memoryNode(1)));

            // compute node 2 "crashes" in a split: its block is handed out and written, never linked
            NodeAllocator lapsed = new NodeAllocator(plane, verbs, 256, 0, LAPSED, 0);
            long orphan = lapsed.allocate();
            NodeImage image = new NodeImage(live.treeConfig().layout());
            UnsafeBuffer low = new UnsafeBuffer(new byte[8]);
            low.putLong(0, 42);
            image.init(0, low, 0, null, 0, GlobalAddress.NULL, 0);
            image.seal();
            verbs.write(orphan, image.buffer(), 0, 256);
            long garbage = lapsed.allocate(); // and one handed out, never written
            TreeReport before = c.check();
            assertTrue(before.ok(), before::toString);
            assertEquals(512, before.region().leaked(), () -> "the orphan and the unwritten block leak: " + before);

            // its recovery: node repair, split completion (no locks held), then its memory
            RepairReport repair = TreeRecovery.recover(verbs, live.treeConfig(), LAPSED);
            TreeRecovery.completeSplits(live.tree(), repair);
            MemoryReclaim.Report reclaimed = MemoryReclaim.reclaim(live.tree(), LAPSED, 0);
            assertTrue(reclaimed.blocksFreed() >= 2, reclaimed::toString);
            assertTrue(reclaimed.blocksKept() > 0, "compute node 2's reachable nodes stay: " + reclaimed);
            assertTrue(reclaimed.chunksAdopted() > 0, reclaimed::toString);
            TreeReport after = c.check();
            assertTrue(after.ok(), after::toString);
            assertEquals(0, after.region().leaked(), after::toString);
            assertEquals(before.region().reachable(), after.region().reachable());
            assertTrue(after.region().metadata() < before.region().metadata(), "its redo blocks were freed");
            assertEquals(0, MemoryReclaim.reclaim(live.tree(), LAPSED, 0).blocksFreed(), "a second reclamation frees nothing");

            // a new member's first node comes from the pool: a free block of an adopted chunk
            NodeAllocator next = new NodeAllocator(plane, verbs, 256, 0, 7, 0);
            long reused = next.allocate();
            assertEquals(1, next.reused());
            ChunkTable table = ChunkTable.open(verbs);
            int mn = GlobalAddress.memoryNode(reused);
            ChunkTableLayout t = table.layout(mn);
            long chunk = t.chunkOf(GlobalAddress.offset(reused));
            assertEquals(ChunkTableLayout.CHUNK_ADOPTED, ChunkTableLayout.state(table.ownerWords(mn)[(int) chunk]));
            long block = (GlobalAddress.offset(reused) - t.chunkOffset(chunk)) / 256;
            long word = table.blockWords(mn, chunk, (int) block + 1)[(int) block];
            assertEquals(ChunkTableLayout.word(ChunkTableLayout.BLOCK_NODE, 7, 0), word);
            // the tree still works through every remaining compute node, and nothing leaks once the block is used
            for (int i = 0; i < 2000; i++) {
                c.index(i % 2).put(rnd.nextLong() >>> 1, i);
            }
            verbs.write(reused, image.buffer(), 0, 256); // member 7 crashed as well: an orphan again
            MemoryReclaim.reclaim(live.tree(), 7, 0);
            TreeReport last = c.check();
            assertTrue(last.ok(), last::toString);
            assertEquals(0, last.region().leaked(), last::toString);
        }
    }

    @Test
    void aReachableNodeRecordedFreeIsAProblem() {
        try (EmbeddedCluster c = cluster()) {
            for (int i = 0; i < 500; i++) {
                c.index(0).put(i, i);
            }
            Verbs verbs = c.computeNode(0).verbs();
            ChunkTable table = ChunkTable.open(verbs);
            // free (behind the tree's back) the first block of compute node 0's first chunk on memory node 0: the root's
            List<Long> nodeBlocks = new ArrayList<>();
            long[] owners = table.ownerWords(0);
            ChunkTableLayout t = table.layout(0);
            for (int ch = 0; ch < owners.length && nodeBlocks.isEmpty(); ch++) {
                long[] words = table.blockWords(0, ch, (int) t.blocksPerChunk(256));
                for (int b = 0; b < words.length; b++) {
                    if (ChunkTableLayout.state(words[b]) == ChunkTableLayout.BLOCK_NODE) {
                        long wordAt = t.blockWord(ch, b);
                        assertEquals(words[b], table.cas(0, wordAt, words[b],
                                ChunkTableLayout.word(ChunkTableLayout.BLOCK_FREE, 0, 0)));
                        nodeBlocks.add(GlobalAddress.of(0, t.chunkOffset(ch) + (long) b * 256));
                        break;
                    }
                }
            }
            assertFalse(nodeBlocks.isEmpty());
            TreeReport r = c.check();
            assertFalse(r.ok(), "a reachable node in the free pool went unnoticed: " + r);
            assertTrue(r.problems().stream().anyMatch(p -> p.contains("is reachable but its block is recorded free")),
                    r::toString);
        }
    }

    @Test
    void regionsWithoutAChunkTableAreRefusedClearly() {
        try (EmbeddedCluster c = cluster()) {
            Verbs verbs = LocalVerbs.counted(List.of(c.memoryNode(0)));
            c.memoryNode(0).region().putLongVolatile(io.dmtree.core.layout.RegionLayout.NODE_ID_AND_FORMAT_OFFSET, 1L << 32);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ChunkTable.open(verbs));
            assertTrue(e.getMessage().contains("has no chunk table"), e.getMessage());
        }
    }
}
