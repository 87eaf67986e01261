package io.dmtree.cn.replica;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounters;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.memory.VerbKind;
import io.dmtree.core.memory.Verbs;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.concurrent.atomic.LongAdder;

/**
 * Synchronous mirroring of every region over any carrier: a decorator a compute node puts over its
 * carrier's verbs. The tree and the locks address regions (the memory-node field of a
 * {@link GlobalAddress}); a {@link ReplicaPlacement} from the cluster configuration maps each
 * region to a primary and R-1 mirrors, memory-node processes holding the region at the same
 * offsets. The inner verbs address those processes.
 *
 * <h2>Protocol</h2>
 * A region's bytes are of three kinds, by offset:
 * <ul>
 *   <li><b>lock table</b> ({@code [lockTableOffset, lockTableOffset + lockTableBytes)}): every verb
 *   goes to the primary only. Lock words and waiter queues are decided there and never mirrored;
 *   a promoted mirror's lock table is rebuilt empty (every lock free) in the new epoch.</li>
 *   <li><b>header words</b> (offsets below {@link RegionLayout#HEADER_BYTES}: the root pointer, the
 *   index state, the redo directory): atomics are decided on the primary; when one changed the
 *   word, its effect reaches every mirror before the verb returns, by a CAS on the mirror from the
 *   primary's word before to its word after; if that CAS finds another value (a concurrent change
 *   has not reached the mirror yet, or overtook it) the mirror is synchronised by reading the
 *   mirror's word m, then the primary's word p, and CAS m to p, until the mirror holds p. Because
 *   p is read after m, p is never older than m, so a mirror's word only moves forward; this needs
 *   a word's values not to recur (root pointers name nodes, which are never reused; the index
 *   state only grows). WRITEs are mirrored as in the chunk area.</li>
 *   <li><b>chunk area</b> (tree nodes, redo blocks): a READ goes to the primary; a WRITE goes to
 *   every replica, the copies posted together in one batch of the inner verbs, so mirroring adds
 *   no sequential round trip per replica (the carriers send every memory node's frame before
 *   awaiting any reply); it returns when every replica applied it.</li>
 * </ul>
 * A batch keeps its order on every replica. It is posted in at most two rounds: the first holds
 * its requests up to the first <i>ordering verb</i> (an atomic, or any lock-table verb) that
 * follows a mirrored WRITE, with that WRITE's mirror copies; the second holds the rest. So
 * "write the node, then release its lock" releases only once every replica has the node: were the
 * release posted with the writes, the next holder's mirror write could land before this one's, and
 * a mirror would end older than an acknowledged write (the model's seeded bug
 * {@code RELEASE_WITH_WRITES} shows the interleaving). Mirroring thus costs one sequential round
 * per write-back whatever R is, and R-1 more memory-node round trips in parallel.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>When a WRITE (or a batch) returns, every replica of its placement applied it: an operation
 *   is acknowledged only when all replicas have it.</li>
 *   <li>A lock of the primary is released only after every replica holds what was written under it,
 *   so in each epoch every replica applies the writes to one node in lock order: a mirror is the
 *   primary's chunk area as of some moment, minus writes not yet acknowledged.</li>
 *   <li>A mirror's header word is a value the primary's word held, and moves only forward.</li>
 *   <li>A verb whose region's placement changed while it was in flight is refused with
 *   {@link StaleReplicaEpochException}: a deposed primary's late reply is never taken.</li>
 * </ol>
 *
 * <h2>Failover</h2>
 * When membership reports a memory node's session ended, the failover ({@link ReplicaFailover})
 * raises the epoch gate of every memory node left to the next epoch (they refuse every verb of an
 * older one from then on, and none admitted earlier is still in flight), rebuilds every primary's
 * lock table free, and only then publishes the placement with the epoch one larger, the first
 * mirror promoted if the primary was lost ({@link ReplicaPlacement#withoutReplica}). Every compute
 * node switches ({@link #switchTo}); an index operation is bracketed by {@link #beginOperation},
 * so any of its verbs issued after the switch is refused before it is sent, and the operation
 * (whose locks are void now) is retried from its first verb; an update's
 * retry writes the same value again, so retrying is safe. Each verb carries the epoch it is issued
 * in ({@link #issuingEpoch}) for the memory node's gate ({@link GatedVerbs} in one JVM). The same
 * protocol is what the spin model
 * {@code compute-node/src/test/spin/replica_failover.pml} checks, with seeded bugs for a missing
 * epoch gate, a deposed primary that still answers, and a release posted with the writes.
 *
 * <p>Thread-safe; each thread reuses its own scratch batch, so a call allocates nothing once that
 * batch has grown to the largest batch seen.
 */
public final class ReplicatingVerbs implements Verbs {
    /** Bounds of a header word's mirror synchronisation under concurrent changes. */
    static final int SYNC_ATTEMPTS = 10_000;
    static final long SYNC_NANOS = 5_000_000_000L;

    private final Verbs inner;
    private final long lockTableStart;
    private final long lockTableEnd;
    private volatile ReplicaPlacement placement;
    private final LongAdder rounds = new LongAdder();
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        final VerbBatch physical = new VerbBatch();
        int[] primaryIndex = new int[16];
        /** Epoch the thread's current operation began in; 0: no operation bracket. */
        long operationEpoch;
        /** Epoch of the verb the thread is issuing (what a verb frame would carry). */
        long issuing;
    }

    /**
     * @param inner          the carrier's verbs to every memory-node process of the placement
     *                       (ideally counted: {@link io.dmtree.core.memory.CountingVerbs})
     * @param placement      the placement of the current configuration epoch
     * @param lockTableOffset offset of the lock table in every region
     * @param lockTableBytes bytes of the lock table
     */
    public ReplicatingVerbs(Verbs inner, ReplicaPlacement placement, long lockTableOffset, long lockTableBytes) {
        if (placement.memoryNodeBound() > inner.memoryNodeCount()) {
            throw new IllegalArgumentException("the placement " + placement + " names memory node "
                    + (placement.memoryNodeBound() - 1) + " but the carrier reaches " + inner.memoryNodeCount());
        }
        if (lockTableOffset < RegionLayout.HEADER_BYTES || lockTableBytes < 0) {
            throw new IllegalArgumentException("lock table [" + lockTableOffset + ", +" + lockTableBytes
                    + ") must lie above the region header");
        }
        this.inner = inner;
        this.placement = placement;
        this.lockTableStart = lockTableOffset;
        this.lockTableEnd = lockTableOffset + lockTableBytes;
    }

    public ReplicaPlacement placement() {
        return placement;
    }

    /**
     * Brackets one index operation on this thread: from here until {@link #endOperation}, any verb
     * issued after the placement changed throws {@link StaleReplicaEpochException} without being
     * sent, so an operation begun in one epoch (and the locks it took there) never acts in the
     * next; the operation then retries from its first verb.
     */
    public long beginOperation() {
        long epoch = placement.epoch();
        scratch.get().operationEpoch = epoch;
        return epoch;
    }

    public void endOperation() {
        scratch.get().operationEpoch = 0;
    }

    /** The epoch of the verb this thread is issuing: what the memory node's epoch gate checks. */
    public long issuingEpoch() {
        return scratch.get().issuing;
    }

    /**
     * Waits until the placement's epoch is above {@code epoch} (a failover published it), at most
     * {@code timeoutNanos}; true if it is.
     */
    public synchronized boolean awaitEpochAbove(long epoch, long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (placement.epoch() <= epoch) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    /** Switches to a newer placement (a failover); verbs in flight under the older one are refused. */
    public synchronized void switchTo(ReplicaPlacement next) {
        if (next.epoch() <= placement.epoch()) {
            throw new IllegalArgumentException("placement epoch " + next.epoch() + " is not newer than "
                    + placement.epoch());
        }
        if (next.regions() != placement.regions()) {
            throw new IllegalArgumentException("a failover keeps the regions: " + placement.regions() + " became "
                    + next.regions());
        }
        placement = next;
        notifyAll();
    }

    /** The carrier's verbs underneath, addressing memory-node processes. */
    public Verbs replicaVerbs() {
        return inner;
    }

    /** Sequential rounds of inner verbs posted so far: the latency-critical count. */
    public long rounds() {
        return rounds.sum();
    }

    /** The placement this thread's next verb goes out under; refuses it if its operation began earlier. */
    private ReplicaPlacement issue(Scratch s) {
        ReplicaPlacement p = placement;
        if (s.operationEpoch != 0 && s.operationEpoch != p.epoch()) {
            throw new StaleReplicaEpochException(s.operationEpoch, p.epoch(), -1);
        }
        s.issuing = p.epoch();
        return p;
    }

    private boolean primaryOnly(long offset) {
        return offset >= lockTableStart && offset < lockTableEnd;
    }

    private static long on(int mn, long address) {
        return GlobalAddress.of(mn, GlobalAddress.offset(address));
    }

    private void checkEpoch(ReplicaPlacement issued, long address) {
        ReplicaPlacement now = placement;
        if (now != issued) {
            int region = GlobalAddress.memoryNode(address);
            if (now.primary(region) != issued.primary(region) || now.replicaCount(region) != issued.replicaCount(region)) {
                throw new StaleReplicaEpochException(issued.epoch(), now.epoch(), region);
            }
        }
    }

    @Override
    public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        ReplicaPlacement p = issue(scratch.get());
        inner.read(on(p.primary(GlobalAddress.memoryNode(address)), address), dst, dstOffset, length);
        rounds.increment();
        checkEpoch(p, address);
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        Scratch s = scratch.get();
        ReplicaPlacement p = issue(s);
        int region = GlobalAddress.memoryNode(address);
        if (primaryOnly(GlobalAddress.offset(address)) || p.replicaCount(region) == 1) {
            inner.write(on(p.primary(region), address), src, srcOffset, length);
        } else {
            VerbBatch b = s.physical;
            b.clear();
            try {
                for (int k = p.replicaCount(region) - 1; k >= 0; k--) {
                    b.write(on(p.replica(region, k), address), src, srcOffset, length);
                }
                inner.post(b);
            } finally {
                b.clear();
            }
        }
        rounds.increment();
        checkEpoch(p, address);
    }

    @Override
    public long cas(long address, long expected, long desired) {
        ReplicaPlacement p = issue(scratch.get());
        int region = GlobalAddress.memoryNode(address);
        long found = inner.cas(on(p.primary(region), address), expected, desired);
        rounds.increment();
        if (found == expected && expected != desired) {
            mirrorAtomic(p, address, expected, desired);
        }
        checkEpoch(p, address);
        return found;
    }

    @Override
    public long faa(long address, long delta) {
        ReplicaPlacement p = issue(scratch.get());
        int region = GlobalAddress.memoryNode(address);
        long before = inner.faa(on(p.primary(region), address), delta);
        rounds.increment();
        if (delta != 0) {
            mirrorAtomic(p, address, before, before + delta);
        }
        checkEpoch(p, address);
        return before;
    }

    /** Brings a header word's change to every mirror (lock-table words are never mirrored). */
    private void mirrorAtomic(ReplicaPlacement p, long address, long before, long after) {
        int region = GlobalAddress.memoryNode(address);
        if (primaryOnly(GlobalAddress.offset(address)) || p.replicaCount(region) == 1) {
            return;
        }
        long primary = on(p.primary(region), address);
        for (int k = 1; k < p.replicaCount(region); k++) {
            long mirror = on(p.replica(region, k), address);
            rounds.increment();
            if (inner.cas(mirror, before, after) == before) {
                continue;
            }
            long deadline = System.nanoTime() + SYNC_NANOS;
            for (int attempt = 0; ; attempt++) {
                // read the mirror before the primary: the primary's word is then never the older
                long m = inner.faa(mirror, 0);
                long now = inner.faa(primary, 0);
                rounds.add(2);
                if (m == now) {
                    break;
                }
                rounds.increment();
                if (inner.cas(mirror, m, now) == m) {
                    break;
                }
                if (attempt >= SYNC_ATTEMPTS || System.nanoTime() > deadline) {
                    throw new IllegalStateException("the mirror " + p.replica(region, k) + " of region " + region
                            + " did not take the word at " + GlobalAddress.toString(address) + " after " + attempt
                            + " attempts: changes to it do not settle");
                }
                Thread.onSpinWait();
            }
        }
    }

    @Override
    public void post(VerbBatch batch) {
        int n = batch.size();
        if (n == 0) {
            return;
        }
        Scratch s = scratch.get();
        ReplicaPlacement p = issue(s);
        if (s.primaryIndex.length < n) {
            s.primaryIndex = new int[Math.max(n, 2 * s.primaryIndex.length)];
        }
        int start = 0;
        while (start < n) {
            int end = roundEnd(p, batch, start);
            postRound(p, batch, start, end, s);
            start = end;
        }
        for (int i = 0; i < n; i++) {
            VerbKind kind = batch.kind(i);
            if (kind == VerbKind.CAS) {
                if (batch.result(i) == batch.operand1(i) && batch.operand1(i) != batch.operand2(i)) {
                    mirrorAtomic(p, batch.address(i), batch.operand1(i), batch.operand2(i));
                }
            } else if (kind == VerbKind.FAA && batch.operand1(i) != 0) {
                mirrorAtomic(p, batch.address(i), batch.result(i), batch.result(i) + batch.operand1(i));
            }
        }
        checkEpochs(p, batch);
    }

    private void checkEpochs(ReplicaPlacement p, VerbBatch batch) {
        if (placement != p) {
            for (int i = 0; i < batch.size(); i++) {
                checkEpoch(p, batch.address(i));
            }
        }
    }

    private boolean mirrored(ReplicaPlacement p, VerbBatch batch, int i) {
        long a = batch.address(i);
        return batch.kind(i) == VerbKind.WRITE && !primaryOnly(GlobalAddress.offset(a))
                && p.replicaCount(GlobalAddress.memoryNode(a)) > 1;
    }

    private boolean ordering(VerbBatch batch, int i) {
        VerbKind k = batch.kind(i);
        return k == VerbKind.CAS || k == VerbKind.FAA || primaryOnly(GlobalAddress.offset(batch.address(i)));
    }

    /** End (exclusive) of the round from {@code start}: the first ordering verb after a mirrored write. */
    private int roundEnd(ReplicaPlacement p, VerbBatch batch, int start) {
        boolean wroteMirrored = false;
        for (int i = start; i < batch.size(); i++) {
            if (wroteMirrored && ordering(batch, i)) {
                return i;
            }
            wroteMirrored |= mirrored(p, batch, i);
        }
        return batch.size();
    }

    private void postRound(ReplicaPlacement p, VerbBatch batch, int start, int end, Scratch s) {
        VerbBatch b = s.physical;
        b.clear();
        try {
            for (int i = start; i < end; i++) {
                long a = batch.address(i);
                int region = GlobalAddress.memoryNode(a);
                if (mirrored(p, batch, i)) {
                    for (int k = p.replicaCount(region) - 1; k >= 1; k--) {
                        b.write(on(p.replica(region, k), a), batch.writeBuffer(i), batch.bufferOffset(i), batch.length(i));
                    }
                }
                long on = on(p.primary(region), a);
                s.primaryIndex[i] = b.size();
                switch (batch.kind(i)) {
                    case READ -> b.read(on, batch.readBuffer(i), batch.bufferOffset(i), batch.length(i));
                    case WRITE -> b.write(on, batch.writeBuffer(i), batch.bufferOffset(i), batch.length(i));
                    case CAS -> b.cas(on, batch.operand1(i), batch.operand2(i));
                    case FAA -> b.faa(on, batch.operand1(i));
                    default -> throw new IllegalStateException("unknown verb " + batch.kind(i));
                }
            }
            inner.post(b);
            rounds.increment();
            for (int i = start; i < end; i++) {
                VerbKind k = batch.kind(i);
                if (k == VerbKind.CAS || k == VerbKind.FAA) {
                    batch.setResult(i, b.result(s.primaryIndex[i]));
                }
            }
        } finally {
            b.clear();
        }
    }

    /** Regions the tree addresses. */
    @Override
    public int memoryNodeCount() {
        return placement.regions();
    }

    /** The counters of the region's current primary (the carrier's counters by memory-node process). */
    @Override
    public VerbCounters counters(int region) {
        return inner.counters(placement.primary(region));
    }

    /** Traffic to every memory-node process, mirrors included. */
    @Override
    public VerbCounts totalCounts() {
        return inner.totalCounts();
    }

    /** Zeroes the carrier's counters of every memory-node process and the round count. */
    public void resetCounters() {
        for (int mn = 0; mn < inner.memoryNodeCount(); mn++) {
            inner.counters(mn).reset();
        }
        rounds.reset();
    }

    @Override
    public void close() {
        inner.close();
    }
}
