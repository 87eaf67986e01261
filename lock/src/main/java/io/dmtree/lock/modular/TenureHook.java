package io.dmtree.lock.modular;

import io.dmtree.core.memory.VerbBatch;

/**
 * What a design built on the modular lock does at the two edges of a compute node's MN tenure
 * (the time from the leader's MN grant to the last local holder's MN release; local handovers
 * inside a tenure call nothing). The adaptive lock keeps a word of its own beside the modular lock
 * and uses these edges to take it over and to hand it on ({@code io.dmtree.lock.adaptive}).
 *
 * <p>Both calls run on the thread that holds the modular lock at that moment, so the calls of all
 * compute nodes on one lock are serialized by the lock itself.
 */
public interface TenureHook {
    /** The modular lock alone: no state beside it. */
    TenureHook NONE = new TenureHook() {
        @Override
        public void tenureStarting(long lock, boolean handedOn) {
        }

        @Override
        public boolean beforeMnRelease(long lock, VerbBatch batch, int waitersBehindAtGrant, boolean localWaiters,
                                       int tenureGrants) {
            return false;
        }

        @Override
        public String toString() {
            return "no tenure hook";
        }
    };

    /**
     * The leader's MN request on {@code lock} holds; the tenure starts when this returns (it may
     * block, and may throw {@link io.dmtree.core.lock.LapsedMemberException}). {@code handedOn}:
     * the grant that took effect was sent by a releaser whose {@link #beforeMnRelease} returned
     * true; false for a request granted at once, one that found itself holding in the MN state, and
     * every grant that recovery sends.
     */
    void tenureStarting(long lock, boolean handedOn);

    /**
     * The last holder of a tenure on {@code lock} is about to release it at the MN: verbs appended
     * to {@code batch} go out after the caller's write-back and before the release's own verbs, in
     * the same round trip, while this compute node still holds the lock. Returns whether the grants
     * of this release carry {@link GrantMessageLayout#FLAG_HANDED_ON}.
     *
     * @param waitersBehindAtGrant MN requests queued behind this tenure's request when it was granted
     * @param localWaiters         local threads are queued in the cohort now
     * @param tenureGrants         grants this tenure made (1: no local handover)
     */
    boolean beforeMnRelease(long lock, VerbBatch batch, int waitersBehindAtGrant, boolean localWaiters,
                            int tenureGrants);
}
