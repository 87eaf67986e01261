package io.dmtree.core.membership;

import java.time.Duration;

/**
 * Settings every membership implementation reads.
 *
 * <p><b>Lease length, default {@value #DEFAULT_LEASE_MILLIS} ms.</b> A member's death is noticed one
 * lease after its last renewal, and nothing it held can be recovered before that, so the lease
 * bounds recovery time from below; a live member must, in turn, never lapse because of an ordinary
 * pause, so the lease must outlast those with margin: young-generation collections of the heaps
 * used here (a few ms), scheduler delays of a loaded 2-core host (about 10 ms), the coordination
 * service's own pauses. On ZooKeeper a lease is a session timeout: the client pings every third of
 * it and declares the connection lost after two thirds, the server expires sessions one tick late
 * at most, and will not grant less than two ticks. 60 ms gives pings every 20 ms, rides out a
 * 40 ms stall of either side without even a suspension, and with a 10 ms tick lapses a stopped
 * member 60 to 70 ms after its last ping: recovery in well under a tenth of a second at about 50
 * renewals per member per second, which a single ZooKeeper server serves for hundreds of members.
 * Hosts that pause longer (big heaps, overcommitted VMs) should raise it; an ensemble with the
 * stock 2 s tick raises it to its own minimum, 4 s.
 *
 * @param lease            how long a member stays live without a renewal
 * @param computeNodes     size of the compute-node id pool (ids {@code 0..computeNodes-1})
 * @param memoryNodes      size of the memory-node id pool
 * @param operationTimeout how long one call to the coordination service may take before it fails
 */
public record MembershipOptions(Duration lease, int computeNodes, int memoryNodes, Duration operationTimeout) {
    public static final long DEFAULT_LEASE_MILLIS = 60;
    public static final int DEFAULT_COMPUTE_NODES = 16;
    public static final int DEFAULT_MEMORY_NODES = 16;
    /** The largest pool of either kind. */
    public static final int MAX_POOL = 4096;
    public static final Duration DEFAULT_OPERATION_TIMEOUT = Duration.ofSeconds(10);

    public static final MembershipOptions DEFAULTS = new MembershipOptions(Duration.ofMillis(DEFAULT_LEASE_MILLIS),
            DEFAULT_COMPUTE_NODES, DEFAULT_MEMORY_NODES, DEFAULT_OPERATION_TIMEOUT);

    public MembershipOptions {
        if (lease == null || lease.toMillis() < 1 || lease.toMinutes() > 10) {
            throw new IllegalArgumentException("lease length " + lease + " is outside [1 ms, 10 min]");
        }
        checkPool("compute-node", computeNodes);
        checkPool("memory-node", memoryNodes);
        if (operationTimeout == null || operationTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("operation timeout " + operationTimeout + " is not positive");
        }
    }

    private static void checkPool(String what, int n) {
        if (n < 1 || n > MAX_POOL) {
            throw new IllegalArgumentException(what + " id pool of " + n + " is outside [1, " + MAX_POOL + "]");
        }
    }

    public MembershipOptions withLease(Duration lease) {
        return new MembershipOptions(lease, computeNodes, memoryNodes, operationTimeout);
    }

    public MembershipOptions withPools(int computeNodes, int memoryNodes) {
        return new MembershipOptions(lease, computeNodes, memoryNodes, operationTimeout);
    }

    public MembershipOptions withOperationTimeout(Duration operationTimeout) {
        return new MembershipOptions(lease, computeNodes, memoryNodes, operationTimeout);
    }

    public int poolSize(MemberKind kind) {
        return kind == MemberKind.COMPUTE_NODE ? computeNodes : memoryNodes;
    }
}
