package io.dmtree.core.lock;

import java.util.Arrays;

/**
 * Membership kept in this process: the view of an embedded cluster, of tests and of benchmarks
 * that stop compute nodes themselves. Whoever departs a compute node ({@link #depart}) promises
 * what {@link MemberLiveness} requires: it has fenced that node first.
 */
public final class InProcessMemberLiveness implements MemberLiveness {
    private final long[] epochs;
    private long version;

    /** {@code computeNodes} members, all at epoch 1. */
    public InProcessMemberLiveness(int computeNodes) {
        if (computeNodes < 1) {
            throw new IllegalArgumentException("a cluster has at least one compute node: " + computeNodes);
        }
        epochs = new long[computeNodes];
        Arrays.fill(epochs, 1);
    }

    @Override
    public synchronized long epoch(int computeNode) {
        return computeNode < 0 || computeNode >= epochs.length ? DEPARTED : epochs[computeNode];
    }

    @Override
    public synchronized long version() {
        return version;
    }

    /** Reports {@code computeNode} departed; the caller has fenced it. */
    public synchronized void depart(int computeNode) {
        check(computeNode);
        if (epochs[computeNode] != DEPARTED) {
            epochs[computeNode] = DEPARTED;
            version++;
            notifyAll();
        }
    }

    /** A departed compute node joins again with an epoch larger than any before; returns it. */
    public synchronized long rejoin(int computeNode, long lastEpoch) {
        check(computeNode);
        if (epochs[computeNode] != DEPARTED) {
            throw new IllegalStateException("compute node " + computeNode + " is still a member (epoch "
                    + epochs[computeNode] + ")");
        }
        epochs[computeNode] = lastEpoch + 1;
        version++;
        notifyAll();
        return epochs[computeNode];
    }

    private void check(int computeNode) {
        if (computeNode < 0 || computeNode >= epochs.length) {
            throw new IllegalArgumentException("no compute node " + computeNode + " in a cluster of " + epochs.length);
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
    public synchronized String toString() {
        return "members " + Arrays.toString(epochs) + " (version " + version + ")";
    }
}
