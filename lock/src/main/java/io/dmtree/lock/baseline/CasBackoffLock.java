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
import org.agrona.concurrent.UnsafeBuffer;

import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code cas-backoff}: the CAS lock with truncated exponential backoff, as SMART uses it to cut
 * the retries that saturate the MN. The lock is one MN word, zero when free, else the holder's
 * tag ({@link CasLockWord}). After the {@code n}-th failed CAS of an acquire the thread waits a random time in
 * {@code [0, min(base * 2^n, cap)]} before it retries; release writes zero (appended to the
 * caller's write-back batch). Shared requests are treated as exclusive.
 *
 * <p>Invariant: the word is non-zero exactly while some thread holds the lock; only the holder,
 * or the recovery of its departed compute node ({@link OwnerWordRecovery}), clears it. No
 * fairness: a waiter may be overtaken without bound. The retry loop consults membership at the
 * {@link WaitPolicy} bound.
 */
public final class CasBackoffLock implements LockDesign {
    public static final String NAME = "cas-backoff";
    private final long baseNanos;
    private final long capNanos;
    private final WaitPolicy policy;

    /** Default first backoff and cap. */
    public static final long DEFAULT_BASE_NANOS = 1_000;
    public static final long DEFAULT_CAP_NANOS = 64_000;

    public CasBackoffLock() {
        this(DEFAULT_BASE_NANOS, DEFAULT_CAP_NANOS);
    }

    public CasBackoffLock(long baseNanos, long capNanos) {
        this(baseNanos, capNanos, WaitPolicy.defaults());
    }

    public CasBackoffLock(long baseNanos, long capNanos, WaitPolicy policy) {
        if (baseNanos < 1 || capNanos < baseNanos) {
            throw new IllegalArgumentException("backoff needs 1 <= base <= cap, got base " + baseNanos + " cap " + capNanos);
        }
        this.baseNanos = baseNanos;
        this.capNanos = capNanos;
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

    private final class Client implements LockClient {
        private final UnsafeBuffer zero = new UnsafeBuffer(new byte[Long.BYTES]);
        private final LockContext context;
        private final Verbs verbs;
        private final ThreadLocal<VerbBatch> scratch = ThreadLocal.withInitial(VerbBatch::new);
        private final ThreadLocal<SplittableRandom> random;
        private final ThreadLocal<OwnerWordWait> waits;

        Client(LockContext context) {
            this.context = context;
            this.verbs = context.verbs();
            this.waits = ThreadLocal.withInitial(() -> new OwnerWordWait(context, policy));
            SplittableRandom seeds = new SplittableRandom(context.computeNode() * 0x9E3779B97F4A7C15L);
            this.random = ThreadLocal.withInitial(() -> {
                synchronized (seeds) {
                    return seeds.split();
                }
            });
        }

        @Override
        public void acquire(long lock, LockMode mode) {
            long me = CasSpinLock.tag(context.computeNode(), context.threads().current());
            long found = verbs.cas(lock, 0L, me);
            if (found == 0L) {
                return;
            }
            OwnerWordWait w = waits.get();
            w.begin();
            long window = baseNanos;
            do {
                w.failed(found, "acquiring a cas-backoff lock");
                long wait = random.get().nextLong(window + 1);
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                window = Math.min(window * 2, capNanos);
            } while ((found = verbs.cas(lock, 0L, me)) != 0L);
        }

        @Override
        public void release(long lock, LockMode mode, VerbBatch writeBack) {
            VerbBatch batch = writeBack;
            if (batch == null) {
                batch = scratch.get();
                batch.clear();
            }
            batch.write(lock, zero, 0, Long.BYTES);
            verbs.post(batch);
        }
    }
}
