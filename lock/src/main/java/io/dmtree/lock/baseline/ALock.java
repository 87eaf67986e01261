package io.dmtree.lock.baseline;

import io.dmtree.core.lock.HostMemory;
import io.dmtree.core.lock.HostMemoryContext;
import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

import static io.dmtree.lock.baseline.ALockLayout.*;

/**
 * {@code alock}: the asymmetric lock of ALock (Baran et al.): two MCS cohorts, local (threads on
 * the host of the lock's memory node, using CPU atomics on that memory) and remote (everyone else,
 * using RDMA verbs), joined by a two-party Peterson lock whose flags are the cohorts' tails.
 *
 * <ul>
 *   <li>Acquire: swap this thread's tag into its cohort's tail. With a predecessor, link behind
 *   it and wait for the lock to be passed; a pass either carries the remaining cohort budget (hold
 *   now) or says the budget is spent. Without a predecessor, or with the budget spent, take the
 *   Peterson lock: victim := own cohort, then wait until the other cohort's tail is zero or the
 *   victim is the other cohort (a remote leader polls both with one READ).</li>
 *   <li>Release: with a successor, pass the lock to it with budget - 1 (or "spent" at zero); else
 *   CAS the cohort tail from this thread back to zero (remote: after the write-back, same batch),
 *   and if that fails wait for the successor to link.</li>
 * </ul>
 * Invariants: a cohort's tail is non-zero from its first member's swap to its last member's
 * release, so it is a valid Peterson flag; at most one cohort holds the Peterson lock; within a
 * cohort the lock passes FIFO; a cohort passes at most {@code budget} times before re-running
 * Peterson, where the other cohort wins if it waits. Shared requests are treated as exclusive.
 * Without a {@link HostMemoryContext} every thread is remote.
 */
public final class ALock implements LockDesign {
    public static final String NAME = "alock";
    private final int budget;

    public ALock() {
        this(8);
    }

    public ALock(int budget) {
        if (budget < 1) {
            throw new IllegalArgumentException("cohort budget must be positive: " + budget);
        }
        this.budget = budget;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int lockBytes() {
        return BYTES;
    }

    @Override
    public LockClient newClient(LockContext context) {
        return new Client(context);
    }

    private final class Client implements LockClient {
        private final LockContext context;
        private final Verbs verbs;
        private final HostMemory host;
        private final int hostMn;
        private final McsQueueNodes nodes;
        private final ThreadLocal<VerbBatch> scratch = ThreadLocal.withInitial(VerbBatch::new);
        private final ThreadLocal<UnsafeBuffer> victim = ThreadLocal.withInitial(() -> {
            UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
            b.putLong(0, VICTIM_REMOTE, ByteOrder.nativeOrder());
            return b;
        });
        private final ThreadLocal<UnsafeBuffer> poll = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[16]));

        Client(LockContext context) {
            this.context = context;
            this.verbs = context.verbs();
            if (context instanceof HostMemoryContext h) {
                this.host = h.hostMemory();
                this.hostMn = h.hostMemoryNode();
            } else {
                this.host = null;
                this.hostMn = -1;
            }
            this.nodes = new McsQueueNodes(context);
        }

        private boolean isLocal(long lock) {
            return host != null && GlobalAddress.memoryNode(lock) == hostMn;
        }

        private long me() {
            return McsQueueNodes.tag(context.computeNode(), context.threads().current());
        }

        @Override
        public void acquire(long lock, LockMode mode) {
            boolean local = isLocal(lock);
            long me = me();
            McsQueueNode q = nodes.register(lock);
            q.local = local;
            long tail = GlobalAddress.plus(lock, local ? LOCAL_TAIL_OFFSET : REMOTE_TAIL_OFFSET);
            long predecessor = local ? swapLocal(tail, me) : RdmaMcsLock.swap(verbs, tail, me);
            if (predecessor != 0) {
                nodes.linkBehind(predecessor, lock, me);
                if (q.awaitGrant() == McsQueueNode.GRANTED) {
                    return;
                }
            }
            q.budget = budget;
            if (local) {
                peterson(lock);
            } else {
                petersonRemote(lock);
            }
        }

        private long swapLocal(long address, long value) {
            long expected = 0;
            while (true) {
                long found = host.compareAndSwap(address, expected, value);
                if (found == expected) {
                    return expected;
                }
                expected = found;
            }
        }

        private void peterson(long lock) {
            long victimAddress = GlobalAddress.plus(lock, VICTIM_OFFSET);
            long otherTail = GlobalAddress.plus(lock, REMOTE_TAIL_OFFSET);
            host.putVolatile(victimAddress, VICTIM_LOCAL);
            int spins = 0;
            while (host.getVolatile(otherTail) != 0 && host.getVolatile(victimAddress) == VICTIM_LOCAL) {
                if (++spins % 64 == 0) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
        }

        private void petersonRemote(long lock) {
            verbs.write(GlobalAddress.plus(lock, VICTIM_OFFSET), victim.get(), 0, 8);
            UnsafeBuffer b = poll.get();
            long pollAddress = GlobalAddress.plus(lock, LOCAL_TAIL_OFFSET);
            int polls = 0;
            while (true) {
                verbs.read(pollAddress, b, 0, 16);
                long otherTail = b.getLong(0, ByteOrder.nativeOrder());
                long v = b.getLong(8, ByteOrder.nativeOrder());
                if (otherTail == 0 || v != VICTIM_REMOTE) {
                    return;
                }
                if (++polls % 64 == 0) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
        }

        @Override
        public void release(long lock, LockMode mode, VerbBatch writeBack) {
            long me = me();
            McsQueueNode q = nodes.mine(lock);
            boolean local = q.local;
            long tail = GlobalAddress.plus(lock, local ? LOCAL_TAIL_OFFSET : REMOTE_TAIL_OFFSET);
            VerbBatch batch = writeBack;
            if (batch == null) {
                batch = scratch.get();
                batch.clear();
            }
            long next = q.next;
            if (next == 0) {
                if (local) {
                    if (!batch.isEmpty()) {
                        verbs.post(batch);
                    }
                    if (host.compareAndSwap(tail, me, 0) == me) {
                        nodes.unregister(lock);
                        return;
                    }
                } else {
                    int cas = batch.size();
                    batch.cas(tail, me, 0);
                    verbs.post(batch);
                    if (batch.result(cas) == me) {
                        nodes.unregister(lock);
                        return;
                    }
                }
                next = q.awaitNext();
            } else if (!batch.isEmpty()) {
                verbs.post(batch);
            }
            int left = q.budget - 1;
            nodes.unregister(lock);
            nodes.grant(next, lock, left > 0 ? McsQueueNode.GRANTED : McsQueueNode.REACQUIRE, Math.max(left, 0));
        }

        @Override
        public void close() {
            nodes.close();
        }
    }
}
