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

/**
 * {@code cas-spin}: the lock of Sherman without its CN-local layer. The lock is one MN word,
 * zero when free and otherwise the holder's tag ({@link CasLockWord}). Acquire retries a remote
 * CAS from zero to the caller's tag until it succeeds; release writes zero (after the caller's
 * write-back, in the same batch). Shared requests are treated as exclusive.
 *
 * <p>Invariant: the word is non-zero exactly while some thread holds the lock, and only the
 * holder, or the recovery of its departed compute node, writes it back to zero. Every failed CAS
 * is one more MN verb: the communication cost the modular lock removes. The retry loop consults
 * membership at the {@link WaitPolicy} bound and backs off while the word names a departed holder.
 * Recovery: {@link OwnerWordRecovery}.
 */
public final class CasSpinLock implements LockDesign {
    public static final String NAME = "cas-spin";
    private final WaitPolicy policy;

    public CasSpinLock() {
        this(WaitPolicy.defaults());
    }

    public CasSpinLock(WaitPolicy policy) {
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

    /** The word a holder writes: compute node and thread, never zero. */
    static long tag(int cn, int thread) {
        return CasLockWord.tag(cn, thread);
    }

    private final class Client implements LockClient {
        private static final UnsafeBuffer ZERO = new UnsafeBuffer(new byte[Long.BYTES]);
        private final LockContext context;
        private final Verbs verbs;
        private final ThreadLocal<VerbBatch> scratch = ThreadLocal.withInitial(VerbBatch::new);
        private final ThreadLocal<OwnerWordWait> waits;

        Client(LockContext context) {
            this.context = context;
            this.verbs = context.verbs();
            this.waits = ThreadLocal.withInitial(() -> new OwnerWordWait(context, policy));
        }

        @Override
        public void acquire(long lock, LockMode mode) {
            long me = tag(context.computeNode(), context.threads().current());
            long found = verbs.cas(lock, 0L, me);
            if (found == 0L) {
                return;
            }
            OwnerWordWait w = waits.get();
            w.begin();
            do {
                w.failed(found, "acquiring a cas-spin lock");
                Thread.onSpinWait();
            } while ((found = verbs.cas(lock, 0L, me)) != 0L);
        }

        @Override
        public void release(long lock, LockMode mode, VerbBatch writeBack) {
            VerbBatch batch = writeBack;
            if (batch == null) {
                batch = scratch.get();
                batch.clear();
            }
            batch.write(lock, ZERO, 0, Long.BYTES);
            verbs.post(batch);
        }
    }
}
