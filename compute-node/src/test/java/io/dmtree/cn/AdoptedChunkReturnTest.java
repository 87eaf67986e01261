package io.dmtree.cn;

import io.dmtree.core.layout.ChunkTableLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.region.ChunkTable;
import io.dmtree.core.tree.MemoryReclaim;
import io.dmtree.core.tree.NodeImage;
import io.dmtree.core.tree.NodeLayout;
import io.dmtree.core.tree.TreeReport;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Adopted chunks (a lapsed member's chunks that still held used blocks) go back to the pool of
 * chunks once every block in them is free: the allocator's scan of the pool returns them (claims
 * their blocks, owns the chunk, writes its words reserve, frees the owner word). A chunk with one
 * block still in use stays adopted. A member that dies part way through a return leaves words its
 * reclamation undoes: its metadata words in an adopted chunk become free again, and a chunk it had
 * come to own with nothing in it is freed whole; nothing leaks either way.
 */
class AdoptedChunkReturnTest {
    private static final int NODE = 256;
    private static final int GONE = 9;
    private static final int RETURNER = 5;

    @Test
    void aWhollyFreeAdoptedChunkGoesBackToThePoolAndAReturnCutShortIsUndone() {
        try (EmbeddedCluster cluster = DmTree.embedded().computeNodes(1).memoryNodes(1).nodeBytes(NODE)
                .regionBytes(16L << 20).chunkBytes(64L << 10).start()) {
            Verbs verbs = cluster.computeNode(0).verbs();
            ChunkTable table = ChunkTable.open(verbs);
            ChunkTableLayout t = table.layout(0);
            int blocks = (int) t.blocksPerChunk(NODE);
            long chunks = table.ownerWords(0).length;
            long empty = chunks - 1;      // adopted, every block free: goes back
            long inUse = chunks - 2;      // adopted, one block holds a removed node: stays
            long cutEarly = chunks - 3;   // a returner died claiming its blocks
            long cutLate = chunks - 4;    // a returner died owning it, blocks not yet reserve
            long freeOf = ChunkTableLayout.word(ChunkTableLayout.BLOCK_FREE, GONE, 0);
            long adopted = ChunkTableLayout.word(ChunkTableLayout.CHUNK_ADOPTED, GONE, 1);
            long returnerMeta = ChunkTableLayout.word(ChunkTableLayout.BLOCK_META, RETURNER, 0);
            for (long c : new long[]{empty, inUse, cutEarly}) {
                assertEquals(0, table.cas(0, t.ownerWord(c), 0, adopted));
                table.writeWords(0, t.blockWord(c, 0), blocks, freeOf);
            }
            // a removed node (its remover frees it later) in the second chunk
            long removedNode = GlobalAddress.plus(table.chunkAddress(0, inUse), 3L * NODE);
            table.writeWords(0, t.blockWord(inUse, 3), 1, ChunkTableLayout.word(ChunkTableLayout.BLOCK_NODE, GONE, 1));
            NodeLayout layout = cluster.config().tree().layout();
            NodeImage image = new NodeImage(layout);
            UnsafeBuffer low = new UnsafeBuffer(new byte[8]);
            low.putLong(0, 7);
            image.init(0, low, 0, null, 0, GlobalAddress.NULL, 0);
            image.markRemoved(GlobalAddress.NULL, GONE);
            image.seal();
            verbs.write(removedNode, image.buffer(), 0, NODE);
            // the returner died after claiming the first 10 blocks of one chunk ...
            table.writeWords(0, t.blockWord(cutEarly, 0), 10, returnerMeta);
            // ... and after owning another, all its blocks still its metadata
            long returnerOwned = ChunkTableLayout.word(ChunkTableLayout.CHUNK_OWNED, RETURNER, 0);
            assertEquals(0, table.cas(0, t.ownerWord(cutLate), 0, returnerOwned));
            table.writeWords(0, t.blockWord(cutLate, 0), blocks, returnerMeta);

            TreeReport before = cluster.check();
            assertTrue(before.ok(), before::toString);
            assertEquals((10L + blocks) * NODE, before.region().leaked(), "the cut-short returns' words: " + before);

            // the returner's reclamation undoes both
            MemoryReclaim.Report undo = MemoryReclaim.reclaim(cluster.computeNode(0).tree(), RETURNER, 0);
            assertEquals(1, undo.chunksFreed(), undo::toString);
            assertEquals(ChunkTableLayout.CHUNK_FREE, ownerState(table, cutLate));
            assertEquals(ChunkTableLayout.CHUNK_ADOPTED, ownerState(table, cutEarly));
            TreeReport undone = cluster.check();
            assertEquals(0, undone.region().leaked(), undone::toString);

            // enough nodes that the compute node's own chunks run out and it scans the pool
            DmIndex index = cluster.index(0);
            for (long k = 0; k < 4000; k++) {
                index.put(k * 7919 % 100_003, k);
            }
            long returned = cluster.computeNode(0).tree().allocator().chunksReturned();
            assertTrue(returned >= 2, "the wholly free adopted chunks went back: " + returned);
            assertNotEquals(ChunkTableLayout.CHUNK_ADOPTED, ownerState(table, empty));
            assertNotEquals(ChunkTableLayout.CHUNK_ADOPTED, ownerState(table, cutEarly));
            assertEquals(ChunkTableLayout.CHUNK_ADOPTED, ownerState(table, inUse), "a chunk with a block in use stays adopted");
            TreeReport after = cluster.check();
            assertTrue(after.ok(), after::toString);
            assertEquals(4000, after.keys());
            assertEquals(0, after.region().leaked(), after::toString);
            assertEquals(NODE, after.region().removed(), after::toString);
            for (long k = 0; k < 4000; k++) {
                assertEquals(java.util.OptionalLong.of(k), index.get(k * 7919 % 100_003));
            }
        }
    }

    private static int ownerState(ChunkTable table, long c) {
        return ChunkTableLayout.state(table.ownerWords(0)[(int) c]);
    }
}
