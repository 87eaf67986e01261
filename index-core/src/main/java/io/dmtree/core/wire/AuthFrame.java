package io.dmtree.core.wire;

/**
 * The body of the second frame on a connection to a server that holds the cluster secret
 * ({@link FrameHeader#TYPE_AUTH}): the client's proof, answering the server's nonce of the
 * {@link HelloFrame} reply. The reply (type AUTH | REPLY_BIT) is empty and says the session is
 * open; a wrong proof gets an {@link ErrorCode#AUTHENTICATION} error and a closed connection.
 *
 * <pre>
 *   16                                                              48
 *   +---------------------------------------------------------------+
 *   | client proof (32): {@link ClusterSecret#clientProof}          |
 *   +---------------------------------------------------------------+
 * </pre>
 */
public final class AuthFrame {
    public static final int PROOF_OFFSET = FrameHeader.LENGTH;
    public static final int REQUEST_LENGTH = PROOF_OFFSET + ClusterSecret.PROOF_BYTES;
    public static final int REPLY_LENGTH = FrameHeader.LENGTH;

    private AuthFrame() {
    }
}
