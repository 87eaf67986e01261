package io.dmtree.core.tree;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Node repair for a lapsed member, run by a live one: replays the lapsed member's redo records so
 * every node it was writing is valid again, then completes its half-done splits. The protocol and
 * its invariants are {@link RedoLog}'s.
 *
 * <h2>Order</h2>
 * <ol>
 *   <li><b>Fence</b> the lapsed member: every memory node refuses its verbs. Everything below
 *   assumes it issues no more.</li>
 *   <li><b>Repair nodes</b>: {@link #recover}. For each memory node it reads the member's redo
 *   directory word and block, writes the data of every valid REDO record into its node again and
 *   checks the node against the record's checksum, and collects every intent. It takes no lock:
 *   a valid REDO record means its node's lock is still the lapsed member's.</li>
 *   <li><b>Recover locks</b>, per lock design. Not before step 2: a lock passed on earlier would
 *   give its next holder a node that fails its checksum, and a replay after that holder's write
 *   would undo it. A design that breaks a lapsed holder's lock by timeout (DSLR's lease reset)
 *   must likewise wait for step 2.</li>
 *   <li><b>Complete splits</b>: {@link #completeSplits} inserts each collected separator through a
 *   live member's tree with ordinary locked operations (a separator already present is skipped,
 *   so stale intents cost a lookup and nothing else), then retires the lapsed member's cells and
 *   clears its directory words. It needs step 3: the parent's lock may be the lapsed member's.</li>
 * </ol>
 *
 * <h2>Merges</h2>
 * A merge ({@link BLinkTree}) writes the parent without the right node's separator (its record
 * left as a merge intent naming both nodes), then the survivor with both ranges, then the right
 * node removed, holding all three locks, and releases the survivor's lock last. Step 2 finishes a
 * merge whose survivor was written but whose removed node was not ({@link #finishMerge}), so no
 * lock is released while a live-looking node duplicates a survivor that others may then change.
 * Step 4 treats a merge intent as a split intent: a right node that was not absorbed is still
 * the node of its level that holds its low fence, and its separator goes back into the parent
 * (the merge undone); a removed one is skipped. It first swings a root pointer that still names
 * a removed root to that root's only child (a root shrink cut short).
 *
 * <p>Until step 4 a split whose separator is missing is harmless: its right node is reachable from
 * its left sibling (B-link). A right node whose split never became visible is unreachable, a leak
 * left to memory management. Recovery may run again after its own crash: replay is idempotent,
 * and a record is retired only after its effect is complete.
 */
public final class TreeRecovery {
    /** Largest READ recovery issues: a few cells, well inside any carrier's frame limit. */
    private static final int READ_PIECE_BYTES = 32 * 1024;

    private TreeRecovery() {
    }

    /**
     * Step 2: replays every valid REDO record of member {@code lapsed} on every memory node of
     * {@code verbs} and returns the intents still to complete. The member must be fenced.
     *
     * @throws IllegalStateException when a redo block is not one of this index's, or a node still
     *                               fails its checksum after its record was replayed
     */
    public static RepairReport recover(Verbs verbs, TreeConfig config, int lapsed) {
        int entry = RegionLayout.redoDirectoryEntry(lapsed);
        RedoRecord record = new RedoRecord(config.layout());
        RedoLayout layout = record.layout();
        NodeImage check = new NodeImage(config.layout());
        UnsafeBuffer word = new UnsafeBuffer(new byte[Long.BYTES]);
        UnsafeBuffer header = new UnsafeBuffer(new byte[RedoLayout.BLOCK_HEADER_BYTES]);
        VerbBatch batch = new VerbBatch();
        int memoryNodes = verbs.memoryNodeCount();
        long[] blocks = new long[memoryNodes];
        List<Long> cells = new ArrayList<>();
        List<PendingSeparator> pending = new ArrayList<>();
        int replayed = 0;
        int discarded = 0;
        for (int mn = 0; mn < memoryNodes; mn++) {
            verbs.read(GlobalAddress.of(mn, entry), word, 0, Long.BYTES);
            long block = word.getLong(0);
            if (block == GlobalAddress.NULL) {
                continue;
            }
            if (GlobalAddress.memoryNode(block) != mn) {
                throw new IllegalStateException("redo directory of memory node " + mn + " names a block on another memory node for member "
                        + lapsed + ": " + GlobalAddress.toString(block));
            }
            blocks[mn] = block;
            verbs.read(block, header, 0, RedoLayout.BLOCK_HEADER_BYTES);
            int slots = checkHeader(header, layout, lapsed, block);
            int cellBytes = layout.cellBytes();
            int cellCount = slots * RedoLayout.CELLS_PER_SLOT;
            int cellsPerRead = Math.max(1, READ_PIECE_BYTES / cellBytes);
            UnsafeBuffer piece = new UnsafeBuffer(ByteBuffer.allocateDirect(cellsPerRead * cellBytes));
            int pieceFirst = -cellsPerRead;
            for (int i = 0; i < cellCount; i++) {
                int slot = i / RedoLayout.CELLS_PER_SLOT;
                int c = i % RedoLayout.CELLS_PER_SLOT;
                long cellOffset = layout.cellOffset(slot, c);
                if (i >= pieceFirst + cellsPerRead) { // the block is read a few cells per READ, within any frame limit
                    pieceFirst = i;
                    int n = Math.min(cellsPerRead, cellCount - i);
                    verbs.read(GlobalAddress.plus(block, cellOffset), piece, 0, n * cellBytes);
                }
                record.buffer().putBytes(0, piece, (i - pieceFirst) * cellBytes, cellBytes);
                if (!record.inUse()) {
                    continue;
                }
                long cell = GlobalAddress.plus(block, cellOffset);
                cells.add(cell);
                int kind = record.validKind();
                if (kind == RedoLayout.FREE) {
                    discarded++; // torn: its write-back never began (RedoLog invariant 2)
                    continue;
                }
                if (kind == RedoLayout.REDO) {
                    replay(verbs, record, check, mn, batch);
                    replayed++;
                    batch.clear();
                    batch.write(cell, record.intentLevel() > 0 ? record.intentWord() : RedoLog.FREE_WORD, 0, Long.BYTES);
                    verbs.post(batch);
                    batch.clear();
                }
                if (record.intentLevel() > 0) {
                    pending.add(new PendingSeparator(record.intentLevel(), record.intentKey(), record.intentChild(),
                            record.intentKind() == RedoLayout.INTENT_MERGE, record.intentLeft()));
                }
            }
        }
        int mergesFinished = 0;
        for (PendingSeparator p : pending) {
            if (p.merge() && finishMerge(verbs, config.layout(), p, lapsed)) {
                mergesFinished++;
            }
        }
        pending.sort(Comparator.comparingInt(PendingSeparator::level));
        return new RepairReport(lapsed, blocks, replayed, discarded, List.copyOf(pending),
                cells.stream().mapToLong(Long::longValue).toArray(), mergesFinished);
    }

    /**
     * Node repair of a merge the lapsed member began: when the survivor has absorbed the right
     * node (its sibling is no longer the right node) but the right node was not yet written
     * removed, writes it removed now. The lapsed member still holds both nodes' locks (it
     * released them only after the removed node's write, and lock recovery comes after node
     * repair), so nobody has changed the survivor since and no reader can yet see a survivor
     * changed while the right node still looks live. Returns true when it wrote the right node.
     * A merge whose survivor was not written is left to {@link #completeSplits}, which puts the
     * right node back under its parent; one that was finished finds the right node removed.
     */
    private static boolean finishMerge(Verbs verbs, NodeLayout layout, PendingSeparator p, int lapsed) {
        NodeImage right = new NodeImage(layout);
        NodeImage left = new NodeImage(layout);
        if (!readValid(verbs, p.child(), right) || right.isRemoved()) {
            return false;
        }
        if (!readValid(verbs, p.left(), left) || left.isRemoved() || left.sibling() == p.child()) {
            return false;
        }
        right.markRemoved(p.left(), lapsed);
        right.seal();
        verbs.write(p.child(), right.buffer(), 0, layout.nodeBytes());
        return true;
    }

    /** Reads a consistent image (a live member may be writing the node: retried on its checksum, bounded). */
    private static boolean readValid(Verbs verbs, long node, NodeImage image) {
        for (int attempt = 0; attempt < 100_000; attempt++) {
            verbs.read(node, image.buffer(), 0, image.layout().nodeBytes());
            if (image.checksumValid()) {
                return true;
            }
            Thread.onSpinWait();
        }
        throw new IllegalStateException("node " + GlobalAddress.toString(node) + " named by a merge intent keeps failing"
                + " its checksum after node repair");
    }

    private static int checkHeader(UnsafeBuffer header, RedoLayout layout, int lapsed, long block) {
        String at = "redo block " + GlobalAddress.toString(block) + " of member " + lapsed;
        if (header.getLong(RedoLayout.BLOCK_MAGIC_OFFSET) != RedoLayout.BLOCK_MAGIC) {
            throw new IllegalStateException(at + " has no redo block header");
        }
        if (header.getInt(RedoLayout.BLOCK_MEMBER_OFFSET) != lapsed) {
            throw new IllegalStateException(at + " belongs to member " + header.getInt(RedoLayout.BLOCK_MEMBER_OFFSET));
        }
        if (header.getInt(RedoLayout.BLOCK_CELL_BYTES_OFFSET) != layout.cellBytes()
                || header.getInt(RedoLayout.BLOCK_NODE_BYTES_OFFSET) != layout.nodeBytes()
                || header.getInt(RedoLayout.BLOCK_KEY_BYTES_OFFSET) != layout.keyBytes()) {
            throw new IllegalStateException(at + " was laid out for " + header.getInt(RedoLayout.BLOCK_NODE_BYTES_OFFSET)
                    + "-byte nodes and " + header.getInt(RedoLayout.BLOCK_KEY_BYTES_OFFSET) + "-byte keys; this index has "
                    + layout.nodeBytes() + " and " + layout.keyBytes());
        }
        int slots = header.getInt(RedoLayout.BLOCK_SLOTS_OFFSET);
        if (slots < 1 || slots > RedoLayout.MAX_SLOTS) {
            throw new IllegalStateException(at + " claims " + slots + " slots");
        }
        return slots;
    }

    /** Writes a valid REDO record's data into its node again and checks the node. */
    private static void replay(Verbs verbs, RedoRecord r, NodeImage check, int mn, VerbBatch batch) {
        long node = r.node();
        NodeLayout nodeLayout = r.nodeLayout();
        if (GlobalAddress.memoryNode(node) != mn || GlobalAddress.offset(node) < RegionLayout.HEADER_BYTES) {
            throw new IllegalStateException("redo record on memory node " + mn + " names node " + GlobalAddress.toString(node)
                    + ", which it cannot guard");
        }
        batch.clear();
        int data = r.dataOffset();
        if (r.tail() > 0) {
            batch.write(GlobalAddress.plus(node, r.tailAt()), r.buffer(), data + r.head(), r.tail());
        }
        batch.write(node, r.buffer(), data, r.head());
        verbs.post(batch);
        batch.clear();
        verbs.read(node, check.buffer(), 0, nodeLayout.nodeBytes());
        if (!check.checksumValid() || check.buffer().getInt(NodeLayout.CHECKSUM_OFFSET) != r.imageCrc()) {
            throw new IllegalStateException("node " + GlobalAddress.toString(node) + " is not the image its redo record"
                    + " describes after replaying it");
        }
    }

    /**
     * Step 4: inserts each separator {@link #recover} collected through {@code tree} (a live
     * member's, with its locks), then retires the lapsed member's cells and clears its directory
     * words. The lapsed member's locks must have been recovered.
     */
    public static void completeSplits(BLinkTree tree, RepairReport report) {
        tree.completeRootShrink(report.member());
        for (PendingSeparator p : report.pending()) {
            tree.completeSplit(p.level(), p.separator(), p.child());
        }
        Verbs verbs = tree.verbs();
        VerbBatch batch = new VerbBatch();
        for (long cell : report.cells()) {
            batch.write(cell, RedoLog.FREE_WORD, 0, Long.BYTES);
        }
        if (!batch.isEmpty()) {
            verbs.post(batch);
        }
        int entry = RegionLayout.redoDirectoryEntry(report.member());
        long[] blocks = report.blocks();
        for (int mn = 0; mn < blocks.length; mn++) {
            if (blocks[mn] != GlobalAddress.NULL) {
                // by CAS: a later holder of the member id may have registered a block of its own
                verbs.cas(GlobalAddress.of(mn, entry), blocks[mn], GlobalAddress.NULL);
            }
        }
    }
}
