package io.dmtree.core.wire;

/**
 * The body of the first frame on a connection ({@link FrameHeader#TYPE_HELLO}) and of its reply.
 *
 * <pre>
 * request:
 *   16              20      21      22              24
 *   +---------------+-------+-------+---------------+
 *   | magic "DMTW"  |service| 0     | 0             |
 *   +---------------+-------+-------+---------------+
 * request with the sender's incarnation (16 bytes longer):
 *   24              28              32                              40
 *   +---------------+---------------+-------------------------------+
 *   | compute node  | 0             | epoch (i64)                   |
 *   | (i32, -1 none)|               | 0 = no membership             |
 *   +---------------+---------------+-------------------------------+
 * request of a sender that holds the cluster secret (after the incarnation; 32 bytes longer):
 *   40                                                              72
 *   +---------------------------------------------------------------+
 *   | client nonce (32 random bytes, fresh for this connection)     |
 *   +---------------------------------------------------------------+
 * reply (type HELLO | REPLY_BIT):
 *   16              20              24              28              32
 *   +---------------+---------------+---------------+---------------+
 *   | magic "DMTW"  | node id       | max frame     | flags         |
 *   |               |               | bytes it takes| bit 0: proof  |
 *   +---------------+---------------+---------------+---------------+
 * reply with flag PROOF (a server that holds the cluster secret; 64 bytes longer):
 *   32                              64                              96
 *   +-------------------------------+-------------------------------+
 *   | server nonce (32, fresh)      | server proof (32)             |
 *   +-------------------------------+-------------------------------+
 * </pre>
 *
 * A wrong magic or an unknown service gets an error reply and a closed connection. The node id is
 * the memory-node id (control, verbs) or compute-node id (messaging) of the replying side.
 *
 * <p><b>Authentication.</b> A server that holds a {@link ClusterSecret} refuses a request without
 * a client nonce ({@link ErrorCode#AUTHENTICATION}, closed); to one with a nonce it replies with
 * its own nonce and its proof, and then takes nothing but an {@link AuthFrame} carrying the
 * client's proof, before which no session opens. A client that holds the secret checks the
 * server's proof before it sends its own, and refuses a server that sends none: authentication is
 * mutual. A server without a secret ignores a nonce and sends flags 0. The proofs are defined in
 * {@link ClusterSecret}.
 *
 * <p>The incarnation section binds the connection to one incarnation of a compute node: a memory
 * node checks each of its verb frames against the epochs fenced for that compute node, and
 * refuses a HELLO of an incarnation already fenced ({@link ErrorCode#FENCED}). A short request is
 * the same as compute node -1, epoch 0: a connection of a cluster without membership, which is
 * never fenced.
 */
public final class HelloFrame {
    public static final int MAGIC = 0x57544D44; // "DMTW" little-endian
    public static final int MAGIC_OFFSET = FrameHeader.LENGTH;
    public static final int SERVICE_OFFSET = FrameHeader.LENGTH + 4;
    public static final int REQUEST_LENGTH = FrameHeader.LENGTH + 8;
    public static final int COMPUTE_NODE_OFFSET = FrameHeader.LENGTH + 8;
    public static final int EPOCH_OFFSET = FrameHeader.LENGTH + 16;
    /** A request with the incarnation section. */
    public static final int INCARNATION_REQUEST_LENGTH = FrameHeader.LENGTH + 24;
    public static final int CLIENT_NONCE_OFFSET = INCARNATION_REQUEST_LENGTH;
    /** A request with the incarnation section and a client nonce. */
    public static final int AUTHENTICATING_REQUEST_LENGTH = CLIENT_NONCE_OFFSET + ClusterSecret.NONCE_BYTES;
    /** The compute node of a request without an incarnation. */
    public static final int NO_COMPUTE_NODE = -1;

    public static final int NODE_ID_OFFSET = FrameHeader.LENGTH + 4;
    public static final int MAX_FRAME_OFFSET = FrameHeader.LENGTH + 8;
    public static final int FLAGS_OFFSET = FrameHeader.LENGTH + 12;
    public static final int REPLY_LENGTH = FrameHeader.LENGTH + 16;
    public static final int SERVER_NONCE_OFFSET = REPLY_LENGTH;
    public static final int SERVER_PROOF_OFFSET = SERVER_NONCE_OFFSET + ClusterSecret.NONCE_BYTES;
    /** A reply with the server's nonce and proof. */
    public static final int PROVING_REPLY_LENGTH = SERVER_PROOF_OFFSET + ClusterSecret.PROOF_BYTES;
    /** Reply flag: the server's nonce and proof follow, and it wants an {@link AuthFrame}. */
    public static final int FLAG_PROOF = 1;

    public static final int SERVICE_CONTROL = 1;
    public static final int SERVICE_VERBS = 2;
    public static final int SERVICE_MESSAGING = 3;
    /** The rdma carrier's attachment of a compute node's queue pairs to its memory windows ({@link RdmaAttachFrame}). */
    public static final int SERVICE_RDMA_ATTACH = 4;

    private HelloFrame() {
    }

    public static String serviceName(int service) {
        return switch (service) {
            case SERVICE_CONTROL -> "control";
            case SERVICE_VERBS -> "verbs";
            case SERVICE_MESSAGING -> "messaging";
            case SERVICE_RDMA_ATTACH -> "rdma-attach";
            default -> "service " + service;
        };
    }
}
