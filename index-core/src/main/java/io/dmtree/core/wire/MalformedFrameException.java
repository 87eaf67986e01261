package io.dmtree.core.wire;

/**
 * A frame broke the wire format or asked for something the receiver refuses. {@link #code()} is
 * the error code of the reply; {@link #fatal()} says the
 * stream cannot go on (bad length or version) and the connection must close after the reply.
 */
public class MalformedFrameException extends Exception {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;
    private final boolean fatal;

    public MalformedFrameException(ErrorCode code, String message) {
        this(code, message, false);
    }

    public MalformedFrameException(ErrorCode code, String message, boolean fatal) {
        super(message);
        this.code = code;
        this.fatal = fatal;
    }

    public ErrorCode code() {
        return code;
    }

    public boolean fatal() {
        return fatal;
    }
}
