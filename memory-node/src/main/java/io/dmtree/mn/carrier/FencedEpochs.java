package io.dmtree.mn.carrier;

import io.dmtree.core.membership.MembershipOptions;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Per compute-node slot, the largest epoch fenced on this memory node: an incarnation {@code (cn,
 * e)} is fenced when {@code e <= upTo(cn)}. Slots are the membership's compute-node ids, {@code [0,
 * }{@value MembershipOptions#MAX_POOL}{@code )}. Epoch 0 (a cluster without membership) is never
 * fenced. Values only grow ({@link #fence} keeps the maximum), so a check that saw an incarnation
 * fenced never sees it live again. A check is one volatile read and allocates nothing: carriers
 * make it on every verb frame.
 */
public final class FencedEpochs {
    public static final int SLOTS = MembershipOptions.MAX_POOL;
    private final AtomicLongArray upTo = new AtomicLongArray(SLOTS);

    /** Fences {@code computeNode}'s incarnations up to {@code epochUpTo}; returns the slot's new bound. */
    public long fence(int computeNode, long epochUpTo) {
        checkSlot(computeNode);
        if (epochUpTo <= 0) {
            throw new IllegalArgumentException("epoch " + epochUpTo + " is not positive");
        }
        return upTo.accumulateAndGet(computeNode, epochUpTo, Math::max);
    }

    /** Whether incarnation {@code (computeNode, epoch)} is fenced (false for epoch 0 or no slot). */
    public boolean isFenced(int computeNode, long epoch) {
        return epoch != 0 && computeNode >= 0 && computeNode < SLOTS && epoch <= upTo.get(computeNode);
    }

    /** The largest epoch fenced of {@code computeNode}, 0 if none. */
    public long upTo(int computeNode) {
        checkSlot(computeNode);
        return upTo.get(computeNode);
    }

    public static void checkSlot(int computeNode) {
        if (computeNode < 0 || computeNode >= SLOTS) {
            throw new IllegalArgumentException("compute node " + computeNode + " outside [0, " + SLOTS + ")");
        }
    }
}
