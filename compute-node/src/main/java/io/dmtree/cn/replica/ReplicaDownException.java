package io.dmtree.cn.replica;

/**
 * A verb reached a memory-node process that is down (crashed, or cut off). The operation that
 * issued it is not acknowledged; once membership has seen the loss, a failover publishes a
 * placement without that process and the operation retries under it.
 */
public final class ReplicaDownException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int memoryNode;

    public ReplicaDownException(int memoryNode) {
        super("memory node " + memoryNode + " is down: the operation retries once its region failed over");
        this.memoryNode = memoryNode;
    }

    public int memoryNode() {
        return memoryNode;
    }
}
