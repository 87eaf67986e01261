package io.dmtree.core.wire;

/**
 * The header every frame on a dmtree TCP connection starts with: control plane, tcp verbs and
 * CN-to-CN messages alike. All fields are little-endian.
 *
 * <pre>
 *   0               4       5       6               8
 *   +---------------+-------+-------+---------------+
 *   | frame length  |version| type  | count         |
 *   +---------------+-------+-------+---------------+
 *   8 correlation id                                |
 *   +-----------------------------------------------+
 *  16 body (frame length - 16 bytes)
 * </pre>
 *
 * <ul>
 *   <li><b>frame length</b>: bytes of the whole frame, header included; at least {@link #LENGTH},
 *   at most the receiver's limit. A frame outside these bounds closes the connection (the stream
 *   cannot be resynchronised), after an {@link #TYPE_ERROR} reply when possible.</li>
 *   <li><b>version</b>: {@link #VERSION}; another value gets an {@link ErrorCode#VERSION} reply and
 *   a closed connection.</li>
 *   <li><b>type</b>: what the body holds (the {@code TYPE_*} constants); a reply carries the
 *   request's type with {@link #REPLY_BIT} set, or {@link #TYPE_ERROR}.</li>
 *   <li><b>count</b>: verb requests in a verb frame, otherwise 0.</li>
 *   <li><b>correlation id</b>: chosen by the requester, echoed by the reply.</li>
 * </ul>
 *
 * <p>The first frame on every connection is a {@link #TYPE_HELLO} naming the service the
 * connection is for; see {@link HelloFrame}. A server that holds a {@link ClusterSecret} then wants
 * a {@link #TYPE_AUTH} frame proving it before any other.
 */
public final class FrameHeader {
    public static final int LENGTH_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int TYPE_OFFSET = 5;
    public static final int COUNT_OFFSET = 6;
    public static final int CORRELATION_OFFSET = 8;
    public static final int LENGTH = 16;

    /**
     * The wire version: 4 added the authentication of {@link HelloFrame} and {@link AuthFrame}
     * (3 had none).
     */
    public static final int VERSION = 4;

    /** Set in the type of a successful reply. */
    public static final int REPLY_BIT = 0x80;

    public static final int TYPE_HELLO = 0x01;
    public static final int TYPE_AUTH = 0x02;
    public static final int TYPE_ERROR = 0x7F;
    public static final int TYPE_VERB_REQUEST = 0x10;
    public static final int TYPE_JOIN = 0x20;
    public static final int TYPE_LEAVE = 0x21;
    public static final int TYPE_DESCRIBE = 0x22;
    public static final int TYPE_ALLOCATE_CHUNK = 0x23;
    public static final int TYPE_ROOT_HOME = 0x24;
    public static final int TYPE_REGISTER_ENDPOINT = 0x25;
    public static final int TYPE_LOOKUP_ENDPOINT = 0x26;
    public static final int TYPE_BARRIER = 0x27;
    public static final int TYPE_WATCH = 0x28;
    public static final int TYPE_MESSAGE = 0x30;
    public static final int TYPE_RDMA_ATTACH = 0x40;

    private FrameHeader() {
    }

    public static String typeName(int type) {
        return switch (type & ~REPLY_BIT) {
            case TYPE_HELLO -> "HELLO";
            case TYPE_AUTH -> "AUTH";
            case TYPE_ERROR -> "ERROR";
            case TYPE_VERB_REQUEST -> "VERBS";
            case TYPE_JOIN -> "JOIN";
            case TYPE_LEAVE -> "LEAVE";
            case TYPE_DESCRIBE -> "DESCRIBE";
            case TYPE_ALLOCATE_CHUNK -> "ALLOCATE_CHUNK";
            case TYPE_ROOT_HOME -> "ROOT_HOME";
            case TYPE_REGISTER_ENDPOINT -> "REGISTER_ENDPOINT";
            case TYPE_LOOKUP_ENDPOINT -> "LOOKUP_ENDPOINT";
            case TYPE_BARRIER -> "BARRIER";
            case TYPE_WATCH -> "WATCH";
            case TYPE_MESSAGE -> "MESSAGE";
            case TYPE_RDMA_ATTACH -> "RDMA_ATTACH";
            default -> "type 0x" + Integer.toHexString(type);
        } + ((type & REPLY_BIT) != 0 && type != TYPE_ERROR ? " reply" : "");
    }
}
