package io.dmtree.lock.baseline;

/**
 * The one MN word of the CAS locks ({@code cas-spin}, {@code cas-backoff}, {@code hocl}): zero
 * when free, else the tag of the thread that took it, so recovery can tell whose hold it is.
 *
 * <pre>
 *  63                             32 31                              0
 * +---------------------------------+---------------------------------+
 * |        compute node + 1         |           thread + 1            |
 * +---------------------------------+---------------------------------+
 * </pre>
 * Both fields are offset by one so no holder's tag is zero. {@code hocl} keeps the tag of the
 * thread that took the word while it hands the lock over inside its compute node; the compute
 * node is what recovery needs.
 */
public final class CasLockWord {
    public static final int THREAD_SHIFT = 0;
    public static final int COMPUTE_NODE_SHIFT = 32;
    public static final long FREE = 0;

    private CasLockWord() {
    }

    /** The word a holder writes: compute node and thread, never zero. */
    public static long tag(int computeNode, int thread) {
        return ((long) (computeNode + 1) << COMPUTE_NODE_SHIFT) | ((thread + 1L) & 0xFFFF_FFFFL);
    }

    /** The compute node holding {@code word}, or -1 when it is free. */
    public static int computeNode(long word) {
        return (int) (word >>> COMPUTE_NODE_SHIFT) - 1;
    }

    public static int thread(long word) {
        return (int) (word & 0xFFFF_FFFFL) - 1;
    }
}
