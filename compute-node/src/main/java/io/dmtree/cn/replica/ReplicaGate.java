package io.dmtree.cn.replica;

import java.util.concurrent.locks.StampedLock;

/**
 * The memory nodes' side of a failover for processes in one JVM: per memory-node process, whether
 * it is down and the oldest configuration epoch whose verbs it still applies. A verb holds its
 * memory node's read lock while it checks both and takes effect; {@link #kill} and {@link #raise}
 * take the write lock, so once they return no verb admitted before them is still in flight and no
 * verb of an older epoch is applied after them. This is the epoch gate of the spin model
 * {@code replica_failover.pml}: a late verb from a deposed primary's epoch never lands on a
 * promoted mirror.
 */
public final class ReplicaGate {
    private final StampedLock[] locks;
    private final boolean[] down;
    private final long[] oldestEpoch;

    public ReplicaGate(int memoryNodes) {
        locks = new StampedLock[memoryNodes];
        down = new boolean[memoryNodes];
        oldestEpoch = new long[memoryNodes];
        for (int i = 0; i < memoryNodes; i++) {
            locks[i] = new StampedLock();
        }
    }

    public int memoryNodes() {
        return locks.length;
    }

    /**
     * Admits a verb of configuration epoch {@code epoch} to memory node {@code mn}: returns a stamp
     * for {@link #leave}, or throws ({@link ReplicaDownException}, {@link StaleReplicaEpochException})
     * holding nothing.
     */
    public long enter(int mn, long epoch) {
        long stamp = locks[mn].readLock();
        if (down[mn]) {
            locks[mn].unlockRead(stamp);
            throw new ReplicaDownException(mn);
        }
        long oldest = oldestEpoch[mn];
        if (epoch < oldest) {
            locks[mn].unlockRead(stamp);
            throw new StaleReplicaEpochException(epoch, oldest, -1);
        }
        return stamp;
    }

    public void leave(int mn, long stamp) {
        locks[mn].unlockRead(stamp);
    }

    /** Memory node {@code mn} goes down: from now on every verb to it fails. */
    public void kill(int mn) {
        long stamp = locks[mn].writeLock();
        down[mn] = true;
        locks[mn].unlockWrite(stamp);
    }

    public boolean isDown(int mn) {
        long stamp = locks[mn].readLock();
        try {
            return down[mn];
        } finally {
            locks[mn].unlockRead(stamp);
        }
    }

    /** Memory node {@code mn} applies no verb of an epoch older than {@code epoch} any more. */
    public void raise(int mn, long epoch) {
        long stamp = locks[mn].writeLock();
        oldestEpoch[mn] = Math.max(oldestEpoch[mn], epoch);
        locks[mn].unlockWrite(stamp);
    }
}
