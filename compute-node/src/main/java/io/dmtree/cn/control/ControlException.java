package io.dmtree.cn.control;

/**
 * A control-plane call failed: the memory node refused it ({@link #code()} is the frame error
 * code) or could not be reached ({@link #code()} is 0).
 */
public class ControlException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int code;

    public ControlException(String message) {
        this(message, 0);
    }

    public ControlException(String message, int code) {
        super(message);
        this.code = code;
    }

    public ControlException(String message, Throwable cause) {
        super(message, cause);
        this.code = 0;
    }

    public int code() {
        return code;
    }
}
