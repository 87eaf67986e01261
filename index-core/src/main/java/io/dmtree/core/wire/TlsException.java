package io.dmtree.core.wire;

import java.io.IOException;

/**
 * A TLS connection could not be made: the peer does not use TLS while this side does (or the
 * other way round), its certificate is not one this side's anchors vouch for, or it refused this
 * side's certificate. Retrying with the same key material does not help.
 */
public final class TlsException extends IOException {
    private static final long serialVersionUID = 1L;
    private final boolean plaintextPeer;

    public TlsException(String message, boolean plaintextPeer, Throwable cause) {
        super(message, cause);
        this.plaintextPeer = plaintextPeer;
    }

    /** Whether the peer spoke dmtree frames without TLS. */
    public boolean plaintextPeer() {
        return plaintextPeer;
    }
}
