package io.dmtree.core.wire;

/**
 * The client's half of the first frames of a connection ({@link HelloFrame}, {@link AuthFrame}):
 * the HELLO it sends, the checks of the server's reply (and proof, when this side holds the
 * cluster secret), and the AUTH frame with its own proof. The transport (a blocking
 * {@link FrameChannel}, a tcp verb connection) moves the frames; this class decides.
 *
 * <p>Use: {@link #writeHello}, read a frame, {@link #helloReply}; when it returns true,
 * {@link #writeAuth}, read a frame, {@link #authReply}. Every refusal is an
 * {@link AuthenticationException} (authentication) or an {@link java.io.IOException} naming the
 * peer {@code where}.
 */
public final class ClientHandshake {
    private final ClusterSecret secret;
    private final int service;
    private final int computeNode;
    private final long epoch;
    private final String where;
    private final byte[] clientNonce;
    private byte[] serverNonce;
    private int nodeId;
    private int maxFrameBytes;

    /**
     * @param secret      the cluster secret this side holds, or null (a cluster without one)
     * @param computeNode the incarnation the HELLO names ({@link HelloFrame#NO_COMPUTE_NODE}, 0: none)
     * @param where       the peer, for messages
     */
    public ClientHandshake(ClusterSecret secret, int service, int computeNode, long epoch, String where) {
        this.secret = secret;
        this.service = service;
        this.computeNode = computeNode;
        this.epoch = epoch;
        this.where = where;
        this.clientNonce = secret == null ? null : ClusterSecret.nonce();
    }

    public FrameWriter writeHello(FrameWriter w) {
        w.begin(FrameHeader.TYPE_HELLO, 0, 0).i32(HelloFrame.MAGIC).u8(service).u8(0).u16(0)
                .i32(computeNode).i32(0).i64(epoch);
        if (clientNonce != null) {
            w.bytes(clientNonce);
        }
        return w.finish();
    }

    /**
     * Checks the HELLO reply {@code r}; returns whether an AUTH frame must follow. An error reply
     * becomes an exception: {@link AuthenticationException} for {@link ErrorCode#AUTHENTICATION},
     * else {@link RefusedException} with the code.
     */
    public boolean helloReply(FrameReader r) throws java.io.IOException, MalformedFrameException {
        if (r.type() == FrameHeader.TYPE_ERROR) {
            throw refusal(ErrorReply.of(r), "the " + HelloFrame.serviceName(service) + " connection");
        }
        if (r.type() != (FrameHeader.TYPE_HELLO | FrameHeader.REPLY_BIT) || r.i32("magic") != HelloFrame.MAGIC) {
            throw new java.io.IOException(where + " is not a dmtree node");
        }
        nodeId = r.i32("node id");
        maxFrameBytes = r.i32("max frame bytes");
        int flags = r.remaining() >= 4 ? r.i32("flags") : 0;
        boolean proves = (flags & HelloFrame.FLAG_PROOF) != 0;
        if (secret == null) {
            if (proves) {
                throw new AuthenticationException(where + " wants a proof of the cluster secret, which this side does not "
                        + "hold (give it the secret file memory node 0 wrote: --secret FILE)");
            }
            return false;
        }
        if (!proves) {
            throw new AuthenticationException(where + " did not prove the cluster secret: it runs without one (--secret "
                    + "none) or is not a member; this side holds " + secret + " and talks only to members");
        }
        serverNonce = r.bytes(ClusterSecret.NONCE_BYTES, "server nonce");
        byte[] proof = r.bytes(ClusterSecret.PROOF_BYTES, "server proof");
        if (!ClusterSecret.matches(secret.serverProof(service, clientNonce, serverNonce, nodeId), proof)) {
            throw new AuthenticationException(where + " failed to prove the cluster secret: it holds another secret than "
                    + "this side's " + secret);
        }
        return true;
    }

    public FrameWriter writeAuth(FrameWriter w) {
        return w.begin(FrameHeader.TYPE_AUTH, 0, 0)
                .bytes(secret.clientProof(service, serverNonce, clientNonce, computeNode, epoch)).finish();
    }

    /** Checks the reply to AUTH. */
    public void authReply(FrameReader r) throws java.io.IOException, MalformedFrameException {
        if (r.type() == FrameHeader.TYPE_ERROR) {
            throw refusal(ErrorReply.of(r), "this side's proof of the cluster secret");
        }
        if (r.type() != (FrameHeader.TYPE_AUTH | FrameHeader.REPLY_BIT)) {
            throw new java.io.IOException(where + " answered AUTH with a " + FrameHeader.typeName(r.type()) + " frame");
        }
    }

    private java.io.IOException refusal(ErrorReply e, String what) {
        String m = where + " refused " + what + ": " + e.getMessage();
        return e.code() == ErrorCode.AUTHENTICATION ? new AuthenticationException(m) : new RefusedException(e.code(), m);
    }

    /** The node id of the HELLO reply. */
    public int nodeId() {
        return nodeId;
    }

    /** The largest frame the peer takes, from its HELLO reply. */
    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    /** An error reply to HELLO other than authentication, with its code. */
    public static final class RefusedException extends java.io.IOException {
        private static final long serialVersionUID = 1L;
        private final transient ErrorCode code;

        public RefusedException(ErrorCode code, String message) {
            super(message);
            this.code = code;
        }

        public ErrorCode code() {
            return code;
        }
    }
}
