package io.dmtree.lock.baseline;

/**
 * The tag of one MCS queue node ({@code rdma-mcs}, {@code alock}): what a cohort's tail word on the
 * memory node holds, and what link and grant messages address.
 *
 * <pre>
 *  63            48 47            32 31                              0
 * +----------------+----------------+---------------------------------+
 * | compute node+1 |   thread + 1   |  sequence of the thread's nodes |
 * +----------------+----------------+---------------------------------+
 * </pre>
 * Each queue node a thread registers gets the next sequence number, so a message for a node that
 * gave up (a waiter caught by a drain) never reaches the node the same thread queues next for the
 * same lock. Never zero: the compute node field is at least 1.
 */
public final class McsTag {
    public static final int SEQUENCE_SHIFT = 0;
    public static final int THREAD_SHIFT = 32;
    public static final int COMPUTE_NODE_SHIFT = 48;
    public static final int MAX_ID = 0xFFFE;

    private McsTag() {
    }

    public static long of(int computeNode, int thread, int sequence) {
        if (computeNode < 0 || computeNode > MAX_ID || thread < 0 || thread > MAX_ID) {
            throw new IllegalArgumentException("compute node " + computeNode + " or thread " + thread
                    + " does not fit an MCS tag");
        }
        return ((long) (computeNode + 1) << COMPUTE_NODE_SHIFT) | ((long) (thread + 1) << THREAD_SHIFT)
                | (sequence & 0xFFFF_FFFFL);
    }

    public static int computeNode(long tag) {
        return (int) (tag >>> COMPUTE_NODE_SHIFT) - 1;
    }

    public static int thread(long tag) {
        return (int) ((tag >>> THREAD_SHIFT) & 0xFFFF) - 1;
    }
}
