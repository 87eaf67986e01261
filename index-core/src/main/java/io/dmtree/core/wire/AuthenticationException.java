package io.dmtree.core.wire;

import java.io.IOException;

/**
 * A connection was refused because one side did not prove the cluster secret: this side holds
 * none and the peer wants one, the peer's proof was wrong or missing, or the peer refused this
 * side's proof ({@link ErrorCode#AUTHENTICATION}). Retrying with the same secret does not help.
 */
public final class AuthenticationException extends IOException {
    private static final long serialVersionUID = 1L;

    public AuthenticationException(String message) {
        super(message);
    }
}
