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
 * <p><b>Process clusters, default {@value #DEFAULT_PROCESS_LEASE_MILLIS} ms.</b> Clusters of
 * separate processes ({@code dmtree mn}, which writes the length into the cluster configuration)
 * default to a longer lease, measured on the 2-core hosts this project is built and tested on:
 * with 60 ms, compute nodes lapsed while alive at start-up and under load (JIT, class loading,
 * six JVMs on two cores), and were fenced; with 1 s, one run in eight lapsed a live member, whose
 * ZooKeeper client logged not having heard from the server for 1.1 s (two processes' client
 * threads woke 430 ms late at the same moment, a host-wide scheduling stall) and then waited
 * ZooKeeper's own random 0 to 1 s before reconnecting, past the session's end. 2 s covers a stall
 * of that size plus the reconnect delay; a compute node that dies is then recovered about 2 s
 * after it stopped renewing, at 1.4 renewals per member per second. {@code --lease 60ms} is for
 * quiet hosts that want recovery within a tenth of a second.
 *
 * @param lease            how long a member stays live without a renewal
 * @param computeNodes     size of the compute-node id pool (ids {@code 0..computeNodes-1})
 * @param memoryNodes      size of the memory-node id pool
 * @param operationTimeout how long one call to the coordination service may take before it fails
 */
public record MembershipOptions(Duration lease, int computeNodes, int memoryNodes, Duration operationTimeout) {
    public static final long DEFAULT_LEASE_MILLIS = 60;
    /** The lease of multi-process clusters unless {@code dmtree mn --lease} says otherwise. */
    public static final long DEFAULT_PROCESS_LEASE_MILLIS = 2000;
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
