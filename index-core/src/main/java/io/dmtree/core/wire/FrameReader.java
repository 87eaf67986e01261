package io.dmtree.core.wire;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A checked cursor over one received frame: every read first checks that the frame holds the
 * bytes, and throws {@link MalformedFrameException} ({@link ErrorCode#MALFORMED}) when it does not, so
 * no field is ever read past the frame's end. Reusable: {@link #wrap} the next frame.
 */
public final class FrameReader {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final UnsafeBuffer view = new UnsafeBuffer(new byte[0]);
    private int position;
    private int limit;

    /** Wraps a whole frame, header included; the cursor starts at the body. */
    public FrameReader wrap(DirectBuffer frame, int offset, int length) {
        view.wrap(frame, offset, length);
        this.limit = length;
        this.position = FrameHeader.LENGTH;
        return this;
    }

    public DirectBuffer buffer() {
        return view;
    }

    public int frameLength() {
        return limit;
    }

    public int type() {
        return view.getByte(FrameHeader.TYPE_OFFSET) & 0xFF;
    }

    public int count() {
        return view.getShort(FrameHeader.COUNT_OFFSET, LE) & 0xFFFF;
    }

    public long correlationId() {
        return view.getLong(FrameHeader.CORRELATION_OFFSET, LE);
    }

    public int position() {
        return position;
    }

    public int remaining() {
        return limit - position;
    }

    public void require(int bytes, String what) throws MalformedFrameException {
        if (bytes < 0 || bytes > limit - position) {
            throw new MalformedFrameException(ErrorCode.MALFORMED, FrameHeader.typeName(type()) + " frame of "
                    + limit + " bytes ends before " + what + " (needs " + bytes + " bytes at " + position + ")");
        }
    }

    public int u8(String what) throws MalformedFrameException {
        require(1, what);
        return view.getByte(position++) & 0xFF;
    }

    public int u16(String what) throws MalformedFrameException {
        require(2, what);
        int v = view.getShort(position, LE) & 0xFFFF;
        position += 2;
        return v;
    }

    public int i32(String what) throws MalformedFrameException {
        require(4, what);
        int v = view.getInt(position, LE);
        position += 4;
        return v;
    }

    public long i64(String what) throws MalformedFrameException {
        require(8, what);
        long v = view.getLong(position, LE);
        position += 8;
        return v;
    }

    /** Skips {@code n} bytes, returning where they start. */
    public int skip(int n, String what) throws MalformedFrameException {
        require(n, what);
        int at = position;
        position += n;
        return at;
    }

    public byte[] bytes(int n, String what) throws MalformedFrameException {
        require(n, what);
        byte[] b = new byte[n];
        view.getBytes(position, b);
        position += n;
        return b;
    }

    /** A u16-length-prefixed UTF-8 string of at most {@code maxBytes}. */
    public String string(int maxBytes, String what) throws MalformedFrameException {
        int n = u16(what + " length");
        if (n > maxBytes) {
            throw new MalformedFrameException(ErrorCode.TOO_LARGE, what + " of " + n + " bytes exceeds " + maxBytes);
        }
        return new String(bytes(n, what), StandardCharsets.UTF_8);
    }

    /** Fails unless the frame has been read to its end. */
    public void end() throws MalformedFrameException {
        if (position != limit) {
            throw new MalformedFrameException(ErrorCode.MALFORMED, FrameHeader.typeName(type()) + " frame has "
                    + (limit - position) + " unexpected trailing bytes");
        }
    }
}
