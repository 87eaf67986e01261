package io.dmtree.lock.baseline;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import io.dmtree.lock.recovery.DrainProtocol;
import io.dmtree.lock.recovery.Quiescence;
import io.dmtree.lock.recovery.WaitPolicy;
import io.dmtree.lock.recovery.WaitWatch;

/**
 * {@code rdma-mcs}: the MCS queue lock over remote atomics. The MN holds only the queue's tail
 * (the {@link McsTag} of the last thread's node, zero when free); queue nodes live on the CNs.
 *
 * <ul>
 *   <li>Acquire: swap the tail to this node's tag (RDMA has no swap: a CAS loop seeded with
 *   zero, each failure returning the tail to try next). A predecessor gets this node's tag
 *   written into its node (a CN-to-CN message); the thread then waits on its own node.</li>
 *   <li>Release: with no successor linked yet, CAS the tail from this node back to zero (after
 *   the caller's write-back, same batch); if that fails a successor is linking, so wait for it.
 *   Hand over by writing the grant into the successor's node: no MN verb.</li>
 * </ul>
 * Invariants: the queue order is the order of successful tail swaps (FIFO); a thread holds iff
 * its swap found zero or its node was granted; shared requests are treated as exclusive; a grant
 * or link reaches only the node whose tag it names.
 *
 * <h2>Recovery: queue repair by drain and rebuild</h2>
 * A departed member's nodes held the links of the queue around them: who follows a departed node
 * is known only to that follower, who precedes it only to the predecessor if the link message went
 * out, and nobody alive knows the order of two departed nodes next to each other. So the repair
 * rebuilds instead of splicing: every live member drains ({@link DrainProtocol}: waiters leave
 * their nodes, a releaser stops waiting for a successor, nobody starts an operation; holds stay),
 * each non-zero tail is reset to zero, each live hold puts a fresh tag of its own back into its
 * lock's tail (a queue of one, {@link McsQueueNodes#reinstate}), and the waiters queue again from
 * the start on resume. Grants and links sent to nodes that left, or to a hold's old tag, are
 * dropped by their tag. Every wait consults membership at the {@link WaitPolicy}
 * bound; grants to a departed member are dropped rather than failing the release.
 */
public final class RdmaMcsLock implements LockDesign {
    public static final String NAME = "rdma-mcs";
    private final WaitPolicy policy;

    public RdmaMcsLock() {
        this(WaitPolicy.defaults());
    }

    public RdmaMcsLock(WaitPolicy policy) {
        this.policy = policy;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int lockBytes() {
        return Long.BYTES;
    }

    @Override
    public LockClient newClient(LockContext context) {
        return new Client(context);
    }

    @Override
    public RecoveryReport recover(RecoveryContext context, int lapsedComputeNode) {
        if (!(context.client() instanceof Client c)) {
            throw new IllegalArgumentException("recovery of " + NAME + " needs a client of " + NAME + ", got "
                    + context.client());
        }
        return McsDrainReset.recover(NAME, c.drain, c.context, context, lapsedComputeNode, lockBytes());
    }

    /** RDMA swap: CAS until it takes; returns the previous tail. */
    static long swap(Verbs verbs, long address, long value) {
        long expected = 0;
        while (true) {
            long found = verbs.cas(address, expected, value);
            if (found == expected) {
                return expected;
            }
            expected = found;
        }
    }

    private final class Client implements LockClient {
        private final LockContext context;
        private final Verbs verbs;
        private final Quiescence quiescence;
        private final DrainProtocol drain;
        private final McsQueueNodes nodes;
        private final ThreadLocal<VerbBatch> scratch = ThreadLocal.withInitial(VerbBatch::new);
        private final ThreadLocal<WaitWatch> watches;

        Client(LockContext context) {
            this.context = context;
            this.verbs = context.verbs();
            this.quiescence = new Quiescence(context.threads().capacity());
            this.drain = new DrainProtocol(context, quiescence, this::reinstate);
            this.nodes = new McsQueueNodes(context, drain);
            this.watches = ThreadLocal.withInitial(() -> new WaitWatch(context.liveness(), context.computeNode(), policy));
        }

        /** A drain's reinstatement: each hold's fresh tag into its lock's reset tail. */
        private void reinstate(long generation) {
            nodes.reinstate(generation, (lock, hold) -> swap(verbs, lock, hold.tag));
        }

        @Override
        public void acquire(long lock, LockMode mode) {
            int thread = context.threads().current();
            WaitWatch watch = watches.get();
            while (true) {
                long epoch = quiescence.enter(thread, watch);
                McsQueueNode q = null;
                boolean held = false;
                try {
                    q = nodes.register(lock);
                    long predecessor = swap(verbs, lock, q.tag);
                    if (predecessor == 0) {
                        held = true;
                    } else {
                        nodes.linkBehind(predecessor, lock, q.tag);
                        held = q.awaitGrant(quiescence, epoch, watch) == McsQueueNode.GRANTED;
                    }
                } finally {
                    if (!held && q != null) {
                        nodes.unregister(lock, q);
                    }
                    quiescence.exit(thread);
                }
                if (held) {
                    return;
                }
                // a drain began: the queue is rebuilt, queue again after the thaw
            }
        }

        @Override
        public void release(long lock, LockMode mode, VerbBatch writeBack) {
            int thread = context.threads().current();
            quiescence.enter(thread, watches.get()); // while frozen the hold stays, and is reinstated
            try {
                McsQueueNode q = nodes.mine(lock);
                VerbBatch batch = writeBack;
                if (batch == null) {
                    batch = scratch.get();
                    batch.clear();
                }
                long next = q.next;
                if (next == 0) {
                    int cas = batch.size();
                    batch.cas(lock, q.tag, 0);
                    verbs.post(batch);
                    if (batch.result(cas) == q.tag) {
                        nodes.unregister(lock, q);
                        return;
                    }
                    next = q.awaitNext(quiescence, watches.get());
                    if (next == 0) {
                        nodes.unregister(lock, q); // frozen: the reset clears the tail
                        return;
                    }
                } else if (!batch.isEmpty()) {
                    verbs.post(batch);
                }
                nodes.unregister(lock, q);
                nodes.grant(next, lock, McsQueueNode.GRANTED, 0);
            } finally {
                quiescence.exit(thread);
            }
        }

        @Override
        public void close() {
            drain.close();
            nodes.close();
        }
    }
}
