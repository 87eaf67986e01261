package io.dmtree.core.wire;

/**
 * The body of a tcp verb request ({@link FrameHeader#TYPE_VERB_REQUEST}, header count = number of
 * requests, 1..65535) and of its reply (type with {@link FrameHeader#REPLY_BIT}, same count and
 * correlation id). Requests are applied in order; every one is checked (kind, length, bounds,
 * alignment, frame size) before the first takes effect, so a refused frame writes nothing.
 *
 * <pre>
 * one request, 8-byte aligned from the frame start:
 *   0       1                       4               8                               16
 *   +-------+-----------------------+---------------+-------------------------------+
 *   | kind  | 0                     | length        | region offset                 |
 *   +-------+-----------------------+---------------+-------------------------------+
 *  16 READ : nothing
 *     WRITE: length bytes of data, zero padded to a multiple of 8
 *     CAS  : expected word (8) | desired word (8)           (length must be 8)
 *     FAA  : delta (8)                                      (length must be 8)
 *
 * the reply body, one part per request in request order:
 *     READ : length bytes read, zero padded to a multiple of 8
 *     WRITE: nothing
 *     CAS  : the word found (8), equal to expected on success
 *     FAA  : the word before the add (8)
 * </pre>
 *
 * A refused frame gets a {@link FrameHeader#TYPE_ERROR} reply with the correlation id and one of
 * {@link ErrorCode#OUT_OF_RANGE}, {@link ErrorCode#MISALIGNED}, {@link ErrorCode#MALFORMED},
 * {@link ErrorCode#TOO_LARGE}; the connection stays open.
 */
public final class VerbFrame {
    public static final int KIND_OFFSET = 0;
    public static final int LENGTH_OFFSET = 4;
    public static final int REGION_OFFSET_OFFSET = 8;
    public static final int REQUEST_HEADER_LENGTH = 16;
    public static final int ATOMIC_OPERAND_OFFSET = 16;

    public static final int KIND_READ = 1;
    public static final int KIND_WRITE = 2;
    public static final int KIND_CAS = 3;
    public static final int KIND_FAA = 4;

    public static final int MAX_REQUESTS = 0xFFFF;

    private VerbFrame() {
    }

    public static int padded(int length) {
        return (length + 7) & ~7;
    }

    /** Request bytes for one request of the given kind and length. */
    public static int requestBytes(int kind, int length) {
        return REQUEST_HEADER_LENGTH + switch (kind) {
            case KIND_WRITE -> padded(length);
            case KIND_CAS -> 16;
            case KIND_FAA -> 8;
            default -> 0;
        };
    }

    /** Reply bytes for one request of the given kind and length. */
    public static int replyBytes(int kind, int length) {
        return switch (kind) {
            case KIND_READ -> padded(length);
            case KIND_CAS, KIND_FAA -> 8;
            default -> 0;
        };
    }
}
