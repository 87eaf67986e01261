package io.dmtree.lock.baseline;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import io.dmtree.lock.recovery.WaitPolicy;
import io.dmtree.lock.recovery.WaitWatch;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code hocl}: Sherman's hierarchical on-chip lock, with the global lock word in MN memory. Each
 * CN keeps a local ticket lock per global lock; threads of one CN first take the local lock, and
 * the holder hands the global lock over to the next local ticket without releasing it, at most
 * {@code maxHandover} times in a row.
 *
 * <ul>
 *   <li>Acquire: take a local ticket (FAA on a CN word) and wait for it to be served. If the
 *   previous local holder handed the global lock over, hold now; else CAS the MN word from zero to
 *   this thread's tag until it succeeds.</li>
 *   <li>Release: if another local ticket is waiting and fewer than {@code maxHandover} handovers
 *   happened in a row, mark the handover (after the caller's write-back); else write zero to the
 *   MN word (appended to the write-back batch). Then serve the next local ticket.</li>
 * </ul>
 * Invariants: the local ticket lock admits one thread per CN at a time; the MN word is non-zero
 * while some CN's local holder owns it; a handover passes ownership inside the CN without an MN
 * verb. Shared requests are treated as exclusive. A thread whose global acquire fails (its node
 * departed) passes the local lock on before it throws, so its CN's other threads are not stranded.
 * Waits consult membership at the {@link WaitPolicy} bound. Recovery: the MN word names the
 * compute node that took it ({@link CasLockWord}), whose departure frees it
 * ({@link OwnerWordRecovery}); the CN-local ticket locks of live nodes are not involved.
 */
public final class HoclLock implements LockDesign {
    public static final String NAME = "hocl";
    private final int maxHandover;
    private final WaitPolicy policy;

    public HoclLock() {
        this(8);
    }

    public HoclLock(int maxHandover) {
        this(maxHandover, WaitPolicy.defaults());
    }

    public HoclLock(int maxHandover, WaitPolicy policy) {
        if (maxHandover < 0) {
            throw new IllegalArgumentException("max handover must not be negative: " + maxHandover);
        }
        this.maxHandover = maxHandover;
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
        return OwnerWordRecovery.recover(NAME, c.context, context, lapsedComputeNode);
    }

    /** The CN-local ticket lock of one global lock. */
    private static final class LocalLock {
        final AtomicLong next = new AtomicLong();
        volatile long serving;
        /** Written only by the local holder. */
        boolean handedOver;
        int handovers;
    }

    private final class Client implements LockClient {
        private final UnsafeBuffer zero = new UnsafeBuffer(new byte[Long.BYTES]);
        private final LockContext context;
        private final Verbs verbs;
        private final ConcurrentHashMap<Long, LocalLock> local = new ConcurrentHashMap<>();
        private final ThreadLocal<VerbBatch> scratch = ThreadLocal.withInitial(VerbBatch::new);
        private final ThreadLocal<OwnerWordWait> globalWaits;
        private final ThreadLocal<WaitWatch> localWaits;

        Client(LockContext context) {
            this.context = context;
            this.verbs = context.verbs();
            this.globalWaits = ThreadLocal.withInitial(() -> new OwnerWordWait(context, policy));
            this.localWaits = ThreadLocal.withInitial(() -> new WaitWatch(context.liveness(), context.computeNode(),
                    policy));
        }

        @Override
        public void acquire(long lock, LockMode mode) {
            LocalLock l = local.computeIfAbsent(lock, k -> new LocalLock());
            long me = CasSpinLock.tag(context.computeNode(), context.threads().current());
            long ticket = l.next.getAndIncrement();
            if (l.serving != ticket) {
                WaitWatch w = localWaits.get();
                w.begin();
                int spins = 0;
                while (l.serving != ticket) {
                    if (++spins < 200) {
                        Thread.onSpinWait();
                    } else {
                        w.poll("waiting for the local hocl lock"); // throws once this node departed
                        Thread.yield();
                    }
                }
            }
            if (l.handedOver) {
                return;
            }
            try {
                long found = verbs.cas(lock, 0L, me);
                if (found == 0L) {
                    return;
                }
                OwnerWordWait w = globalWaits.get();
                w.begin();
                do {
                    w.failed(found, "acquiring a hocl lock");
                    Thread.onSpinWait();
                } while ((found = verbs.cas(lock, 0L, me)) != 0L);
            } catch (RuntimeException | Error e) {
                l.handedOver = false;
                l.handovers = 0;
                l.serving = l.serving + 1; // the next local ticket takes the global lock itself
                throw e;
            }
        }

        @Override
        public void release(long lock, LockMode mode, VerbBatch writeBack) {
            LocalLock l = local.get(lock);
            if (l == null) {
                throw new IllegalStateException("release of a lock this compute node never acquired");
            }
            VerbBatch batch = writeBack;
            if (batch == null) {
                batch = scratch.get();
                batch.clear();
            }
            boolean waiting = l.next.get() > l.serving + 1;
            if (waiting && l.handovers < maxHandover) {
                l.handedOver = true;
                l.handovers++;
                if (!batch.isEmpty()) {
                    verbs.post(batch);
                }
            } else {
                l.handedOver = false;
                l.handovers = 0;
                batch.write(lock, zero, 0, Long.BYTES);
                verbs.post(batch);
            }
            l.serving = l.serving + 1;
        }
    }
}
