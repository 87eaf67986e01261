package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.MalformedFrameException;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;

/**
 * Cuts whole frames out of the bytes a non-blocking channel delivers. One {@link #readFrom} takes
 * whatever the socket holds (several replies at once, or part of one); {@link #next()} then gives
 * each whole frame in turn, as a view valid until the next {@code readFrom}. The buffer grows to a
 * frame's length, up to the frame limit, and only then allocates.
 *
 * <pre>
 *   0            start                     buffer.position()      capacity
 *   +------------+-------------------------+----------------------+
 *   | consumed   | received, not yet cut   | free                 |
 *   +------------+-------------------------+----------------------+
 * </pre>
 *
 * A header with a foreign version or a length outside {@code [16, maxFrameBytes]} throws a fatal
 * {@link MalformedFrameException}: the stream cannot be resynchronised. Not thread-safe; it belongs
 * to whoever holds the connection's reader role.
 */
final class FrameAssembler {
    private static final int INITIAL_BYTES = 64 * 1024;
    private final int maxFrameBytes;
    private ByteBuffer buffer;
    private final UnsafeBuffer view = new UnsafeBuffer(new byte[0]);
    private int start;
    private int frameOffset;
    private int frameLength;

    FrameAssembler(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
        this.buffer = ByteBuffer.allocateDirect(Math.min(maxFrameBytes, INITIAL_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        view.wrap(buffer);
    }

    /**
     * Reads what the channel has into the free space, first moving a partial frame to the front;
     * returns the bytes read, 0 when nothing was there, -1 at the end of the stream.
     */
    int readFrom(ReadableByteChannel channel) throws IOException {
        int end = buffer.position();
        if (start == end) {
            buffer.clear();
            start = 0;
        } else if (start > 0) {
            buffer.limit(end).position(start);
            buffer.compact(); // the partial frame to the front; position after it, limit at capacity
            start = 0;
        }
        return channel.read(buffer);
    }

    /** True when {@link #readFrom} filled the buffer: the socket may hold more. */
    boolean full() {
        return !buffer.hasRemaining();
    }

    /** Cuts the next whole frame; false when the bytes so far end inside one. */
    boolean next() throws MalformedFrameException {
        int available = buffer.position() - start;
        if (available < FrameHeader.LENGTH) {
            return false;
        }
        int length = view.getInt(start + FrameHeader.LENGTH_OFFSET, ByteOrder.LITTLE_ENDIAN);
        int version = view.getByte(start + FrameHeader.VERSION_OFFSET) & 0xFF;
        if (version != FrameHeader.VERSION) {
            throw new MalformedFrameException(ErrorCode.VERSION, "frame version " + version
                    + " is not supported (this side speaks version " + FrameHeader.VERSION + ")", true);
        }
        if (length < FrameHeader.LENGTH || length > maxFrameBytes) {
            throw new MalformedFrameException(length < FrameHeader.LENGTH ? ErrorCode.MALFORMED : ErrorCode.TOO_LARGE,
                    "frame length " + Integer.toUnsignedString(length) + " outside [" + FrameHeader.LENGTH + ", "
                            + maxFrameBytes + "]", true);
        }
        if (available < length) {
            if (length > buffer.capacity()) {
                grow(length);
            }
            return false;
        }
        frameOffset = start;
        frameLength = length;
        start += length;
        return true;
    }

    private void grow(int length) {
        ByteBuffer bigger = ByteBuffer.allocateDirect(Math.min(maxFrameBytes, Math.max(length, 2 * buffer.capacity())))
                .order(ByteOrder.LITTLE_ENDIAN);
        int end = buffer.position();
        buffer.limit(end).position(start);
        bigger.put(buffer);
        buffer = bigger;
        start = 0;
        view.wrap(buffer);
    }

    /** The buffer the last frame {@link #next()} cut lies in. */
    UnsafeBuffer frame() {
        return view;
    }

    int frameOffset() {
        return frameOffset;
    }

    int frameLength() {
        return frameLength;
    }
}
