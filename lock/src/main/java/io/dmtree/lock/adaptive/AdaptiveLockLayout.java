package io.dmtree.lock.adaptive;

import io.dmtree.lock.baseline.CasLockWord;
import io.dmtree.lock.modular.ModularLockLayout;

/**
 * MN memory of one adaptive lock: the assignment word, then a whole modular lock (its word and
 * its ring of waiter entries, {@link ModularLockLayout}).
 *
 * <pre>
 * lock + 0: assignment word A
 *  63 62                  49 48                      32 31                              0
 * +--+----------------------+--------------------------+---------------------------------+
 * |Q |     zero             |     compute node + 1     |            thread + 1           |
 * +--+----------------------+--------------------------+---------------------------------+
 *   Q: the queued assignment owns the lock (its modular lock's holder is the holder) or, beside a
 *      tag, is waiting to take it over from that tag's holder
 *   tag (bits 0..48, {@link CasLockWord}): the thread that holds the lock in the word assignment
 *
 *   A = 0          FREE: word assignment, nobody holds
 *   A = tag        held by that thread in the word assignment
 *   A = tag | Q    held by that thread; the modular lock's holder waits to take over
 *   A = Q          QUEUED: the modular lock's holder holds
 *
 * lock + 8: the modular lock (word, then Q waiter entries)
 * </pre>
 *
 * <p>A word-assignment release adds {@code -tag}: it takes {@code tag} to FREE and {@code tag | Q}
 * to QUEUED, so the hand-over to a waiting queue needs no second verb. No add borrows: the tag is
 * below bit 49 and only its owner (or recovery, for a fenced owner) subtracts it, once.
 */
public final class AdaptiveLockLayout {
    public static final int ASSIGNMENT_OFFSET = 0;
    public static final int QUEUE_LOCK_OFFSET = 8;
    public static final long FREE = 0;
    public static final long QUEUED = 1L << 63;
    private static final long TAG_MASK = (1L << 49) - 1;

    private AdaptiveLockLayout() {
    }

    public static int lockBytes(int queueSlots) {
        return QUEUE_LOCK_OFFSET + ModularLockLayout.lockBytes(queueSlots);
    }

    /** The word a thread writes when it takes the lock in the word assignment. */
    public static long tag(int computeNode, int thread) {
        return CasLockWord.tag(computeNode, thread);
    }

    /** The holder tag in {@code word}, 0 if none. */
    public static long holderTag(long word) {
        return word & TAG_MASK;
    }

    /** The compute node whose thread holds {@code word} in the word assignment, or -1. */
    public static int holderComputeNode(long word) {
        long t = holderTag(word);
        return t == 0 ? -1 : CasLockWord.computeNode(t);
    }

    public static boolean queueFlag(long word) {
        return (word & QUEUED) != 0;
    }

    public static String describe(long word) {
        if (word == FREE) {
            return "FREE";
        }
        if (word == QUEUED) {
            return "QUEUED";
        }
        long t = holderTag(word);
        return "held by cn" + CasLockWord.computeNode(t) + "/t" + CasLockWord.thread(t) + (queueFlag(word) ? " (queue waits)" : "");
    }
}
