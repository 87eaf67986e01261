package io.dmtree.core.wire;

/**
 * The error codes of a {@link FrameHeader#TYPE_ERROR} reply ({@link ErrorFrame}), with their
 * values on the wire. A code this side does not know (a newer peer's) decodes as {@link #UNKNOWN}.
 */
public enum ErrorCode {
    /** A frame that breaks the format: a field out of range, a body too short or too long. */
    MALFORMED(1, "malformed frame"),
    /** A header version this side does not speak; the connection closes. */
    VERSION(2, "unsupported version"),
    /** An access outside the memory node's region. */
    OUT_OF_RANGE(3, "out of range"),
    /** An atomic at an address that is not 8-byte aligned. */
    MISALIGNED(4, "misaligned"),
    /** A frame, request or reply over a limit. */
    TOO_LARGE(5, "too large"),
    /** A frame type the service does not take. */
    UNKNOWN_TYPE(6, "unknown type"),
    /** The memory node has no free chunk left. */
    NO_SPACE(7, "no space"),
    /** A wait (barrier, lookup, HELLO, idle connection) ran out of time. */
    TIMEOUT(8, "timeout"),
    /** A request that does not fit the connection's state (before JOIN, a second HELLO). */
    STATE(9, "wrong state"),
    /** A service or resource this node does not offer or has no room for. */
    UNAVAILABLE(10, "unavailable"),
    /** The node is stopping. */
    SHUTTING_DOWN(11, "shutting down"),
    /** The sender's incarnation is fenced: its lease lapsed and its verbs are refused for good. */
    FENCED(12, "fenced"),
    /** The peer did not prove the cluster secret (none, a wrong one, a replayed proof); the connection closes. */
    AUTHENTICATION(13, "authentication failed"),
    /** A verb outside the sender's rights on this memory node (a range it may not read, write or use atomics on). */
    ACCESS_DENIED(14, "access denied"),
    /** A code this side does not know. */
    UNKNOWN(0xFFFF, "unknown error");

    private static final ErrorCode[] BY_WIRE = new ErrorCode[16];

    static {
        for (ErrorCode c : values()) {
            if (c != UNKNOWN) {
                BY_WIRE[c.wire] = c;
            }
        }
    }

    private final int wire;
    private final String description;

    ErrorCode(int wire, String description) {
        this.wire = wire;
        this.description = description;
    }

    /** The u16 value in an error frame. */
    public int wire() {
        return wire;
    }

    public String description() {
        return description;
    }

    /** The code with wire value {@code value}, or {@link #UNKNOWN}. */
    public static ErrorCode ofWire(int value) {
        ErrorCode c = value >= 0 && value < BY_WIRE.length ? BY_WIRE[value] : null;
        return c == null ? UNKNOWN : c;
    }
}
