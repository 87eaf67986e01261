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
 * request with the sender's incarnation (the verbs service of a memory node; 16 bytes longer):
 *   24              28              32                              40
 *   +---------------+---------------+-------------------------------+
 *   | compute node  | 0             | epoch (i64)                   |
 *   | (i32, -1 none)|               | 0 = no membership             |
 *   +---------------+---------------+-------------------------------+
 * reply (type HELLO | REPLY_BIT):
 *   16              20              24                              32
 *   +---------------+---------------+-------------------------------+
 *   | magic "DMTW"  | node id       | max frame bytes the peer takes|
 *   +---------------+---------------+-------------------------------+
 * </pre>
 *
 * A wrong magic or an unknown service gets an error reply and a closed connection. The node id is
 * the memory-node id (control, verbs) or compute-node id (messaging) of the replying side.
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
    /** The compute node of a request without an incarnation. */
    public static final int NO_COMPUTE_NODE = -1;

    public static final int NODE_ID_OFFSET = FrameHeader.LENGTH + 4;
    public static final int MAX_FRAME_OFFSET = FrameHeader.LENGTH + 8;
    public static final int REPLY_LENGTH = FrameHeader.LENGTH + 16;

    public static final int SERVICE_CONTROL = 1;
    public static final int SERVICE_VERBS = 2;
    public static final int SERVICE_MESSAGING = 3;

    private HelloFrame() {
    }

    public static String serviceName(int service) {
        return switch (service) {
            case SERVICE_CONTROL -> "control";
            case SERVICE_VERBS -> "verbs";
            case SERVICE_MESSAGING -> "messaging";
            default -> "service " + service;
        };
    }
}
