package io.dmtree.cn.control;

import io.dmtree.core.wire.ErrorCode;

/**
 * Joining a cluster failed because a memory node and this compute node did not authenticate each
 * other: this side holds no cluster secret and the memory node wants one, the two hold different
 * secrets, or the memory node holds none while this side does (it may not be a member). Retrying
 * with the same secret does not help; {@link #refusedWith} {@link ErrorCode#AUTHENTICATION} holds.
 */
public final class AuthenticationFailedException extends ControlException {
    private static final long serialVersionUID = 1L;

    public AuthenticationFailedException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public boolean refusedWith(ErrorCode code) {
        return code == ErrorCode.AUTHENTICATION;
    }

    @Override
    public java.util.Optional<ErrorCode> refusal() {
        return java.util.Optional.of(ErrorCode.AUTHENTICATION);
    }
}
