package io.dmtree.core.wire;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Builds one frame at a time into a reusable direct buffer that grows as needed: {@link #begin}
 * writes the header, the {@code put} methods append the body, {@link #finish} fills the length.
 * Not thread-safe; each sender owns one.
 */
public final class FrameWriter {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final ExpandableDirectByteBuffer buffer;
    private int position;

    public FrameWriter() {
        this(256);
    }

    public FrameWriter(int initialCapacity) {
        this.buffer = new ExpandableDirectByteBuffer(Math.max(initialCapacity, FrameHeader.LENGTH));
    }

    public FrameWriter begin(int type, int count, long correlationId) {
        buffer.putInt(FrameHeader.LENGTH_OFFSET, 0, LE);
        buffer.putByte(FrameHeader.VERSION_OFFSET, (byte) FrameHeader.VERSION);
        buffer.putByte(FrameHeader.TYPE_OFFSET, (byte) type);
        buffer.putShort(FrameHeader.COUNT_OFFSET, (short) count, LE);
        buffer.putLong(FrameHeader.CORRELATION_OFFSET, correlationId, LE);
        position = FrameHeader.LENGTH;
        return this;
    }

    /** Empties the writer: {@link #length()} is 0 until the next {@link #begin}. */
    public FrameWriter reset() {
        position = 0;
        return this;
    }

    /** Rewrites the count field of the frame being built. */
    public FrameWriter count(int count) {
        buffer.putShort(FrameHeader.COUNT_OFFSET, (short) count, LE);
        return this;
    }

    public FrameWriter u8(int v) {
        buffer.putByte(position, (byte) v);
        position += 1;
        return this;
    }

    public FrameWriter u16(int v) {
        buffer.putShort(position, (short) v, LE);
        position += 2;
        return this;
    }

    public FrameWriter i32(int v) {
        buffer.putInt(position, v, LE);
        position += 4;
        return this;
    }

    public FrameWriter i64(long v) {
        buffer.putLong(position, v, LE);
        position += 8;
        return this;
    }

    public FrameWriter bytes(DirectBuffer src, int offset, int length) {
        buffer.putBytes(position, src, offset, length);
        position += length;
        return this;
    }

    public FrameWriter bytes(byte[] src) {
        buffer.putBytes(position, src);
        position += src.length;
        return this;
    }

    /** Zero bytes up to the next multiple of {@code alignment} from the frame start. */
    public FrameWriter pad(int alignment) {
        while (position % alignment != 0) {
            buffer.putByte(position++, (byte) 0);
        }
        return this;
    }

    /** A u16-length-prefixed UTF-8 string; longer strings are cut at {@code maxBytes}. */
    public FrameWriter string(String s, int maxBytes) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, maxBytes);
        u16(n);
        buffer.putBytes(position, b, 0, n);
        position += n;
        return this;
    }

    /** Reserves {@code n} bytes for the caller to fill through {@link #buffer()}; returns their offset. */
    public int reserve(int n) {
        int at = position;
        buffer.checkLimit(position + n);
        position += n;
        return at;
    }

    public int position() {
        return position;
    }

    /** Writes the length field; the frame is {@code [0, length())} of {@link #buffer()}. */
    public FrameWriter finish() {
        buffer.putInt(FrameHeader.LENGTH_OFFSET, position, LE);
        return this;
    }

    public int length() {
        return position;
    }

    public ExpandableDirectByteBuffer buffer() {
        return buffer;
    }

    /** The finished frame as a byte buffer positioned at 0 with limit = length. */
    public ByteBuffer byteBuffer() {
        ByteBuffer bb = buffer.byteBuffer();
        bb.clear().limit(position);
        return bb;
    }

    /** An error reply. */
    public FrameWriter error(long correlationId, ErrorCode code, String message) {
        begin(FrameHeader.TYPE_ERROR, 0, correlationId);
        byte[] b = (message == null ? "" : message).getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, ErrorFrame.MAX_MESSAGE_BYTES);
        u16(code.wire());
        u16(n);
        buffer.putBytes(position, b, 0, n);
        position += n;
        return finish();
    }
}
