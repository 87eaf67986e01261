package io.dmtree.lock.recovery;

/**
 * A member's part of a drain's reset for the holds that live through it ({@link DrainProtocol}):
 * after the coordinator put every lock of the design back to its initial state, this member makes
 * the memory-node state of each lock one of its threads holds say "held by that thread alone",
 * as if the holder had just acquired it on a free lock, and forgets whatever client-side state
 * tied the hold to the queue that was reset (links, successors, reset duties).
 *
 * <p>Called on the drain's worker thread while this member is frozen and drained (no thread of
 * it is inside a lock operation, none can start one), and only after the reset of this
 * generation: nobody else touches the locks meanwhile. Called at most once per hold and
 * generation; a call that throws is repeated, so an implementation skips the holds it already
 * reinstated for {@code generation}.
 */
@FunctionalInterface
public interface HoldReinstatement {
    /** Nothing is held across a drain (designs whose threads hold no lock while frozen). */
    HoldReinstatement NONE = generation -> { };

    void reinstate(long generation);
}
