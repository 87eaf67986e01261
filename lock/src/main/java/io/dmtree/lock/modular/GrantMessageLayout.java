package io.dmtree.lock.modular;

/**
 * A grant message of the CN-side grant manager, sent to the CN of a selected waiter.
 *
 * <pre>
 *  0        1        2                 4                                   8
 * +--------+--------+-----------------+-----------------------------------+
 * |  type  | flags  | waiters behind  |       position (32 bits)          |
 * +--------+--------+-----------------+-----------------------------------+
 * |                        lock address (8 bytes)                         |
 * +-----------------------------------------------------------------------+
 *  8                                                                      16
 * </pre>
 * All fields little-endian. {@code flags}: bit 0 the granted request is exclusive; bit 1
 * ({@link #FLAG_HANDED_ON}) the releaser hands on, with the lock, the state a design built on the
 * modular lock keeps beside it (see {@link TenureHook}; the modular lock itself never sets it).
 * {@code position} is the granted request's MN position: its grant count, which the receiving
 * cohort checks against the request it waits on.
 */
public final class GrantMessageLayout {
    public static final int TYPE_OFFSET = 0;
    public static final int MODE_OFFSET = 1;
    /** Flag bit of the exclusive mode. */
    public static final int FLAG_EXCLUSIVE = 1;
    /** Flag bit: the releaser's tenure hook handed on its state ({@link TenureHook#beforeMnRelease}). */
    public static final int FLAG_HANDED_ON = 2;
    public static final int BEHIND_OFFSET = 2;
    public static final int POSITION_OFFSET = 4;
    public static final int LOCK_OFFSET = 8;
    public static final int LENGTH = 16;

    /** Message type of a modular-lock grant. */
    public static final byte TYPE_GRANT = 0x4D;

    private GrantMessageLayout() {
    }
}
