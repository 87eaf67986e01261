package io.dmtree.lock.baseline;

/**
 * A CN-to-CN message of the MCS-based locks ({@code rdma-mcs}, the remote cohort of
 * {@code alock}): the one-sided WRITE into a queue node that, on RDMA, lands in the target
 * thread's memory on its CN. {@code SET_NEXT} links the successor into the predecessor's node;
 * {@code GRANT} hands the lock to the successor.
 *
 * <pre>
 *  0        1        2                 4                                   8
 * +--------+--------+-----------------+-----------------------------------+
 * |  type  |  zero  | target thread   |         budget (alock)            |
 * +--------+--------+-----------------+-----------------------------------+
 * |                        lock address (8 bytes)                         |
 * +-----------------------------------------------------------------------+
 * |                  successor tag (SET_NEXT, 8 bytes)                    |
 * +-----------------------------------------------------------------------+
 *  24
 * </pre>
 */
public final class McsMessageLayout {
    public static final int TYPE_OFFSET = 0;
    public static final int THREAD_OFFSET = 2;
    public static final int BUDGET_OFFSET = 4;
    public static final int LOCK_OFFSET = 8;
    public static final int SUCCESSOR_OFFSET = 16;
    public static final int LENGTH = 24;

    public static final byte SET_NEXT = 0x51;
    public static final byte GRANT = 0x52;

    private McsMessageLayout() {
    }
}
