package io.dmtree.lock.baseline;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;

/**
 * {@code rdma-mcs}: the MCS queue lock over remote atomics. The MN holds only the queue's tail
 * (the tag of the last thread, zero when free); queue nodes live on the CNs.
 *
 * <ul>
 *   <li>Acquire: swap the tail to this thread's tag (RDMA has no swap: a CAS loop seeded with
 *   zero, each failure returning the tail to try next). A predecessor gets this thread's tag
 *   written into its node (a CN-to-CN message); the thread then waits on its own node.</li>
 *   <li>Release: with no successor linked yet, CAS the tail from this thread back to zero (after
 *   the caller's write-back, same batch); if that fails a successor is linking, so wait for it.
 *   Hand over by writing the grant into the successor's node: no MN verb.</li>
 * </ul>
 * Invariants: the queue order is the order of successful tail swaps (FIFO); a thread holds iff
 * its swap found zero or its node was granted; shared requests are treated as exclusive.
 */
public final class RdmaMcsLock implements LockDesign {
    public static final String NAME = "rdma-mcs";

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

    private static final class Client implements LockClient {
        private final LockContext context;
        private final Verbs verbs;
        private final McsQueueNodes nodes;
        private final ThreadLocal<VerbBatch> scratch = ThreadLocal.withInitial(VerbBatch::new);

        Client(LockContext context) {
            this.context = context;
            this.verbs = context.verbs();
            this.nodes = new McsQueueNodes(context);
        }

        private long me() {
            return McsQueueNodes.tag(context.computeNode(), context.threads().current());
        }

        @Override
        public void acquire(long lock, LockMode mode) {
            long me = me();
            McsQueueNode q = nodes.register(lock);
            long predecessor = swap(verbs, lock, me);
            if (predecessor != 0) {
                nodes.linkBehind(predecessor, lock, me);
                q.awaitGrant();
            }
        }

        @Override
        public void release(long lock, LockMode mode, VerbBatch writeBack) {
            long me = me();
            McsQueueNode q = nodes.mine(lock);
            VerbBatch batch = writeBack;
            if (batch == null) {
                batch = scratch.get();
                batch.clear();
            }
            long next = q.next;
            if (next == 0) {
                int cas = batch.size();
                batch.cas(lock, me, 0);
                verbs.post(batch);
                if (batch.result(cas) == me) {
                    nodes.unregister(lock);
                    return;
                }
                next = q.awaitNext();
            } else if (!batch.isEmpty()) {
                verbs.post(batch);
            }
            nodes.unregister(lock);
            nodes.grant(next, lock, McsQueueNode.GRANTED, 0);
        }

        @Override
        public void close() {
            nodes.close();
        }
    }
}
