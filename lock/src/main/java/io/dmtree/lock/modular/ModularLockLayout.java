package io.dmtree.lock.modular;

/**
 * MN memory of one modular lock: the lock word in which the mode, holder and waiter managers are
 * fused, followed by a ring of {@code Q} waiter entries ({@code Q} a power of two).
 *
 * <pre>
 * lock + 0: lock word
 *  63                             32 31            16 15             0
 * +---------------------------------+----------------+----------------+
 * |            head (H)             |    size (S)    |  exclusive (E) |
 * +---------------------------------+----------------+----------------+
 *   H: requests popped so far (mod 2^32; its carry falls off the word)
 *   S: requests in the queue, holders and waiters, 0 .. Q
 *   E: exclusive requests among those S
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
 * <p>Acquire adds {@link #ACQUIRE_SHARED} or {@link #ACQUIRE_EXCLUSIVE} to the word: the request's
 * position is {@code H + S} of the word before the add. Release adds {@link #RELEASE_SHARED} or
 * {@link #RELEASE_EXCLUSIVE}. No add borrows or carries across fields: S and E never exceed
 * {@code Q}, a release only runs while its own request is counted in S (and in E when exclusive),
 * and the only carry, out of H, leaves the word.
 */
public final class ModularLockLayout {
    public static final int WORD_OFFSET = 0;
    public static final int QUEUE_OFFSET = 8;
    public static final int ENTRY_BYTES = 8;

    public static final int EXCLUSIVE_SHIFT = 0;
    public static final int SIZE_SHIFT = 16;
    public static final int HEAD_SHIFT = 32;
    public static final long FIELD_MASK = 0xFFFF;

    public static final long ACQUIRE_SHARED = 1L << SIZE_SHIFT;
    public static final long ACQUIRE_EXCLUSIVE = (1L << SIZE_SHIFT) + 1;
    public static final long RELEASE_SHARED = (1L << HEAD_SHIFT) - (1L << SIZE_SHIFT);
    public static final long RELEASE_EXCLUSIVE = (1L << HEAD_SHIFT) - (1L << SIZE_SHIFT) - 1;

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

    public static int size(long word) {
        return (int) ((word >>> SIZE_SHIFT) & FIELD_MASK);
    }

    public static int exclusive(long word) {
        return (int) ((word >>> EXCLUSIVE_SHIFT) & FIELD_MASK);
    }

    /** Position of the request whose acquire found {@code wordBefore}. */
    public static int tail(long wordBefore) {
        return head(wordBefore) + size(wordBefore);
    }

    public static long word(int head, int size, int exclusive) {
        return ((long) head << HEAD_SHIFT) | ((long) (size & FIELD_MASK) << SIZE_SHIFT)
                | ((long) (exclusive & FIELD_MASK) << EXCLUSIVE_SHIFT);
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
        return "H=" + head(word) + " S=" + size(word) + " E=" + exclusive(word);
    }
}
