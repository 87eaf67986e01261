package io.dmtree.core.tree;

import org.agrona.DirectBuffer;

import java.util.zip.CRC32C;

/**
 * Byte layout of variable-length values ({@link ValueFormat#VARIABLE}): the leaf's value slot of
 * {@code V} bytes (the index's {@link TreeConfig#valueBytes()}) holds either the value itself or a
 * descriptor of a value block, a run of node-sized blocks the writing compute node allocated from
 * its own chunk. Integers are little-endian.
 *
 * <pre>
 *  value slot, inline (0 &lt;= len &lt;= V - 4):
 *   0          4                          4+len        V
 *   +----------+--------------------------+------------+
 *   | len:4    | value bytes              | zeros      |
 *   +----------+--------------------------+------------+
 *
 *  value slot, out of line (V - 4 &lt; len &lt;= MAX_VALUE_BYTES):
 *   0          4          8               16           V
 *   +----------+----------+---------------+------------+
 *   | OUT|len:4| crc32c:4 | block address | zeros      |      OUT = bit 31
 *   +----------+----------+---------------+------------+
 *
 *  value block at the block address (first block word "value", the others "value tail"):
 *   0          4          8               8+K                  8+K+len
 *   +----------+----------+---------------+--------------------+
 *   | magic:4  | len:4    | key:K         | value bytes        |
 *   +----------+----------+---------------+--------------------+
 * </pre>
 *
 * <h2>Invariants</h2>
 * <ul>
 *   <li>A value block is written whole, once, by the member that allocated it, before any leaf
 *   names it; it is never written again while a leaf names it. So a reader that sees a
 *   descriptor in a consistent leaf image reads the block it names; the descriptor's CRC32C over
 *   the block's bytes {@code [0, 8+K+len)} tells whether the block still holds that value (a
 *   block freed and handed out again since the leaf was read fails it), and the reader then
 *   reads the leaf again.</li>
 *   <li>The block names its key, so whoever finds a value block can ask the one leaf that may
 *   name it whether it does ({@link MemoryReclaim}, {@link RegionAudit}).</li>
 *   <li>A descriptor leaves a leaf only under that leaf's lock (an overwrite or a delete); the
 *   writer that removed it is the only one that frees the block, after the write-back.</li>
 * </ul>
 */
public final class ValueLayout {
    /** The longest value of a variable-length index. */
    public static final int MAX_VALUE_BYTES = 64 * 1024;
    /** The narrowest slot that holds a descriptor. */
    public static final int MIN_SLOT_BYTES = 16;

    public static final int LENGTH_OFFSET = 0;
    public static final int INLINE_VALUE_OFFSET = 4;
    public static final int CRC_OFFSET = 4;
    public static final int ADDRESS_OFFSET = 8;
    public static final int OUT_OF_LINE = 0x8000_0000;

    public static final int BLOCK_MAGIC_OFFSET = 0;
    public static final int BLOCK_LENGTH_OFFSET = 4;
    public static final int BLOCK_KEY_OFFSET = 8;
    /** "DMVB" little-endian. */
    public static final int BLOCK_MAGIC = 0x42564D44;

    private final int slotBytes;
    private final int keyBytes;

    public ValueLayout(TreeConfig config) {
        this(config.valueBytes(), config.keyBytes());
    }

    public ValueLayout(int slotBytes, int keyBytes) {
        if (slotBytes < MIN_SLOT_BYTES) {
            throw new IllegalArgumentException("a value slot of " + slotBytes + " bytes holds no descriptor");
        }
        this.slotBytes = slotBytes;
        this.keyBytes = keyBytes;
    }

    public int slotBytes() {
        return slotBytes;
    }

    /** The longest value kept in the slot itself. */
    public int inlineThreshold() {
        return slotBytes - INLINE_VALUE_OFFSET;
    }

    public int blockValueOffset() {
        return BLOCK_KEY_OFFSET + keyBytes;
    }

    /** Bytes of the value block of a value of {@code len} bytes. */
    public int blockBytes(int len) {
        return blockValueOffset() + len;
    }

    public static boolean outOfLine(DirectBuffer slot, int offset) {
        return (slot.getInt(offset + LENGTH_OFFSET) & OUT_OF_LINE) != 0;
    }

    public static int length(DirectBuffer slot, int offset) {
        return slot.getInt(offset + LENGTH_OFFSET) & ~OUT_OF_LINE;
    }

    public static int crc(DirectBuffer slot, int offset) {
        return slot.getInt(offset + CRC_OFFSET);
    }

    public static long address(DirectBuffer slot, int offset) {
        return slot.getLong(offset + ADDRESS_OFFSET);
    }

    /** CRC32C of {@code bytes} bytes of {@code buffer} from {@code offset}. */
    public static int crc32c(DirectBuffer buffer, int offset, int bytes) {
        CRC32C crc = new CRC32C();
        if (buffer.byteArray() != null) {
            crc.update(buffer.byteArray(), (int) (buffer.wrapAdjustment() + offset), bytes);
        } else {
            crc.update(buffer.byteBuffer().duplicate().position((int) (buffer.wrapAdjustment() + offset))
                    .limit((int) (buffer.wrapAdjustment() + offset + bytes)));
        }
        return (int) crc.getValue();
    }
}
