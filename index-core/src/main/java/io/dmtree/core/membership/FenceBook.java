package io.dmtree.core.membership;

import java.util.List;
import java.util.Set;

/**
 * The shared record of fences and recoveries of compute nodes: the hand-off between whoever sees a
 * compute node's lease lapse, the memory nodes that fence it, and the live compute node that
 * recovers what it held. Multi-process clusters keep it in the coordination service next to
 * membership; the embedded cluster keeps it in its own JVM.
 *
 * <h2>The protocol, per lapsed incarnation {@code x} (a compute node's {@link Member})</h2>
 * <ol>
 *   <li><b>Request.</b> Anyone who hears {@code x} lapse (a memory node, a compute node) calls
 *   {@link #requestFence}; the first call creates the request, later ones change nothing.</li>
 *   <li><b>Fence.</b> Every memory node hears every request ({@link #watch}, {@link #outstanding}),
 *   makes its carrier refuse every verb of {@code x}'s slot at epochs up to {@code x}'s, and only
 *   once no such verb can take effect any more calls {@link #acknowledgeFence}.</li>
 *   <li><b>Recover.</b> Once every memory node of the cluster acknowledged, a live compute node
 *   {@link #claimRecovery claims} the recovery (at most one holds the claim at a time; a claim
 *   ends with its holder's lease, so another may take over), repairs nodes, recovers locks and
 *   completes splits, then calls {@link #recovered}. Recovery is idempotent, so a recovery taken
 *   over after its holder died simply runs again.</li>
 *   <li><b>Done.</b> A recovered incarnation stays in the book as recovered; its slot may be used by a
 *   new incarnation only after that (a joining compute node waits for its slot's outstanding
 *   records to be recovered before it touches the index).</li>
 * </ol>
 *
 * <p>Invariants: a request is never withdrawn; an acknowledgement is given only after the fence
 * is in effect on that memory node; {@link #recovered} is called only after every memory node
 * acknowledged. Every method is thread-safe; calls to a remote service fail with
 * {@link MembershipException} after the membership's operation timeout.
 */
public interface FenceBook extends AutoCloseable {
    /** Records that {@code computeNode} lapsed and must be fenced (idempotent). */
    void requestFence(Member computeNode);

    /** Memory node {@code memoryNode} refuses every verb of {@code computeNode} from now on (idempotent). */
    void acknowledgeFence(int memoryNode, Member computeNode);

    /**
     * Tries to become the one member recovering {@code computeNode}: true if {@code self} now holds
     * the claim (or already did); false while another live member holds it or it is recovered.
     * The claim ends when {@code self}'s lease ends.
     */
    boolean claimRecovery(Lease self, Member computeNode);

    /** {@code computeNode} is recovered: nothing it held is left (idempotent). */
    void recovered(Member computeNode);

    /** Every record of the book, recovered or not, in epoch order. */
    List<FenceRecord> records();

    /** The records not recovered yet, in epoch order. */
    default List<FenceRecord> outstanding() {
        return records().stream().filter(r -> !r.recovered()).toList();
    }

    /** The record of {@code computeNode}, or null if nobody requested its fence. */
    default FenceRecord record(Member computeNode) {
        for (FenceRecord r : records()) {
            if (r.member().equals(computeNode)) {
                return r;
            }
        }
        return null;
    }

    /**
     * Calls {@code changed} after every change of the book (a request, an acknowledgement, a claim
     * ending, a recovery), at least once per change, possibly coalesced, and once at subscription;
     * it runs on a service thread and must not block. Closing the handle unsubscribes.
     */
    AutoCloseable watch(Runnable changed);

    /** Stops this handle's threads (the book itself stays). */
    @Override
    void close();

    /** One lapsed incarnation's record. */
    record FenceRecord(Member member, Set<Integer> fencedBy, boolean recovered) {
        public FenceRecord {
            fencedBy = Set.copyOf(fencedBy);
        }

        /** Every memory node {@code 0 .. memoryNodes-1} has fenced it. */
        public boolean fencedByAll(int memoryNodes) {
            for (int i = 0; i < memoryNodes; i++) {
                if (!fencedBy.contains(i)) {
                    return false;
                }
            }
            return true;
        }
    }
}
