package io.dmtree.core.membership;

/**
 * A membership call failed: the coordination service could not be reached in time, refused the
 * call, or the call's arguments do not fit the cluster (a taken id, an id outside the pool).
 */
public class MembershipException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MembershipException(String message) {
        super(message);
    }

    public MembershipException(String message, Throwable cause) {
        super(message, cause);
    }
}
