package io.dmtree.lock.recovery;

/**
 * A message of the drain protocol ({@link DrainProtocol}) between the recovering member and the
 * other live members.
 *
 * <pre>
 *  0        1        2                                                    8
 * +--------+--------+--------------------------------------------------+
 * |  type  | phase  |                       zero                       |
 * +--------+--------+--------------------------------------------------+
 * |                    generation (8 bytes, little-endian)              |
 * +---------------------------------------------------------------------+
 *  8                                                                    16
 * </pre>
 * Phases: {@link #DRAIN} (coordinator to member: freeze and report when drained),
 * {@link #DRAINED} (member to coordinator), {@link #REINSTATE} (coordinator to member: the reset
 * is done, put back your holds), {@link #REINSTATED} (member to coordinator), {@link #RESUME}
 * (coordinator to member: thaw). The
 * generation names one drain: the coordinator's compute node id in its top 16 bits and its count
 * of drains below.
 */
public final class DrainMessageLayout {
    public static final int TYPE_OFFSET = 0;
    public static final int PHASE_OFFSET = 1;
    public static final int GENERATION_OFFSET = 8;
    public static final int LENGTH = 16;

    /** Message type of the drain protocol (distinct from every design's own message types). */
    public static final byte TYPE_DRAIN = 0x44;
    public static final byte DRAIN = 1;
    public static final byte DRAINED = 2;
    public static final byte RESUME = 3;
    public static final byte REINSTATE = 4;
    public static final byte REINSTATED = 5;

    private DrainMessageLayout() {
    }

    public static int coordinatorOf(long generation) {
        return (int) (generation >>> 48);
    }
}
