package io.dmtree.lock.modular;

/**
 * MN memory of one modular lock: the lock word in which the mode, holder and waiter managers are
 * fused, followed by a ring of {@code Q} waiter entries ({@code Q} a power of two).
 *
 * <pre>
 * lock + 0: lock word
 *  63                             32 31 30 29 28          ...          3  2  1  0
 * +---------------------------------+-----+-----+-----------------------+-----+-----+
 * |            head (H)             | m15 | m14 |          ...          | m1  | m0  |
 * +---------------------------------+-----+-----+-----------------------+-----+-----+
 *   H: requests popped so far (mod 2^32; its carry falls off the word)
 *   m_c (bits 2c+1..2c): compute node c's request in the queue: 00 none, 01 shared, 10 exclusive
 *   S = the number of non-zero m_c (requests queued, holders and waiters, 0 .. 16)
 *   E = the number of m_c equal to 10 (exclusive requests among those S)
 *
 * lock + 8 + 8*i: waiter entry i, i = 0 .. Q-1 (the request at position p uses entry p mod Q)
 *  63 62      56 55 54      49 48 47            32 31            16 15             0
 * +--+----------+--+----------+--+----------------+----------------+----------------+
 * |P |  check   |G | behind   |X |  compute node  |    thread      |   position p   |
 * +--+----------+--+----------+--+----------------+----------------+----------------+
 *   P: present (a zero entry was never written)
 *   check: 7-bit hash of bits 0..55, so a torn or half-written entry reads as not written
 *   G: granted (only the modular-mn-grant assignment, written by the releaser)
 *   behind: waiters behind the granted batch when G was written (saturates at 63)
 *   X: exclusive request
 *   position: the low 16 bits of the request's position; with P it is the entry's lap/version,
 *             so an entry left by an earlier lap of the ring (position p - kQ) is recognised as stale
 *             (a slot may keep an old entry for many laps: requests granted at once write nothing)
 * </pre>
 *
 * <p>Compute node {@code c} acquires by adding {@link #acquireDelta} (01 or 10 into m_c) to the
 * word: the request's position is {@code H + S} of the word before the add. It releases by adding
 * {@link #releaseDelta} (H + 1, and m_c back to 00). No add borrows or carries across fields:
 * m_c is 00 before the acquire's add (a compute node has at most one request per lock, its
 * cohort's) and holds exactly the request's mode before the release's subtract, and the only
 * carry, out of H, leaves the word. So the word always names who is queued and how: recovery knows
 * from it alone whether a departed compute node still has a request on a lock, and in which mode.
 * The price is the width: at most {@link #MAX_COMPUTE_NODES} compute nodes use a modular lock.
 */
public final class ModularLockLayout {
    public static final int WORD_OFFSET = 0;
    public static final int QUEUE_OFFSET = 8;
    public static final int ENTRY_BYTES = 8;

    public static final int FIELD_BITS = 2;
    public static final int HEAD_SHIFT = 32;
    /** Compute nodes a lock word can name. */
    public static final int MAX_COMPUTE_NODES = 16;
    /** Field values: no request, a shared one, an exclusive one. */
    public static final int FIELD_NONE = 0;
    public static final int FIELD_SHARED = 1;
    public static final int FIELD_EXCLUSIVE = 2;
    private static final long LOW_BITS = 0x5555_5555L;
    private static final long HIGH_BITS = 0xAAAA_AAAAL;

    public static final int ENTRY_POSITION_SHIFT = 0;
    public static final int ENTRY_THREAD_SHIFT = 16;
    public static final int ENTRY_CN_SHIFT = 32;
    public static final int ENTRY_EXCLUSIVE_BIT = 48;
    public static final int ENTRY_BEHIND_SHIFT = 49;
    public static final long ENTRY_BEHIND_MASK = 0x3F;
    public static final int ENTRY_GRANTED_BIT = 55;
    public static final int ENTRY_CHECK_SHIFT = 56;
    public static final long ENTRY_CHECK_MASK = 0x7F;
    public static final int ENTRY_PRESENT_BIT = 63;
    private static final long BODY_MASK = (1L << ENTRY_CHECK_SHIFT) - 1;

    /** Largest compute node and thread id an entry can name. */
    public static final int MAX_ID = 0xFFFF;

    private ModularLockLayout() {
    }

    /** Bytes of one lock with {@code queueSlots} entries. */
    public static int lockBytes(int queueSlots) {
        return QUEUE_OFFSET + queueSlots * ENTRY_BYTES;
    }

    /** Requests popped so far, mod 2^32. */
    public static int head(long word) {
        return (int) (word >>> HEAD_SHIFT);
    }

    /** Requests queued (holders and waiters). */
    public static int size(long word) {
        return Long.bitCount((word | (word >>> 1)) & LOW_BITS);
    }

    /** Exclusive requests queued. */
    public static int exclusive(long word) {
        return Long.bitCount(word & HIGH_BITS);
    }

    /** Compute node {@code cn}'s field: {@link #FIELD_NONE}, {@link #FIELD_SHARED} or {@link #FIELD_EXCLUSIVE}. */
    public static int field(long word, int cn) {
        return (int) ((word >>> (FIELD_BITS * cn)) & 3);
    }

    /** Position of the request whose acquire found {@code wordBefore}. */
    public static int tail(long wordBefore) {
        return head(wordBefore) + size(wordBefore);
    }

    public static int fieldOf(boolean exclusive) {
        return exclusive ? FIELD_EXCLUSIVE : FIELD_SHARED;
    }

    /** What compute node {@code cn} adds to the word to acquire. */
    public static long acquireDelta(int cn, boolean exclusive) {
        return (long) fieldOf(exclusive) << (FIELD_BITS * cn);
    }

    /** What is added to the word to release compute node {@code cn}'s request: H + 1, its field back to 00. */
    public static long releaseDelta(int cn, boolean exclusive) {
        return (1L << HEAD_SHIFT) - acquireDelta(cn, exclusive);
    }

    /** A word with head {@code head} and the given fields (index: compute node). */
    public static long word(int head, int... fields) {
        long w = (long) head << HEAD_SHIFT;
        for (int cn = 0; cn < fields.length; cn++) {
            w |= (long) (fields[cn] & 3) << (FIELD_BITS * cn);
        }
        return w;
    }

    /** Byte offset, from the lock, of the entry of the request at {@code position}. */
    public static int entryOffset(int position, int queueSlots) {
        return QUEUE_OFFSET + (position & (queueSlots - 1)) * ENTRY_BYTES;
    }

    /** A present waiter entry with its check bits. */
    public static long entry(int position, int computeNode, int thread, boolean exclusive) {
        long body = ((long) (position & 0xFFFF) << ENTRY_POSITION_SHIFT)
                | ((long) (thread & 0xFFFF) << ENTRY_THREAD_SHIFT)
                | ((long) (computeNode & 0xFFFF) << ENTRY_CN_SHIFT)
                | (exclusive ? 1L << ENTRY_EXCLUSIVE_BIT : 0L);
        return seal(body);
    }

    /** The entry with its granted bit set and the count of waiters behind the granted batch. */
    public static long granted(long entry, int waitersBehind) {
        long body = (entry & BODY_MASK & ~(ENTRY_BEHIND_MASK << ENTRY_BEHIND_SHIFT))
                | (1L << ENTRY_GRANTED_BIT)
                | ((long) Math.min(waitersBehind, (int) ENTRY_BEHIND_MASK) << ENTRY_BEHIND_SHIFT);
        return seal(body);
    }

    private static long seal(long body) {
        return (1L << ENTRY_PRESENT_BIT) | (check(body) << ENTRY_CHECK_SHIFT) | body;
    }

    static long check(long body) {
        long h = body * 0x9E3779B97F4A7C15L;
        h ^= h >>> 29;
        return (h >>> 57) & ENTRY_CHECK_MASK;
    }

    /** Written completely (present and its check matches). */
    public static boolean isWritten(long entry) {
        return (entry >>> ENTRY_PRESENT_BIT) != 0
                && ((entry >>> ENTRY_CHECK_SHIFT) & ENTRY_CHECK_MASK) == check(entry & BODY_MASK);
    }

    /** Written for exactly {@code position} (not an entry of an earlier or later lap). */
    public static boolean isFor(long entry, int position) {
        return isWritten(entry) && entryPosition(entry) == (position & 0xFFFF);
    }

    /** The request at {@code position} is at the head of the queue of {@code word}. */
    public static boolean atHead(long word, int position) {
        return head(word) == position;
    }

    public static int entryPosition(long entry) {
        return (int) ((entry >>> ENTRY_POSITION_SHIFT) & 0xFFFF);
    }

    public static int entryThread(long entry) {
        return (int) ((entry >>> ENTRY_THREAD_SHIFT) & 0xFFFF);
    }

    public static int entryComputeNode(long entry) {
        return (int) ((entry >>> ENTRY_CN_SHIFT) & 0xFFFF);
    }

    public static boolean entryExclusive(long entry) {
        return ((entry >>> ENTRY_EXCLUSIVE_BIT) & 1) != 0;
    }

    public static boolean entryGranted(long entry) {
        return ((entry >>> ENTRY_GRANTED_BIT) & 1) != 0;
    }

    public static int entryWaitersBehind(long entry) {
        return (int) ((entry >>> ENTRY_BEHIND_SHIFT) & ENTRY_BEHIND_MASK);
    }

    public static String describe(long word) {
        StringBuilder b = new StringBuilder("H=").append(Integer.toUnsignedString(head(word))).append(" S=")
                .append(size(word)).append(" E=").append(exclusive(word)).append(" [");
        for (int cn = 0; cn < MAX_COMPUTE_NODES; cn++) {
            int f = field(word, cn);
            if (f != FIELD_NONE) {
                b.append(" cn").append(cn).append(f == FIELD_SHARED ? ":S" : f == FIELD_EXCLUSIVE ? ":X" : ":?");
            }
        }
        return b.append(" ]").toString();
    }
}
