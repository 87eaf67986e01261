package io.dmtree.core.wire;

/**
 * A frame broke the wire format or asked for something the receiver refuses. {@link #code()} is
 * the error code of the reply ({@link FrameHeader}'s {@code ERROR_*}); {@link #fatal()} says the
 * stream cannot go on (bad length or version) and the connection must close after the reply.
 */
public class MalformedFrameException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int code;
    private final boolean fatal;

    public MalformedFrameException(int code, String message) {
        this(code, message, false);
    }

    public MalformedFrameException(int code, String message, boolean fatal) {
        super(message);
        this.code = code;
        this.fatal = fatal;
    }

    public int code() {
        return code;
    }

    public boolean fatal() {
        return fatal;
    }
}
