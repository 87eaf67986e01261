package io.dmtree.core.lock;

/**
 * This compute node is no longer a member of the cluster (its lease lapsed and it was fenced), so
 * it holds no lock any more and may not wait for one: another member recovers what it held. Thrown
 * by lock waits that consult {@link MemberLiveness}; the node may rejoin with a new epoch.
 */
public class LapsedMemberException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int computeNode;

    public LapsedMemberException(int computeNode, String doing) {
        super("compute node " + computeNode + " is no longer a cluster member (fenced) while " + doing
                + "; its locks are recovered by another member");
        this.computeNode = computeNode;
    }

    public int computeNode() {
        return computeNode;
    }
}
