package io.dmtree.core.wire;

/**
 * The body of a CN-to-CN message over TCP ({@link FrameHeader#TYPE_MESSAGE}, service
 * {@code messaging}). One-way: the receiver sends no reply unless the frame is refused.
 *
 * <pre>
 *   16              18              20                              24
 *   +---------------+---------------+-------------------------------+
 *   | from cn       | payload bytes | 0                             |
 *   +---------------+---------------+-------------------------------+
 *  24 payload (at most 256 bytes)
 * </pre>
 */
public final class MessageFrame {
    public static final int FROM_OFFSET = FrameHeader.LENGTH;
    public static final int PAYLOAD_LENGTH_OFFSET = FrameHeader.LENGTH + 2;
    public static final int PAYLOAD_OFFSET = FrameHeader.LENGTH + 8;
    public static final int MAX_PAYLOAD = 256;

    private MessageFrame() {
    }
}
