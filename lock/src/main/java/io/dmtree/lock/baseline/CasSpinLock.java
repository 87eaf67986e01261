package io.dmtree.lock.baseline;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * {@code cas-spin}: the lock of Sherman without its CN-local layer. The lock is one MN word,
 * zero when free and otherwise the holder's tag. Acquire retries a remote CAS from zero to the
 * caller's tag until it succeeds; release writes zero (after the caller's write-back, in the
 * same batch). Shared requests are treated as exclusive.
 *
 * <p>Invariant: the word is non-zero exactly while some thread holds the lock, and only the
 * holder writes it back to zero. Every failed CAS is one more MN verb: the communication cost the
 * modular lock removes.
 */
public final class CasSpinLock implements LockDesign {
    public static final String NAME = "cas-spin";

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

    /** The word a holder writes: compute node and thread, never zero. */
    static long tag(int cn, int thread) {
        return ((long) (cn + 1) << 32) | (thread + 1L);
    }

    private static final class Client implements LockClient {
        private static final UnsafeBuffer ZERO = new UnsafeBuffer(new byte[Long.BYTES]);
        private final LockContext context;
        private final Verbs verbs;
        private final ThreadLocal<VerbBatch> scratch = ThreadLocal.withInitial(VerbBatch::new);

        Client(LockContext context) {
            this.context = context;
            this.verbs = context.verbs();
        }

        @Override
        public void acquire(long lock, LockMode mode) {
            long me = tag(context.computeNode(), context.threads().current());
            while (verbs.cas(lock, 0L, me) != 0L) {
                Thread.onSpinWait();
            }
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
