package io.dmtree.lock.baseline;

import io.dmtree.core.lock.HostMemory;
import io.dmtree.core.lock.HostMemoryContext;
import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import io.dmtree.lock.recovery.DrainProtocol;
import io.dmtree.lock.recovery.Quiescence;
import io.dmtree.lock.recovery.WaitPolicy;
import io.dmtree.lock.recovery.WaitWatch;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

import static io.dmtree.lock.baseline.ALockLayout.*;

/**
 * {@code alock}: the asymmetric lock of ALock (Baran et al.): two MCS cohorts, local (threads on
 * the host of the lock's memory node, using CPU atomics on that memory) and remote (everyone else,
 * using RDMA verbs), joined by a two-party Peterson lock whose flags are the cohorts' tails.
 *
 * <ul>
 *   <li>Acquire: swap this node's tag ({@link McsTag}) into its cohort's tail. With a predecessor,
 *   link behind it and wait for the lock to be passed; a pass either carries the remaining cohort
 *   budget (hold now) or says the budget is spent. Without a predecessor, or with the budget spent,
 *   take the Peterson lock: victim := own cohort, then wait until the other cohort's tail is zero
 *   or the victim is the other cohort (a remote leader polls both with one READ).</li>
 *   <li>Release: with a successor, pass the lock to it with budget - 1 (or "spent" at zero); else
 *   CAS the cohort tail from this node back to zero (remote: after the write-back, same batch),
 *   and if that fails wait for the successor to link.</li>
 * </ul>
 * Invariants: a cohort's tail is non-zero from its first member's swap to its last member's
 * release, so it is a valid Peterson flag; at most one cohort holds the Peterson lock; within a
 * cohort the lock passes FIFO; a cohort passes at most {@code budget} times before re-running
 * Peterson, where the other cohort wins if it waits. Shared requests are treated as exclusive.
 * Without a {@link HostMemoryContext} every thread is remote.
 *
 * <p>Recovery: as {@link RdmaMcsLock}, by drain and rebuild ({@link DrainProtocol}): the
 * departed member's nodes may sit in either cohort and may hold the Peterson lock, so after every
 * live member has drained the two tails and the victim are reset to zero, and each live hold puts
 * a fresh tag of its own into its cohort's tail (its cohort holds the Peterson lock again: the
 * other cohort's leader waits for that tail, whatever the victim says). Every wait (queue, link,
 * Peterson) consults membership at the {@link WaitPolicy} bound and gives up when a drain begins.
 */
public final class ALock implements LockDesign {
    public static final String NAME = "alock";
    private final int budget;
    private final WaitPolicy policy;

    public ALock() {
        this(8);
    }

    public ALock(int budget) {
        this(budget, WaitPolicy.defaults());
    }

    public ALock(int budget, WaitPolicy policy) {
        if (budget < 1) {
            throw new IllegalArgumentException("cohort budget must be positive: " + budget);
        }
        this.budget = budget;
        this.policy = policy;
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

    @Override
    public RecoveryReport recover(RecoveryContext context, int lapsedComputeNode) {
        if (!(context.client() instanceof Client c)) {
            throw new IllegalArgumentException("recovery of " + NAME + " needs a client of " + NAME + ", got "
                    + context.client());
        }
        return McsDrainReset.recover(NAME, c.drain, c.context, context, lapsedComputeNode, BYTES);
    }

    private final class Client implements LockClient {
        private final LockContext context;
        private final Verbs verbs;
        private final HostMemory host;
        private final int hostMn;
        private final Quiescence quiescence;
        private final DrainProtocol drain;
        private final McsQueueNodes nodes;
        private final ThreadLocal<VerbBatch> scratch = ThreadLocal.withInitial(VerbBatch::new);
        private final ThreadLocal<UnsafeBuffer> victim = ThreadLocal.withInitial(() -> {
            UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
            b.putLong(0, VICTIM_REMOTE, ByteOrder.nativeOrder());
            return b;
        });
        private final ThreadLocal<UnsafeBuffer> poll = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[16]));
        private final ThreadLocal<WaitWatch> watches;

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
            this.quiescence = new Quiescence(context.threads().capacity());
            this.drain = new DrainProtocol(context, quiescence, this::reinstate);
            this.nodes = new McsQueueNodes(context, drain);
            this.watches = ThreadLocal.withInitial(() -> new WaitWatch(context.liveness(), context.computeNode(), policy));
        }

        private boolean isLocal(long lock) {
            return host != null && GlobalAddress.memoryNode(lock) == hostMn;
        }

        @Override
        public void acquire(long lock, LockMode mode) {
            int thread = context.threads().current();
            WaitWatch watch = watches.get();
            boolean local = isLocal(lock);
            while (true) {
                long epoch = quiescence.enter(thread, watch);
                McsQueueNode q = null;
                boolean held = false;
                try {
                    q = nodes.register(lock);
                    q.local = local;
                    long tail = GlobalAddress.plus(lock, local ? LOCAL_TAIL_OFFSET : REMOTE_TAIL_OFFSET);
                    long predecessor = local ? swapLocal(tail, q.tag) : RdmaMcsLock.swap(verbs, tail, q.tag);
                    int s = McsQueueNode.REACQUIRE;
                    if (predecessor != 0) {
                        nodes.linkBehind(predecessor, lock, q.tag);
                        s = q.awaitGrant(quiescence, epoch, watch);
                    }
                    if (s == McsQueueNode.GRANTED) {
                        held = true;
                    } else if (s == McsQueueNode.REACQUIRE) {
                        q.budget = budget;
                        held = local ? peterson(lock, epoch, watch) : petersonRemote(lock, epoch, watch);
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
                // a drain began: both cohorts are rebuilt, queue again after the thaw
            }
        }

        private void reinstate(long generation) {
            nodes.reinstate(generation, this::install);
        }

        /** A drain's reinstatement: {@code hold}'s tag into its cohort's reset tail (the cohort's words only). */
        private void install(long lock, McsQueueNode hold) {
            long tail = GlobalAddress.plus(lock, hold.local ? LOCAL_TAIL_OFFSET : REMOTE_TAIL_OFFSET);
            if (hold.local) {
                swapLocal(tail, hold.tag);
            } else {
                RdmaMcsLock.swap(verbs, tail, hold.tag);
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

        /** Peterson for the local cohort; false when a drain interrupted it. */
        private boolean peterson(long lock, long epoch, WaitWatch watch) {
            long victimAddress = GlobalAddress.plus(lock, VICTIM_OFFSET);
            long otherTail = GlobalAddress.plus(lock, REMOTE_TAIL_OFFSET);
            host.putVolatile(victimAddress, VICTIM_LOCAL);
            int spins = 0;
            watch.begin();
            while (host.getVolatile(otherTail) != 0 && host.getVolatile(victimAddress) == VICTIM_LOCAL) {
                if (++spins % 64 == 0) {
                    if (quiescence.aborting(epoch)) {
                        return false;
                    }
                    watch.poll("waiting for the alock Peterson lock");
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
            return true;
        }

        /** Peterson for the remote cohort; false when a drain interrupted it. */
        private boolean petersonRemote(long lock, long epoch, WaitWatch watch) {
            verbs.write(GlobalAddress.plus(lock, VICTIM_OFFSET), victim.get(), 0, 8);
            UnsafeBuffer b = poll.get();
            long pollAddress = GlobalAddress.plus(lock, LOCAL_TAIL_OFFSET);
            int polls = 0;
            watch.begin();
            while (true) {
                verbs.read(pollAddress, b, 0, 16);
                long otherTail = b.getLong(0, ByteOrder.nativeOrder());
                long v = b.getLong(8, ByteOrder.nativeOrder());
                if (otherTail == 0 || v != VICTIM_REMOTE) {
                    return true;
                }
                if (quiescence.aborting(epoch)) {
                    return false;
                }
                watch.poll("waiting for the alock Peterson lock");
                if (++polls % 64 == 0) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
        }

        @Override
        public void release(long lock, LockMode mode, VerbBatch writeBack) {
            int thread = context.threads().current();
            quiescence.enter(thread, watches.get()); // while frozen the hold stays, and is reinstated
            try {
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
                        if (host.compareAndSwap(tail, q.tag, 0) == q.tag) {
                            nodes.unregister(lock, q);
                            return;
                        }
                    } else {
                        int cas = batch.size();
                        batch.cas(tail, q.tag, 0);
                        verbs.post(batch);
                        if (batch.result(cas) == q.tag) {
                            nodes.unregister(lock, q);
                            return;
                        }
                    }
                    next = q.awaitNext(quiescence, watches.get());
                    if (next == 0) {
                        nodes.unregister(lock, q); // frozen: the reset clears both tails and the victim
                        return;
                    }
                } else if (!batch.isEmpty()) {
                    verbs.post(batch);
                }
                int left = q.budget - 1;
                nodes.unregister(lock, q);
                nodes.grant(next, lock, left > 0 ? McsQueueNode.GRANTED : McsQueueNode.REACQUIRE, Math.max(left, 0));
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
