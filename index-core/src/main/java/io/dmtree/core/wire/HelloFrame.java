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
 * reply (type HELLO | REPLY_BIT):
 *   16              20              24                              32
 *   +---------------+---------------+-------------------------------+
 *   | magic "DMTW"  | node id       | max frame bytes the peer takes|
 *   +---------------+---------------+-------------------------------+
 * </pre>
 *
 * A wrong magic or an unknown service gets an error reply and a closed connection. The node id is
 * the memory-node id (control, verbs) or compute-node id (messaging) of the replying side.
 */
public final class HelloFrame {
    public static final int MAGIC = 0x57544D44; // "DMTW" little-endian
    public static final int MAGIC_OFFSET = FrameHeader.LENGTH;
    public static final int SERVICE_OFFSET = FrameHeader.LENGTH + 4;
    public static final int REQUEST_LENGTH = FrameHeader.LENGTH + 8;

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
