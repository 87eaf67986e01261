package io.dmtree.lock.baseline;

/**
 * A CN-to-CN message of the MCS-based locks ({@code rdma-mcs}, the remote cohort of
 * {@code alock}): the one-sided WRITE into a queue node that, on RDMA, lands in the target
 * thread's memory on its CN. {@code SET_NEXT} links the successor into the predecessor's node;
 * {@code GRANT} hands the lock to the successor.
 *
 * <pre>
 *  0        1                          4                                   8
 * +--------+--------------------------+-----------------------------------+
 * |  type  |           zero           |         budget (alock)            |
 * +--------+--------------------------+-----------------------------------+
 * |                        lock address (8 bytes)                         |
 * +-----------------------------------------------------------------------+
 * |              target node's tag ({@link McsTag}, 8 bytes)              |
 * +-----------------------------------------------------------------------+
 * |                  successor tag (SET_NEXT, 8 bytes)                    |
 * +-----------------------------------------------------------------------+
 *  32
 * </pre>
 * All fields little-endian. The receiver applies a message only to the node whose tag is the
 * target: a node that gave up and its successor node of the same thread never share a tag.
 */
public final class McsMessageLayout {
    public static final int TYPE_OFFSET = 0;
    public static final int BUDGET_OFFSET = 4;
    public static final int LOCK_OFFSET = 8;
    public static final int TARGET_OFFSET = 16;
    public static final int SUCCESSOR_OFFSET = 24;
    public static final int LENGTH = 32;

    public static final byte SET_NEXT = 0x51;
    public static final byte GRANT = 0x52;

    private McsMessageLayout() {
    }
}
