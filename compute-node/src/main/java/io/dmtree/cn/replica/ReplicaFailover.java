package io.dmtree.cn.replica;

import java.util.List;
import java.util.function.BiConsumer;

/**
 * Failover of replicated regions, run once membership has seen a memory node's session end (in
 * one JVM: when it is killed). In this order, as the spin model {@code replica_failover.pml}
 * checks:
 * <ol>
 *   <li>the lost memory node serves nothing more; the placement of the next epoch drops it, and if
 *   it was its region's primary the first mirror is promoted ({@link ReplicaPlacement#withoutReplica});</li>
 *   <li>every memory node of the new placement raises its epoch gate to the next epoch: no verb of
 *   the older epoch is in flight there or applied there afterwards (a deposed primary's compute
 *   nodes can no longer write through it);</li>
 *   <li>every region's primary has its lock table rebuilt: every lock free. Operations bracket
 *   their verbs in one epoch, so every operation of the older epoch is refused at its next verb
 *   and retries; the locks it held (on the lost primary, or on a primary that stays) are void;</li>
 *   <li>only then is the placement published to every compute node.</li>
 * </ol>
 * A failover thus makes every in-flight operation of the cluster retry, not only those of the
 * failed region: simple, and correct for lock words that live on the memory nodes alone (lock
 * designs with compute-node state, such as {@code modular}'s cohorts, need that state dropped too).
 * Failovers are serialised; one that would remove a region's last replica throws (its data is lost).
 */
public final class ReplicaFailover {
    private final ReplicaGate gate;
    private final List<ReplicatingVerbs> computeNodes;
    private final BiConsumer<Integer, Long> freeLockTable;
    private ReplicaPlacement placement;

    /**
     * @param gate          the memory nodes' epoch gates
     * @param placement     the current placement
     * @param computeNodes  every compute node's replicating verbs, to publish to
     * @param freeLockTable zeroes the lock table of the given memory node (gated already, so nothing races it)
     */
    public ReplicaFailover(ReplicaGate gate, ReplicaPlacement placement, List<ReplicatingVerbs> computeNodes,
                           BiConsumer<Integer, Long> freeLockTable) {
        this.gate = gate;
        this.placement = placement;
        this.computeNodes = List.copyOf(computeNodes);
        this.freeLockTable = freeLockTable;
    }

    public synchronized ReplicaPlacement placement() {
        return placement;
    }

    /** Memory node {@code mn} is lost: fails its region over; returns the published placement. */
    public synchronized ReplicaPlacement memoryNodeLost(int mn) {
        ReplicaPlacement old = placement;
        int region = old.regionOf(mn);
        if (region < 0) {
            return old; // already removed by an earlier failover
        }
        ReplicaPlacement next = old.withoutReplica(mn);
        gate.kill(mn); // it serves nothing more (its lease ended), whether crashed or only cut off
        for (int r = 0; r < next.regions(); r++) {
            for (int k = 0; k < next.replicaCount(r); k++) {
                gate.raise(next.replica(r, k), next.epoch());
            }
        }
        for (int r = 0; r < next.regions(); r++) {
            freeLockTable.accept(next.primary(r), next.epoch());
        }
        placement = next;
        for (ReplicatingVerbs cn : computeNodes) {
            cn.switchTo(next);
        }
        return next;
    }
}
