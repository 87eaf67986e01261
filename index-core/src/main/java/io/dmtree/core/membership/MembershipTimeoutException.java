package io.dmtree.core.membership;

/** A bounded membership wait (join, barrier, configuration) ran out of time; the message says what was missing. */
public class MembershipTimeoutException extends MembershipException {
    private static final long serialVersionUID = 1L;

    public MembershipTimeoutException(String message) {
        super(message);
    }
}
