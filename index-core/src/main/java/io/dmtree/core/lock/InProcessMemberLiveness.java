package io.dmtree.core.lock;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Membership kept in this process: the view of an embedded cluster, of tests and of benchmarks
 * that stop compute nodes themselves. Whoever departs a compute node ({@link #depart}) promises
 * what {@link MemberLiveness} requires: it has fenced that node first. Reads take no lock (every
 * lock wait calls them); changes and {@link #awaitChange} use this object's monitor.
 */
public final class InProcessMemberLiveness implements MemberLiveness {
    private final AtomicLongArray epochs;
    private volatile long version;

    /** {@code computeNodes} members, all at epoch 1. */
    public InProcessMemberLiveness(int computeNodes) {
        if (computeNodes < 1) {
            throw new IllegalArgumentException("a cluster has at least one compute node: " + computeNodes);
        }
        epochs = new AtomicLongArray(computeNodes);
        for (int i = 0; i < computeNodes; i++) {
            epochs.set(i, 1);
        }
    }

    @Override
    public long epoch(int computeNode) {
        return computeNode < 0 || computeNode >= epochs.length() ? DEPARTED : epochs.get(computeNode);
    }

    @Override
    public long version() {
        return version;
    }

    /** Reports {@code computeNode} departed; the caller has fenced it. */
    public synchronized void depart(int computeNode) {
        check(computeNode);
        if (epochs.get(computeNode) != DEPARTED) {
            epochs.set(computeNode, DEPARTED);
            version++;
            notifyAll();
        }
    }

    /** A departed compute node joins again with an epoch larger than any before; returns it. */
    public synchronized long rejoin(int computeNode, long lastEpoch) {
        check(computeNode);
        if (epochs.get(computeNode) != DEPARTED) {
            throw new IllegalStateException("compute node " + computeNode + " is still a member (epoch "
                    + epochs.get(computeNode) + ")");
        }
        epochs.set(computeNode, lastEpoch + 1);
        version++;
        notifyAll();
        return lastEpoch + 1;
    }

    private void check(int computeNode) {
        if (computeNode < 0 || computeNode >= epochs.length()) {
            throw new IllegalArgumentException("no compute node " + computeNode + " in a cluster of " + epochs.length());
        }
    }

    @Override
    public synchronized long awaitChange(long seenVersion, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (version == seenVersion) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                wait(Math.max(1, left / 1_000_000), (int) (left % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return version;
    }

    @Override
    public String toString() {
        return "members " + epochs + " (version " + version + ")";
    }
}
