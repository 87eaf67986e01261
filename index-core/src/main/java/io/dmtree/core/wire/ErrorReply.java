package io.dmtree.core.wire;

import java.nio.charset.StandardCharsets;

/** A decoded {@link FrameHeader#TYPE_ERROR} reply: its code and message. */
public record ErrorReply(int code, String message) {
    /** Decodes the error reply {@code r} points at (type already checked). */
    public static ErrorReply of(FrameReader r) {
        try {
            int code = r.u16("error code");
            int n = r.u16("error message length");
            byte[] b = r.bytes(Math.min(n, Math.max(0, r.remaining())), "error message");
            return new ErrorReply(code, new String(b, StandardCharsets.UTF_8));
        } catch (MalformedFrameException e) {
            return new ErrorReply(FrameHeader.ERROR_MALFORMED, "(unreadable error reply: " + e.getMessage() + ")");
        }
    }

    public String getMessage() {
        return FrameHeader.errorName(code) + ": " + message;
    }
}
