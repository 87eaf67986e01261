package io.dmtree.core.wire;

/**
 * The body of a {@link FrameHeader#TYPE_ERROR} reply.
 *
 * <pre>
 *   16              18              20
 *   +---------------+---------------+------------------------------+
 *   | error code    | message bytes | message, UTF-8 (at most 1024)|
 *   +---------------+---------------+------------------------------+
 * </pre>
 */
public final class ErrorFrame {
    public static final int CODE_OFFSET = FrameHeader.LENGTH;
    public static final int MESSAGE_LENGTH_OFFSET = FrameHeader.LENGTH + 2;
    public static final int MESSAGE_OFFSET = FrameHeader.LENGTH + 4;
    public static final int MAX_MESSAGE_BYTES = 1024;

    private ErrorFrame() {
    }
}
