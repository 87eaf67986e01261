package io.dmtree.lock.recovery;

import io.dmtree.core.lock.LockContext;

/** What every design's recovery checks before it touches a lock: the node it recovers has departed. */
public final class RecoveryPreconditions {
    private RecoveryPreconditions() {
    }

    /**
     * Throws unless {@code lapsed} is a compute node id of the cluster that membership reports
     * departed (and so fenced): recovering a live member would free the locks it holds.
     */
    public static void requireDeparted(LockContext context, int lapsed, String design) {
        if (lapsed < 0 || lapsed >= context.computeNodeCount()) {
            throw new IllegalArgumentException(design + ": no compute node " + lapsed + " in a cluster of "
                    + context.computeNodeCount());
        }
        if (context.liveness().isMember(lapsed)) {
            throw new IllegalStateException(design + ": compute node " + lapsed + " is still a member; recovery runs only"
                    + " after it departed and was fenced (" + context.liveness() + ")");
        }
        if (lapsed == context.computeNode()) {
            throw new IllegalArgumentException(design + ": compute node " + lapsed + " cannot recover itself");
        }
    }
}
