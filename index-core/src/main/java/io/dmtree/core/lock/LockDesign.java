package io.dmtree.core.lock;

/**
 * A lock algorithm whose state lives in memory-node memory: how many zero-initialised bytes one
 * lock takes there, how a compute node builds its client, and how a live member recovers the
 * locks of a departed one. The tree knows locks only through this interface and
 * {@link LockClient}.
 */
public interface LockDesign {
    /** The name users select it by, e.g. {@code cas-spin}. */
    String name();

    /** Bytes of MN memory per lock: a positive multiple of 8; the lock starts as all zeros. */
    int lockBytes();

    /** A client for one compute node; thread-safe, shared by all of that node's threads. */
    LockClient newClient(LockContext context);

    /**
     * Removes every hold and queued request of the departed compute node {@code lapsedComputeNode}
     * from the locks in {@code context}'s lock table, so that the next waiter of each proceeds, and
     * passes on grants that were sent to it. Run by one live member (through that member's own
     * client, {@link RecoveryContext#client()}) on a thread that holds no lock of this design.
     *
     * <p>Precondition (fencing is not the lock layer's job): {@code lapsedComputeNode} is fenced
     * before this starts, so it issues no verb that takes effect from then on, and its id is not
     * reused until this returns; {@link MemberLiveness} reports it departed. Live members keep
     * acquiring and releasing while recovery runs. Recovery is idempotent: if the recovering member
     * departs part way, another member may run it again from the start.
     *
     * <p>Returns once the departed member's footprint is gone; that may wait for live holders of
     * the locks it queued on to release (a departed waiter's turn must come before its request
     * can be removed). Throws {@link LapsedMemberException} if the recovering member departs.
     */
    RecoveryReport recover(RecoveryContext context, int lapsedComputeNode);
}
