package io.dmtree.lock.baseline;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

import static io.dmtree.lock.baseline.DslrLockLayout.*;

/**
 * {@code dslr}: DSLR (Yoon, Chowdhury, Mozafari, SIGMOD'18), a decentralised shared/exclusive lock
 * built from FAA tickets on one MN word of four 16-bit counters ({@link DslrLockLayout}).
 *
 * <ul>
 *   <li>Acquire: one FAA adds 1 to the max counter of the request's mode; the word before it is
 *   the ticket. A shared request holds once the exclusive count equals the ticket's exclusive
 *   max; an exclusive one once both counts equal both maxima. Until then the waiter polls the
 *   word with READs, with randomised exponential backoff between polls.</li>
 *   <li>Release: one FAA adds 1 to the count of the mode, after the caller's write-back.</li>
 *   <li>Counter overflow (DSLR's reset): a request whose ticket shows either max already at
 *   {@link DslrLockLayout#COUNT_MAX} withdraws (FAA -1 on its max), waits until the lock has been
 *   reset, and retries. The request that takes ticket {@code COUNT_MAX - 1} on a max becomes
 *   responsible for the reset: after its own release it waits until every request ahead of it
 *   has released (the word equals the expected full state) and CASes the word to zero.</li>
 * </ul>
 * Invariants: tickets order requests FIFO per lock; a shared holder never overlaps an exclusive
 * one because each waits for the other mode's releases counted in its ticket. The lease-based
 * recovery from failed clients of the paper is not built (no client here fails while holding).
 */
public final class DslrLock implements LockDesign {
    public static final String NAME = "dslr";
    private final int countMax;
    private final long baseBackoffNanos;
    private final long maxBackoffNanos;

    public DslrLock() {
        this(COUNT_MAX, 1_000, 32_000);
    }

    /** {@code countMax} below 2^15 makes resets frequent (tests). */
    public DslrLock(int countMax, long baseBackoffNanos, long maxBackoffNanos) {
        if (countMax < 2 || countMax > COUNT_MAX) {
            throw new IllegalArgumentException("count max must be in [2, 2^15]: " + countMax);
        }
        if (baseBackoffNanos < 0 || maxBackoffNanos < baseBackoffNanos) {
            throw new IllegalArgumentException("backoff needs 0 <= base <= max");
        }
        this.countMax = countMax;
        this.baseBackoffNanos = baseBackoffNanos;
        this.maxBackoffNanos = maxBackoffNanos;
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

    private final class Client implements LockClient {
        private final Verbs verbs;
        /** Per thread: lock -> the word a reset must find (0 when this hold has no reset duty). */
        private final ThreadLocal<Long2LongHashMap> resetDuty = ThreadLocal.withInitial(() -> new Long2LongHashMap(0));
        private final ThreadLocal<UnsafeBuffer> word = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[8]));
        private final ThreadLocal<VerbBatch> scratch = ThreadLocal.withInitial(VerbBatch::new);
        private final ThreadLocal<SplittableRandom> random;

        Client(LockContext context) {
            this.verbs = context.verbs();
            SplittableRandom seeds = new SplittableRandom(0xD51L + context.computeNode());
            this.random = ThreadLocal.withInitial(() -> {
                synchronized (seeds) {
                    return seeds.split();
                }
            });
        }

        private long read(long lock) {
            UnsafeBuffer b = word.get();
            verbs.read(lock, b, 0, 8);
            return b.getLong(0);
        }

        private long backoff(long window) {
            long wait = random.get().nextLong(window + 1);
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            } else {
                Thread.onSpinWait();
            }
            return Math.min(Math.max(window * 2, 1), maxBackoffNanos);
        }

        @Override
        public void acquire(long lock, LockMode mode) {
            boolean shared = mode == LockMode.SHARED;
            long one = shared ? ONE_SHARED_MAX : ONE_EXCLUSIVE_MAX;
            long ticket;
            while (true) {
                ticket = verbs.faa(lock, one);
                if (sharedMax(ticket) >= countMax || exclusiveMax(ticket) >= countMax) {
                    verbs.faa(lock, -one); // a reset is pending: withdraw and wait for it
                    long window = baseBackoffNanos;
                    long w;
                    do {
                        window = backoff(window);
                        w = read(lock);
                    } while (sharedMax(w) >= countMax || exclusiveMax(w) >= countMax);
                    continue;
                }
                break;
            }
            int myMax = shared ? sharedMax(ticket) : exclusiveMax(ticket);
            if (myMax == countMax - 1) {
                // the last ticket before the reset: at release, the whole lock must look drained
                long expected = shared
                        ? word(exclusiveMax(ticket), countMax, exclusiveMax(ticket), countMax)
                        : word(countMax, sharedMax(ticket), countMax, sharedMax(ticket));
                resetDuty.get().put(lock, expected);
            }
            long w = ticket;
            long window = baseBackoffNanos;
            while (!(exclusiveCount(w) == exclusiveMax(ticket)
                    && (shared || sharedCount(w) == sharedMax(ticket)))) {
                window = backoff(window);
                w = read(lock);
            }
        }

        @Override
        public void release(long lock, LockMode mode, VerbBatch writeBack) {
            VerbBatch batch = writeBack;
            if (batch == null) {
                batch = scratch.get();
                batch.clear();
            }
            batch.faa(lock, mode == LockMode.SHARED ? ONE_SHARED_COUNT : ONE_EXCLUSIVE_COUNT);
            verbs.post(batch);
            long expected = resetDuty.get().remove(lock);
            if (expected != 0) {
                long window = baseBackoffNanos;
                while (verbs.cas(lock, expected, 0) != expected) {
                    window = backoff(window); // requests ahead still hold, or withdrawals are in flight
                }
            }
        }
    }

    @Override
    public String toString() {
        return NAME + " countMax=" + countMax;
    }
}
