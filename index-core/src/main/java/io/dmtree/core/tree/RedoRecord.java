package io.dmtree.core.tree;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

import static io.dmtree.core.tree.RedoLayout.*;

/**
 * One redo cell's bytes on the compute node, laid out as {@link RedoLayout} describes: built by a
 * writer before its write-back (then WRITten to its cell), or read back by recovery and checked.
 * One record belongs to one thread at a time; it is reused and allocates nothing after
 * construction.
 */
final class RedoRecord {
    private final RedoLayout layout;
    private final NodeLayout nodeLayout;
    private final ByteBuffer direct;
    private final UnsafeBuffer buffer;
    private final UnsafeBuffer intentWord = new UnsafeBuffer(ByteBuffer.allocateDirect(Long.BYTES));
    private final CRC32C crc = new CRC32C();

    RedoRecord(NodeLayout nodeLayout) {
        this.nodeLayout = nodeLayout;
        this.layout = new RedoLayout(nodeLayout);
        this.direct = ByteBuffer.allocateDirect(layout.cellBytes()).order(ByteOrder.LITTLE_ENDIAN);
        this.buffer = new UnsafeBuffer(direct);
    }

    RedoLayout layout() {
        return layout;
    }

    /** The cell's bytes; WRITE {@code [0, length)} from it, or READ a cell into it. */
    UnsafeBuffer buffer() {
        return buffer;
    }

    // ------------------------------------------------------------------ building

    /**
     * A REDO record of a leaf entry write-back: the node's header words and one entry of the sealed
     * {@code image}. Returns the bytes to WRITE.
     */
    int entry(int seq, long node, NodeImage image, int entryOffset, int entryBytes) {
        int head = NodeLayout.HEADER_WRITE_BYTES;
        fields(seq, node, head, entryOffset, entryBytes, 0, 0L, image);
        buffer.putBytes(DATA_OFFSET, image.buffer(), 0, head);
        buffer.putBytes(DATA_OFFSET + head, image.buffer(), entryOffset, entryBytes);
        return seal(seq, DATA_OFFSET + head + entryBytes);
    }

    /**
     * A REDO record of a whole-node write-back of the sealed {@code image}; when
     * {@code intentLevel > 0}, with the intent that the separator {@code key -> child} goes into
     * level {@code intentLevel} (a split). Returns the bytes to WRITE.
     */
    int image(int seq, long node, NodeImage image, int intentLevel, DirectBuffer key, int keyOffset, long child) {
        return image(seq, node, image, intentLevel, INTENT_SPLIT, key, keyOffset, child, 0L);
    }

    /**
     * {@link #image(int, long, NodeImage, int, DirectBuffer, int, long)} with an intent of either
     * kind: for {@link RedoLayout#INTENT_MERGE}, {@code left} absorbs {@code child}.
     */
    int image(int seq, long node, NodeImage image, int intentLevel, int intentKind, DirectBuffer key, int keyOffset,
              long child, long left) {
        int nodeBytes = layout.nodeBytes();
        fields(seq, node, nodeBytes, 0, 0, intentLevel, child, image);
        buffer.putShort(INTENT_KIND_OFFSET, (short) intentKind);
        buffer.putLong(INTENT_LEFT_OFFSET, left);
        buffer.putBytes(DATA_OFFSET, image.buffer(), 0, nodeBytes);
        int end = DATA_OFFSET + nodeBytes;
        if (intentLevel > 0) {
            buffer.putBytes(end, key, keyOffset, layout.keyBytes());
            end += layout.keyBytes();
        }
        return seal(seq, end);
    }

    /** The 8-byte state word that turns this record, once its write is complete, into an INTENT. */
    UnsafeBuffer intentWord() {
        intentWord.putLong(0, stateWord(INTENT, buffer.getInt(SEQ_OFFSET)));
        return intentWord;
    }

    private void fields(int seq, long node, int head, int tailAt, int tail, int intentLevel, long child, NodeImage image) {
        buffer.putInt(SEQ_OFFSET, seq);
        buffer.putLong(NODE_OFFSET, node);
        buffer.putInt(HEAD_OFFSET, head);
        buffer.putInt(TAIL_AT_OFFSET, tailAt);
        buffer.putInt(TAIL_OFFSET, tail);
        buffer.putShort(INTENT_LEVEL_OFFSET, (short) intentLevel);
        buffer.putShort(INTENT_KIND_OFFSET, (short) INTENT_SPLIT);
        buffer.putLong(INTENT_CHILD_OFFSET, child);
        buffer.putInt(IMAGE_CRC_OFFSET, image.buffer().getInt(NodeLayout.CHECKSUM_OFFSET));
        buffer.setMemory(IMAGE_CRC_OFFSET + 4, CELL_HEADER_BYTES - IMAGE_CRC_OFFSET - 4, (byte) 0);
    }

    private int seal(int seq, int end) {
        buffer.putInt(CRC_OFFSET, checksum(end));
        buffer.putLong(STATE_OFFSET, stateWord(REDO, seq));
        return end;
    }

    private int checksum(int end) {
        crc.reset();
        direct.limit(end).position(CRC_COVERS_FROM);
        crc.update(direct);
        direct.clear();
        return (int) crc.getValue();
    }

    // ------------------------------------------------------------------ reading

    /** {@link RedoLayout#REDO} or {@link RedoLayout#INTENT} for a valid record, else {@link RedoLayout#FREE}. */
    int validKind() {
        long state = buffer.getLong(STATE_OFFSET);
        int kind = RedoLayout.kind(state);
        if (kind != REDO && kind != INTENT) {
            return FREE;
        }
        if (RedoLayout.seq(state) != buffer.getInt(SEQ_OFFSET)) {
            return FREE;
        }
        int head = head();
        int tailAt = tailAt();
        int tail = tail();
        int level = intentLevel();
        int nodeBytes = layout.nodeBytes();
        if (head < 0 || head > nodeBytes || tail < 0 || tailAt < 0 || tail > nodeBytes - tailAt || level < 0
                || intentKind() > INTENT_MERGE) {
            return FREE;
        }
        int end = DATA_OFFSET + head + tail + (level > 0 ? layout.keyBytes() : 0);
        if (end > layout.cellBytes() || checksum(end) != buffer.getInt(CRC_OFFSET)) {
            return FREE;
        }
        if (head != NodeLayout.HEADER_WRITE_BYTES && head != nodeBytes) {
            return FREE; // only the two record forms exist
        }
        return kind;
    }

    /** True when the cell holds anything at all (a record, valid or not). */
    boolean inUse() {
        return buffer.getLong(STATE_OFFSET) != 0L;
    }

    int seq() {
        return buffer.getInt(SEQ_OFFSET);
    }

    long node() {
        return buffer.getLong(NODE_OFFSET);
    }

    int head() {
        return buffer.getInt(HEAD_OFFSET);
    }

    int tailAt() {
        return buffer.getInt(TAIL_AT_OFFSET);
    }

    int tail() {
        return buffer.getInt(TAIL_OFFSET);
    }

    int intentLevel() {
        return buffer.getShort(INTENT_LEVEL_OFFSET) & 0xFFFF;
    }

    int intentKind() {
        return buffer.getShort(INTENT_KIND_OFFSET) & 0xFFFF;
    }

    long intentLeft() {
        return buffer.getLong(INTENT_LEFT_OFFSET);
    }

    long intentChild() {
        return buffer.getLong(INTENT_CHILD_OFFSET);
    }

    int imageCrc() {
        return buffer.getInt(IMAGE_CRC_OFFSET);
    }

    byte[] intentKey() {
        byte[] key = new byte[layout.keyBytes()];
        buffer.getBytes(DATA_OFFSET + head() + tail(), key);
        return key;
    }

    /** Offset in {@link #buffer()} of the head data; the tail data follows it. */
    int dataOffset() {
        return DATA_OFFSET;
    }

    NodeLayout nodeLayout() {
        return nodeLayout;
    }
}
