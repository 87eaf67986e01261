package io.dmtree.cn.control;

import io.dmtree.core.wire.ErrorCode;

import java.util.Optional;

/**
 * A control-plane call failed: the memory node refused it ({@link #refusal()} is the error code of
 * its reply) or could not be reached (no refusal).
 */
public class ControlException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient ErrorCode refusal;

    public ControlException(String message) {
        this(message, (ErrorCode) null);
    }

    public ControlException(String message, ErrorCode refusal) {
        super(message);
        this.refusal = refusal;
    }

    public ControlException(String message, Throwable cause) {
        super(message, cause);
        this.refusal = null;
    }

    /** The memory node's error code when it refused the call; empty when it was not reached. */
    public Optional<ErrorCode> refusal() {
        return Optional.ofNullable(refusal);
    }

    /** True when the memory node refused the call with {@code code}. */
    public boolean refusedWith(ErrorCode code) {
        return refusal == code;
    }
}
