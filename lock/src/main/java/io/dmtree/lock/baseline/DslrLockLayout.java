package io.dmtree.lock.baseline;

/**
 * The DSLR lock word: four 16-bit counters, all changed by FAA.
 *
 * <pre>
 *  63            48 47            32 31            16 15             0
 * +----------------+----------------+----------------+----------------+
 * |   shared max   | exclusive max  |  shared count  | exclusive count|
 * +----------------+----------------+----------------+----------------+
 *   max: tickets taken (requests made) in that mode
 *   count: releases done in that mode ("now serving")
 * </pre>
 * A request's ticket is the word before its FAA on its own max counter. A shared request holds
 * when exclusive count reaches the exclusive max of its ticket; an exclusive request when both
 * counts reach both maxima of its ticket. Counters are reset to zero before a max reaches
 * {@link #COUNT_MAX}; see {@link DslrLock}.
 */
public final class DslrLockLayout {
    public static final int EXCLUSIVE_COUNT_SHIFT = 0;
    public static final int SHARED_COUNT_SHIFT = 16;
    public static final int EXCLUSIVE_MAX_SHIFT = 32;
    public static final int SHARED_MAX_SHIFT = 48;
    public static final long ONE_EXCLUSIVE_COUNT = 1L << EXCLUSIVE_COUNT_SHIFT;
    public static final long ONE_SHARED_COUNT = 1L << SHARED_COUNT_SHIFT;
    public static final long ONE_EXCLUSIVE_MAX = 1L << EXCLUSIVE_MAX_SHIFT;
    public static final long ONE_SHARED_MAX = 1L << SHARED_MAX_SHIFT;
    /** The counter value at which DSLR resets the lock (2^15, as published). */
    public static final int COUNT_MAX = 1 << 15;

    private DslrLockLayout() {
    }

    public static int exclusiveCount(long w) {
        return (int) ((w >>> EXCLUSIVE_COUNT_SHIFT) & 0xFFFF);
    }

    public static int sharedCount(long w) {
        return (int) ((w >>> SHARED_COUNT_SHIFT) & 0xFFFF);
    }

    public static int exclusiveMax(long w) {
        return (int) ((w >>> EXCLUSIVE_MAX_SHIFT) & 0xFFFF);
    }

    public static int sharedMax(long w) {
        return (int) ((w >>> SHARED_MAX_SHIFT) & 0xFFFF);
    }

    public static long word(int exclusiveCount, int sharedCount, int exclusiveMax, int sharedMax) {
        return ((long) (exclusiveCount & 0xFFFF) << EXCLUSIVE_COUNT_SHIFT)
                | ((long) (sharedCount & 0xFFFF) << SHARED_COUNT_SHIFT)
                | ((long) (exclusiveMax & 0xFFFF) << EXCLUSIVE_MAX_SHIFT)
                | ((long) (sharedMax & 0xFFFF) << SHARED_MAX_SHIFT);
    }
}
