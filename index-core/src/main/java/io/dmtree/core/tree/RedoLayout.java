package io.dmtree.core.tree;

import io.dmtree.core.layout.RegionLayout;

/**
 * Byte layout of a member's redo block: the memory a compute node keeps on each memory node for
 * the redo records of its write-backs to that memory node ({@link RedoLog} writes them,
 * {@link TreeRecovery} reads them). The block is the member's own chunk memory; the memory node's
 * redo directory ({@link RegionLayout#REDO_DIRECTORY_OFFSET}) names it. Integers are little-endian.
 *
 * <pre>
 * block:
 *   0                   8         12        16        20        24        28                  64
 *   +-------------------+---------+---------+---------+---------+---------+-------------------+
 *   | magic "DMREDO01"  | member  | slots W | cell B  | node N  | key K   | reserved          |
 *   +-------------------+---------+---------+---------+---------+---------+-------------------+
 *  64 slot 0 cell 0 | slot 0 cell 1 | slot 1 cell 0 | ... | slot W-1 cell 1     (2W cells of B bytes)
 *
 * cell (B = align64(64 + N + K) bytes):
 *   0                   8         12        16                  24        28        32        36   38    40
 *   +-------------------+---------+---------+-------------------+---------+---------+---------+----+-----+
 *   | state             | crc32c  | seq     | node address      | head    | tail at | tail    |ilvl|ikind|
 *   +-------------------+---------+---------+-------------------+---------+---------+---------+----+-----+
 *  40 intent child (8)  | image crc (4) | reserved (4) | intent left (8)                                 |
 *   +-------------------+---------------+--------------+-------------------------------------------------+
 *  64 data: the node's first `head` bytes, then the `tail` bytes the node holds at `tail at`;
 *     then, when ilvl > 0, the intent's separator key (K bytes)
 *
 * state word:
 *  63            48 47     40 39     32 31                               0
 *   +----------------+---------+---------+----------------------------------+
 *   | magic 0x5244   |    0    |  kind   |               seq                |
 *   +----------------+---------+---------+----------------------------------+
 * </pre>
 *
 * <ul>
 *   <li>A slot belongs to one writer thread of the member at a time; its two cells alternate by the
 *   level of the node written (cell = level &amp; 1), so the record of a split's upper half never
 *   overwrites the record of the level below it while that one may still be needed.</li>
 *   <li>{@code kind}: {@link #FREE} (all zeros: nothing to do), {@link #REDO} (the write-back
 *   of the record may be partly applied: recovery writes the data into the node again),
 *   {@link #INTENT} (the node write is complete; the separator {@code key -> intent child} belongs
 *   at level {@code ilvl} and may be missing there).</li>
 *   <li>{@code crc32c} covers bytes {@code [12, 64 + head + tail + (ilvl > 0 ? K : 0))} and the
 *   copy of {@code seq} at 12 must equal the state word's: a record is valid only when both hold,
 *   so a record torn in any cache-line order, or a state word that landed over an older body, is
 *   never taken for a record.</li>
 *   <li>{@code ikind}: {@link #INTENT_SPLIT} (a split: the separator is new in level {@code ilvl})
 *   or {@link #INTENT_MERGE} (a merge at level {@code ilvl - 1}: the record's node is the parent,
 *   which loses the separator; {@code intent left} absorbs {@code intent child}, which is then
 *   removed). {@code intent left} is 0 for a split.</li>
 *   <li>{@code image crc} is the checksum word the node has once the write is complete: recovery
 *   checks the node against it after replaying.</li>
 * </ul>
 */
public final class RedoLayout {
    public static final long BLOCK_MAGIC = 0x31304F444552444DL; // "DMREDO01" little-endian
    public static final int BLOCK_MAGIC_OFFSET = 0;
    public static final int BLOCK_MEMBER_OFFSET = 8;
    public static final int BLOCK_SLOTS_OFFSET = 12;
    public static final int BLOCK_CELL_BYTES_OFFSET = 16;
    public static final int BLOCK_NODE_BYTES_OFFSET = 20;
    public static final int BLOCK_KEY_BYTES_OFFSET = 24;
    public static final int BLOCK_HEADER_BYTES = 64;

    public static final int STATE_OFFSET = 0;
    public static final int CRC_OFFSET = 8;
    public static final int CRC_COVERS_FROM = 12;
    public static final int SEQ_OFFSET = 12;
    public static final int NODE_OFFSET = 16;
    public static final int HEAD_OFFSET = 24;
    public static final int TAIL_AT_OFFSET = 28;
    public static final int TAIL_OFFSET = 32;
    public static final int INTENT_LEVEL_OFFSET = 36;
    public static final int INTENT_KIND_OFFSET = 38;
    public static final int INTENT_CHILD_OFFSET = 40;
    public static final int IMAGE_CRC_OFFSET = 48;
    public static final int INTENT_LEFT_OFFSET = 56;
    public static final int CELL_HEADER_BYTES = 64;
    public static final int DATA_OFFSET = CELL_HEADER_BYTES;

    public static final int INTENT_SPLIT = 0;
    public static final int INTENT_MERGE = 1;

    public static final int FREE = 0;
    public static final int REDO = 1;
    public static final int INTENT = 2;
    public static final long STATE_MAGIC = 0x5244L;
    private static final int KIND_SHIFT = 32;
    private static final int MAGIC_SHIFT = 48;

    /** Cells per slot: one per parity of the level written. */
    public static final int CELLS_PER_SLOT = 2;
    /** Most writer slots a member keeps per memory node. */
    public static final int MAX_SLOTS = 64;

    private final int nodeBytes;
    private final int keyBytes;
    private final int cellBytes;

    public RedoLayout(NodeLayout node) {
        this.nodeBytes = node.nodeBytes();
        this.keyBytes = node.keyBytes();
        this.cellBytes = (int) RegionLayout.alignUp(CELL_HEADER_BYTES + nodeBytes + keyBytes, 64);
    }

    public int cellBytes() {
        return cellBytes;
    }

    public int nodeBytes() {
        return nodeBytes;
    }

    public int keyBytes() {
        return keyBytes;
    }

    /** Bytes of a block of {@code slots} writer slots. */
    public long blockBytes(int slots) {
        return BLOCK_HEADER_BYTES + (long) slots * CELLS_PER_SLOT * cellBytes;
    }

    /** Offset in the block of cell {@code cell} of slot {@code slot}. */
    public long cellOffset(int slot, int cell) {
        return BLOCK_HEADER_BYTES + ((long) slot * CELLS_PER_SLOT + cell) * cellBytes;
    }

    /** The cell a write-back of a node of {@code level} uses. */
    public static int cellForLevel(int level) {
        return level & 1;
    }

    public static long stateWord(int kind, int seq) {
        return kind == FREE ? 0L : (STATE_MAGIC << MAGIC_SHIFT) | ((long) kind << KIND_SHIFT) | (seq & 0xFFFF_FFFFL);
    }

    /** The kind a state word names, or -1 when it is not a state word at all. */
    public static int kind(long state) {
        if (state == 0L) {
            return FREE;
        }
        if ((state >>> MAGIC_SHIFT) != STATE_MAGIC || ((state >>> 40) & 0xFF) != 0) {
            return -1;
        }
        int kind = (int) ((state >>> KIND_SHIFT) & 0xFF);
        return kind == REDO || kind == INTENT ? kind : -1;
    }

    public static int seq(long state) {
        return (int) state;
    }
}
