package io.dmtree.core.wire;

import java.nio.charset.StandardCharsets;

/** A decoded {@link FrameHeader#TYPE_ERROR} reply: its code and message. */
public record ErrorReply(ErrorCode code, String message) {
    /** Decodes the error reply {@code r} points at (type already checked). */
    public static ErrorReply of(FrameReader r) {
        try {
            ErrorCode code = ErrorCode.ofWire(r.u16("error code"));
            int n = r.u16("error message length");
            byte[] b = r.bytes(Math.min(n, Math.max(0, r.remaining())), "error message");
            return new ErrorReply(code, new String(b, StandardCharsets.UTF_8));
        } catch (MalformedFrameException e) {
            return new ErrorReply(ErrorCode.MALFORMED, "(unreadable error reply: " + e.getMessage() + ")");
        }
    }

    public String getMessage() {
        return code.description() + ": " + message;
    }
}
