package io.dmtree.core.lock;

import java.util.concurrent.locks.LockSupport;

/**
 * What a lock client learns about the membership of compute nodes: whether compute node
 * {@code n} is still a member (at which epoch), and a way to wait until that changes. Lock
 * designs consult it whenever a wait has heard nothing for a bound, and their recovery
 * ({@link LockDesign#recover}) relies on it.
 *
 * <p>The contract the membership layer keeps with the lock layer:
 * <ul>
 *   <li>a compute node is reported departed ({@link #DEPARTED}) only once it is <b>fenced</b>:
 *   every memory node refuses its verbs, so no verb it issues takes effect after that point (a
 *   batch it posted may have taken effect up to any of its requests);</li>
 *   <li>once departed, a compute node id stays departed until {@link LockDesign#recover} for it
 *   has returned on some member; only then may a new incarnation join under that id, with a
 *   larger epoch;</li>
 *   <li>{@link #version()} grows at every change (a join or a departure).</li>
 * </ul>
 * Implementations are thread-safe and cheap to call: every wait of every lock design calls them.
 */
public interface MemberLiveness {
    /** The epoch of a compute node that is not a member. */
    long DEPARTED = -1;

    /** The epoch of compute node {@code computeNode} while it is a member, else {@link #DEPARTED}. */
    long epoch(int computeNode);

    default boolean isMember(int computeNode) {
        return epoch(computeNode) != DEPARTED;
    }

    /** A number that grows at every change of membership. */
    long version();

    /**
     * Waits until {@link #version()} differs from {@code seenVersion} or {@code timeoutNanos}
     * pass, whichever is first; returns the version then. Returns early when interrupted (the
     * interrupt stays set).
     */
    long awaitChange(long seenVersion, long timeoutNanos);

    /** Everyone is a member at epoch 0, forever: the view of a cluster without failure detection. */
    MemberLiveness EVERYONE_LIVE = new MemberLiveness() {
        @Override
        public long epoch(int computeNode) {
            return 0;
        }

        @Override
        public long version() {
            return 0;
        }

        @Override
        public long awaitChange(long seenVersion, long timeoutNanos) {
            if (seenVersion == 0) {
                LockSupport.parkNanos(this, timeoutNanos);
            }
            return 0;
        }

        @Override
        public String toString() {
            return "everyone live";
        }
    };
}
