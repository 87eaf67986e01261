package io.dmtree.lock.baseline;

/**
 * The MN memory of one {@code alock}: the tails of the two MCS cohorts and the Peterson victim.
 *
 * <pre>
 *  0                               8                               16                              24
 * +-------------------------------+-------------------------------+-------------------------------+
 * |   remote cohort tail (tag)    |   local cohort tail (tag)     |   victim (1 remote, 2 local)  |
 * +-------------------------------+-------------------------------+-------------------------------+
 * </pre>
 * A tail is the tag of the last thread queued in that cohort, zero when the cohort is empty; a
 * non-zero tail is the cohort's Peterson flag. A remote leader reads the local tail and the victim
 * together with one 16-byte READ.
 */
public final class ALockLayout {
    public static final int REMOTE_TAIL_OFFSET = 0;
    public static final int LOCAL_TAIL_OFFSET = 8;
    public static final int VICTIM_OFFSET = 16;
    public static final int BYTES = 24;
    public static final long VICTIM_REMOTE = 1;
    public static final long VICTIM_LOCAL = 2;

    private ALockLayout() {
    }
}
