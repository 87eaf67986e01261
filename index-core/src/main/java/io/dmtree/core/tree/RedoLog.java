package io.dmtree.core.tree;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A compute node's redo records: what makes every tree node valid or repairable when a member dies
 * between any two verbs, partway through a batch, in the middle of one torn WRITE, or between the
 * halves of a split. It owns the design; {@link TreeRecovery} is its reader.
 *
 * <h2>Design: a per-member redo record before each in-place write-back</h2>
 * Each member keeps on every memory node a redo block ({@link RedoLayout}) of W writer slots of
 * two cells each, named by the memory node's redo directory ({@link RegionLayout}). A write-back
 * of node N (on memory node x) by a writer holding slot s posts, in its one ordered batch to x:
 * <ol>
 *   <li>(a split only) the new right node R; when R lives on another memory node it is written by
 *   its own verb before the batch, as before;</li>
 *   <li>WRITE the record into cell (s, level(N) &amp; 1) on x: state REDO with a fresh sequence
 *   number, N's address, the data the write-back puts into N (its header words and one entry, or
 *   its whole new image), the checksum N will have, and for a split the intent "separator key
 *   -&gt; R goes into level(N)+1";</li>
 *   <li>the in-place write-back itself (entry then header words, or the whole node);</li>
 *   <li>WRITE the cell's 8-byte state word: FREE, or INTENT for a split;</li>
 *   <li>the lock release's own verbs.</li>
 * </ol>
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>A valid REDO record (state REDO, sequence numbers equal, checksum matching) means its
 *   writer stopped after step 2 and before step 4. The writer then still holds N's lock (its
 *   release comes after step 4 in the same ordered batch, and lock recovery runs after node
 *   repair), nobody wrote N since the writer read it, and N holds the writer's old image with any
 *   subset of step 3 landed, in any cache-line order. Writing the record's data into N yields the
 *   writer's new image whatever had landed: replay is idempotent and needs no lock.</li>
 *   <li>A record that is not valid (torn, or a state word that landed over an older body, which
 *   the sequence copy inside the checksummed body exposes) means step 3 never began: N is
 *   untouched and the operation is wholly absent.</li>
 *   <li>No REDO record is ever stale: step 4 retires it before the release. Only INTENT records
 *   outlive their operation. An intent names a separator whose split was complete in the level
 *   below when it was written (or, for a merge, the separator its parent gave up); inserting it
 *   again is a no-op, because insertion skips a separator already present as a separator or as a
 *   node's low fence (low fences of live nodes never change), and recovery inserts none whose
 *   child has been removed since or is no longer the node of its level that holds its low fence
 *   (a merge removed it). A merge retires its intent once it is complete and before its removed
 *   node's block is freed, so a merge intent never names a reused block; a split intent may, and
 *   then names a node that is not the child it meant, which the checks above leave alone.</li>
 *   <li>Cells alternate by level parity. A split at level L leaves its intent in cell L&amp;1; the
 *   next record of the chain (the write-back at L+1) goes to the other cell; the one after (at
 *   L+2) reuses cell L&amp;1 only after the L+1 write-back, which carries the level-L separator,
 *   returned. So no record still needed is overwritten, even by a torn WRITE.</li>
 *   <li>A writer claims its slot before it acquires any lock of the operation and returns it when
 *   the operation returns, its split chain done: a lock holder never waits for a slot (no
 *   deadlock), and at rest a slot's cells are FREE or hold completed intents.</li>
 *   <li>An operation is acknowledged only after its batches returned, step 4 included: an
 *   acknowledged write is complete in place. Recovery writes only nodes named by valid REDO
 *   records (unacknowledged write-backs in flight) and inserts missing separators, so every
 *   acknowledged write survives and an unacknowledged one is wholly visible or wholly absent.</li>
 * </ol>
 *
 * <h2>Why redo records rather than out-of-place images</h2>
 * Out-of-place images with an atomic pointer swing need an indirection swung by CAS on every
 * update (a mapping table, or the parent's child pointer): each update would write a whole node
 * (1 KiB by default instead of a 17-byte entry and 16 header bytes), add a CAS round trip after
 * the image WRITE, invalidate every cached parent, and leave old images to be reclaimed only once
 * no reader can hold them. The redo record keeps the in-place write-back and adds one WRITE before
 * it and one 8-byte WRITE after it, in the batch that already goes to that memory node: no extra
 * round trip. For an entry write-back of 8-byte keys and values that is 64 + 16 + 17 = 97 record
 * bytes and the 8-byte state word (33 bytes written before, 138 after); whole-node write-backs
 * (internal nodes, splits) add a record of 64 + node bytes (+ key bytes). Recovery reads only the
 * lapsed member's directory word and block on each memory node; it walks no tree.
 *
 * <h2>A half-done split</h2>
 * A crash before step 2 leaves R written or not, reachable from nowhere: a leak for memory
 * management, the insert absent. Between steps 2 and 4, replay writes the left node (R is complete:
 * step 1 came first) and the split is visible with its intent pending. After step 4, R may be
 * reachable only through its left sibling, which readers and writers handle (B-link); recovery
 * inserts the pending separator so every level's chain is again exactly the children of the level
 * above. A root growth writes its new root before the root pointer's CAS: a crash between leaves an
 * unreachable node, and the pending intent grows the root again if the level is still missing.
 *
 * <p>Memory: per member per memory node, {@code 64 + 2 W align64(64 + node + key)} bytes with W =
 * min(writer threads, {@value RedoLayout#MAX_SLOTS}, what one chunk holds): 147 KiB for 64 slots of
 * 1 KiB nodes. Open writes each block's header, then its directory word: one round trip per memory
 * node. Writers beyond W wait for a slot on their own compute node (no MN traffic).
 */
public final class RedoLog {
    /** The state word of a retired cell. */
    static final UnsafeBuffer FREE_WORD = new UnsafeBuffer(new byte[Long.BYTES]);

    private final RedoLayout layout;
    private final int member;
    private final int slots;
    private final long[] blocks;
    private final RedoSlots writers;

    private RedoLog(RedoLayout layout, int member, int slots, long[] blocks) {
        this.layout = layout;
        this.member = member;
        this.slots = slots;
        this.blocks = blocks;
        this.writers = new RedoSlots(slots);
    }

    /**
     * Allocates member {@code member}'s redo block on every memory node, writes its header and then
     * the memory node's directory word naming it. {@code writers} is how many threads of this
     * member may write at once; the slots are that many, capped by {@link RedoLayout#MAX_SLOTS} and
     * by what one chunk holds.
     *
     * <p>A member id is reused only after recovery of its previous holder (membership's duty); the
     * previous block, if any, is then forgotten.
     */
    public static RedoLog open(Verbs verbs, NodeAllocator allocator, TreeConfig config, int member, int writers) {
        RegionLayout.redoDirectoryEntry(member); // checks the id
        if (writers < 1) {
            throw new IllegalArgumentException("a redo log needs at least one writer slot: " + writers);
        }
        RedoLayout layout = new RedoLayout(config.layout());
        int fit = (int) Math.min(RedoLayout.MAX_SLOTS,
                (allocator.chunkBytes() - RedoLayout.BLOCK_HEADER_BYTES) / ((long) RedoLayout.CELLS_PER_SLOT * layout.cellBytes()));
        if (fit < 1) {
            throw new IllegalArgumentException("chunks of " + allocator.chunkBytes() + " bytes cannot hold a redo block of "
                    + layout.blockBytes(1) + " bytes for " + config.nodeBytes() + "-byte nodes; use larger chunks");
        }
        int slots = Math.min(writers, fit);
        long blockBytes = layout.blockBytes(slots);
        int memoryNodes = verbs.memoryNodeCount();
        long[] blocks = new long[memoryNodes];
        UnsafeBuffer header = new UnsafeBuffer(new byte[RedoLayout.BLOCK_HEADER_BYTES]);
        header.putLong(RedoLayout.BLOCK_MAGIC_OFFSET, RedoLayout.BLOCK_MAGIC);
        header.putInt(RedoLayout.BLOCK_MEMBER_OFFSET, member);
        header.putInt(RedoLayout.BLOCK_SLOTS_OFFSET, slots);
        header.putInt(RedoLayout.BLOCK_CELL_BYTES_OFFSET, layout.cellBytes());
        header.putInt(RedoLayout.BLOCK_NODE_BYTES_OFFSET, layout.nodeBytes());
        header.putInt(RedoLayout.BLOCK_KEY_BYTES_OFFSET, layout.keyBytes());
        UnsafeBuffer word = new UnsafeBuffer(new byte[Long.BYTES]);
        VerbBatch batch = new VerbBatch();
        for (int mn = 0; mn < memoryNodes; mn++) {
            long block = allocator.allocateBlock(mn, blockBytes);
            blocks[mn] = block;
            word.putLong(0, block);
            batch.clear();
            batch.write(block, header, 0, RedoLayout.BLOCK_HEADER_BYTES);
            batch.write(GlobalAddress.of(mn, RegionLayout.redoDirectoryEntry(member)), word, 0, Long.BYTES);
            verbs.post(batch);
        }
        batch.clear();
        return new RedoLog(layout, member, slots, blocks);
    }

    public int member() {
        return member;
    }

    /** Writer slots per memory node. */
    public int slots() {
        return slots;
    }

    public RedoLayout layout() {
        return layout;
    }

    /** The address of this member's redo block on memory node {@code mn}. */
    public long block(int mn) {
        return blocks[mn];
    }

    /** The writer slots of this compute node (CN-local). */
    RedoSlots writers() {
        return writers;
    }

    /** The address of cell {@code cell} of slot {@code slot} on the memory node of {@code node}. */
    long cell(long node, int slot, int cell) {
        return GlobalAddress.plus(blocks[GlobalAddress.memoryNode(node)], layout.cellOffset(slot, cell));
    }
}
