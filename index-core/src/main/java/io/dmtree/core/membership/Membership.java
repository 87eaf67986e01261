package io.dmtree.core.membership;

import java.time.Duration;
import java.util.Map;

/**
 * Cluster membership: who is in the cluster (compute nodes and memory nodes, each in an id slot
 * with an epoch), each member's lease, the cluster configuration, and run barriers. Multi-process
 * clusters keep it in a coordination service (ZooKeeper); the embedded cluster keeps it in its own
 * JVM. One {@code Membership} is one process's connection to it; it may hold several leases.
 *
 * <h2>Members, epochs, ids</h2>
 * A member {@link #join joins} into a slot ({@link MemberId}: kind and id) and gets a {@link Lease}
 * whose {@link Member} carries the slot, an epoch and an endpoint. Ids come from a bounded pool per
 * kind ({@link MembershipOptions}, 16 compute nodes and 16 memory nodes by default): a join takes
 * the lowest free id or the one it asks for, and the id returns to the pool when the lease ends.
 * Epochs come from one counter per cluster that only grows: every join takes a larger epoch than
 * every earlier join, so an epoch names one incarnation, a slot's later incarnations have larger
 * epochs, and an epoch that lapsed is never live again. Epochs need not be consecutive (a join that
 * failed may have used one).
 *
 * <h2>Leases</h2>
 * A member is live while its lease is renewed; the implementation renews it while the holder runs
 * and reaches the service. A lease lapses once {@link #leaseLength()} passes without a renewal (the
 * service may take one of its ticks longer to notice). The holder's handle learns of its own lapse
 * ({@link Lease#state()}, {@link Lease#onEnd}); it may learn it later than the others did, since a
 * paused holder learns nothing until it runs again.
 *
 * <h2>What is atomic</h2>
 * <ul>
 * <li>A join is one step: a slot, an epoch and the endpoint appear together, or nothing does.
 * Two joins never hold one slot at once.</li>
 * <li>A lease's end is one step: its slot frees, the member leaves every view, and its barrier
 * arrivals of unreleased rounds are withdrawn, together.</li>
 * <li>A configuration update replaces the whole document and bumps the version by one, only if the
 * caller named the current version (compare and set).</li>
 * <li>A barrier round releases once, with one set of arrivals and lapsed parties that every waiter
 * of the round receives.</li>
 * </ul>
 *
 * <h2>What a watcher sees, and may miss</h2>
 * A {@link MembershipListener} first hears every member of the view at the time it {@link #watch
 * subscribed} as joined, then changes in the order the service made them. For every incarnation
 * it heard join, it hears the lapse exactly once, after the join; for one slot it hears the lapse of
 * epoch {@code e} before the join of any later epoch of that slot. While its connection to the
 * service holds, it misses nothing. Across a loss of that connection (ZooKeeper: a disconnect or a
 * new session) it may miss an incarnation that joined and lapsed entirely during the gap; it never
 * misses the lapse of one it heard join. So recovery that must find everything a dead member held
 * compares owner epochs in the shared state with {@link MembershipView#isLive}, and uses lapse
 * notices to know when to look.
 *
 * <h2>Views</h2>
 * {@link #view()} is this process's latest knowledge: it may lag the service, but it changes in the
 * order listeners hear, and a join made through this object is in its view when {@link #join}
 * returns.
 *
 * <h2>Barriers</h2>
 * A member {@link #arrive arrives} at a named barrier with a payload and waits until the round
 * releases: for {@link BarrierParties.Count}, when that many members of a kind arrived and are live;
 * for {@link BarrierParties.Members}, when each listed incarnation arrived or lapsed. Waits are
 * bounded: a round not released in time throws {@link BarrierTimeoutException} naming who arrived and
 * who is missing, and withdraws the caller's arrival. A name is reused round after round; a round's
 * arrivals must name equal parties. Payloads are at most {@value #MAX_BARRIER_PAYLOAD_BYTES} bytes
 * and a round's payloads at most {@value #MAX_BARRIER_ROUND_BYTES} in all; names are 1 to
 * {@value #MAX_BARRIER_NAME_BYTES} UTF-8 bytes.
 *
 * <p>Every method is thread-safe. Calls that talk to a remote service fail with {@link
 * MembershipException} after {@link MembershipOptions#operationTimeout()}; waits take their own
 * timeouts.
 */
public interface Membership extends AutoCloseable {
    /** Asks {@link #join} for the lowest free id of the pool. */
    int ANY_ID = -1;
    int MAX_BARRIER_NAME_BYTES = 128;
    int MAX_BARRIER_PAYLOAD_BYTES = 64 * 1024;
    int MAX_BARRIER_ROUND_BYTES = 768 * 1024;

    /** The settings this membership runs with. */
    MembershipOptions options();

    /** How long a member stays live without a renewal (as the service granted it). */
    Duration leaseLength();

    /**
     * Joins as a member of {@code kind}, in slot {@code wantedId} or ({@link #ANY_ID}) the lowest free
     * one, announcing {@code endpoint}. Waits up to {@code timeout} for the slot (a member that just
     * lapsed may still hold it until the service notices) or, for {@link #ANY_ID}, for a free id;
     * then throws {@link MembershipTimeoutException} naming the holder(s). An id outside the pool
     * throws {@link IllegalArgumentException}.
     */
    Lease join(MemberKind kind, int wantedId, String endpoint, Duration timeout) throws InterruptedException;

    /** The live members as this process knows them now. */
    MembershipView view();

    /**
     * Subscribes {@code listener} (see the class comment for what it hears); closing the returned
     * handle unsubscribes (no call starts after close returns, unless close is called from a
     * listener call).
     */
    AutoCloseable watch(MembershipListener listener);

    /** The current configuration, read from the service. */
    ClusterConfiguration configuration();

    /**
     * Replaces the configuration with {@code entries} if its version is still {@code expectedVersion};
     * returns the new document (version {@code expectedVersion + 1}), or throws {@link
     * ConfigurationConflictException} carrying the current one.
     */
    ClusterConfiguration updateConfiguration(long expectedVersion, Map<String, String> entries);

    /**
     * Waits up to {@code timeout} for a configuration newer than version {@code newerThan} and
     * returns it (intermediate versions may be skipped); throws {@link MembershipTimeoutException}.
     */
    ClusterConfiguration awaitConfiguration(long newerThan, Duration timeout) throws InterruptedException;

    /**
     * Arrives at barrier {@code name} as {@code self} with {@code payload} and waits up to {@code
     * timeout} for the round to release (see the class comment). Throws {@link
     * BarrierTimeoutException}, {@link LeaseLapsedException} if {@code self} lapses while waiting,
     * or {@link IllegalArgumentException} if {@code self} is not a party or the round's parties
     * differ.
     */
    BarrierRelease arrive(Lease self, String name, BarrierParties parties, byte[] payload, Duration timeout)
            throws InterruptedException;

    /** Closes every lease this object holds and stops its threads. */
    @Override
    void close();

    /** Checks a barrier name and payload against the limits. */
    static void checkBarrier(String name, byte[] payload) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("barrier name is empty");
        }
        int nb = name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (nb > MAX_BARRIER_NAME_BYTES) {
            throw new IllegalArgumentException("barrier name of " + nb + " bytes; at most " + MAX_BARRIER_NAME_BYTES);
        }
        if (payload == null) {
            throw new IllegalArgumentException("barrier payload is required (use an empty array for none)");
        }
        if (payload.length > MAX_BARRIER_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("barrier payload of " + payload.length + " bytes; at most "
                    + MAX_BARRIER_PAYLOAD_BYTES);
        }
    }

    /** Checks a wanted id against the pool of {@code kind}. */
    static void checkWantedId(MembershipOptions options, MemberKind kind, int wantedId) {
        int pool = options.poolSize(kind);
        if (wantedId != ANY_ID && (wantedId < 0 || wantedId >= pool)) {
            throw new IllegalArgumentException(kind.noun() + " id " + wantedId + " is outside the pool [0, " + pool + ")");
        }
    }
}
