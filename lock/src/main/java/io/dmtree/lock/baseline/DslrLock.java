package io.dmtree.lock.baseline;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.lock.recovery.DrainProtocol;
import io.dmtree.lock.recovery.LockTableScan;
import io.dmtree.lock.recovery.Quiescence;
import io.dmtree.lock.recovery.RecoveryPreconditions;
import io.dmtree.lock.recovery.WaitPolicy;
import io.dmtree.lock.recovery.WaitWatch;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
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
 * one because each waits for the other mode's releases counted in its ticket.
 *
 * <h2>Recovery: DSLR's lease reset, driven by membership</h2>
 * The paper recovers from a failed holder with leases: a waiter that has waited past the lease
 * resets the lock's counters, and the requests caught by the reset start again. The counters do not
 * say whose tickets are outstanding, and a per-lock timeout cannot tell a slow live holder from a
 * dead one: a live holder whose release lands on reset counters would let a later ticket in beside
 * it. So here the lease is the member's ({@link io.dmtree.core.lock.MemberLiveness}): once a
 * departed member is fenced, recovery drains every live member ({@link DrainProtocol}: waiters
 * give up, nobody starts an operation, holds stay), resets every lock whose word is not zero, has
 * every live hold take its ticket again on the reset word (one FAA on its mode's max: a lone
 * holder's ticket, which its release then counts as usual), and resumes; the waiters caught by
 * the reset take fresh tickets. Every wait consults membership at the
 * {@link WaitPolicy} bound and gives up when a drain begins.
 */
public final class DslrLock implements LockDesign {
    public static final String NAME = "dslr";
    private final int countMax;
    private final long baseBackoffNanos;
    private final long maxBackoffNanos;
    private final WaitPolicy policy;

    /** Default first and largest backoff of a waiter polling for its turn. */
    public static final long DEFAULT_BASE_BACKOFF_NANOS = 1_000;
    public static final long DEFAULT_MAX_BACKOFF_NANOS = 32_000;

    public DslrLock() {
        this(COUNT_MAX, DEFAULT_BASE_BACKOFF_NANOS, DEFAULT_MAX_BACKOFF_NANOS);
    }

    /** {@code countMax} below 2^15 makes resets frequent (tests). */
    public DslrLock(int countMax, long baseBackoffNanos, long maxBackoffNanos) {
        this(countMax, baseBackoffNanos, maxBackoffNanos, WaitPolicy.defaults());
    }

    public DslrLock(int countMax, long baseBackoffNanos, long maxBackoffNanos, WaitPolicy policy) {
        if (countMax < 2 || countMax > COUNT_MAX) {
            throw new IllegalArgumentException("count max must be in [2, 2^15]: " + countMax);
        }
        if (baseBackoffNanos < 0 || maxBackoffNanos < baseBackoffNanos) {
            throw new IllegalArgumentException("backoff needs 0 <= base <= max");
        }
        this.countMax = countMax;
        this.baseBackoffNanos = baseBackoffNanos;
        this.maxBackoffNanos = maxBackoffNanos;
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
        RecoveryPreconditions.requireDeparted(c.context, lapsedComputeNode, NAME);
        long start = System.nanoTime();
        long[] counts = new long[2];
        c.drain.drainAndReset(() -> {
            List<long[]> dirty = new ArrayList<>();
            counts[0] = LockTableScan.scan(c.verbs, context.lockTable(), context.memoryNodeCount(), 8, (lock, b, off) -> {
                long w = b.getLong(off);
                if (w != 0) {
                    dirty.add(new long[]{lock, w});
                }
            });
            for (long[] d : dirty) {
                if (c.verbs.cas(d[0], d[1], 0) == d[1]) {
                    counts[1]++;
                }
            }
        });
        return new RecoveryReport(NAME, lapsedComputeNode, counts[0], 0, 0, counts[1], 0, System.nanoTime() - start);
    }

    private final class Client implements LockClient {
        private final LockContext context;
        private final Verbs verbs;
        private final Quiescence quiescence;
        private final DrainProtocol drain;
        /**
         * Per thread (by {@link io.dmtree.core.cn.CnThreads} index): lock -> the word a reset must
         * find (0 when this hold has no reset duty); lock -> the max counter its ticket took, for
         * each hold; lock -> the drain generation the hold was reinstated for. Written by the
         * thread inside its lock operations, and by a drain's reinstatement while the thread is
         * kept out of them (ordered by the freeze).
         */
        private final Long2LongHashMap[] resetDuty;
        private final Long2LongHashMap[] holds;
        private final Long2LongHashMap[] reinstatedIn;
        private final ThreadLocal<UnsafeBuffer> word = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[8]));
        private final ThreadLocal<VerbBatch> scratch = ThreadLocal.withInitial(VerbBatch::new);
        private final ThreadLocal<SplittableRandom> random;
        private final ThreadLocal<WaitWatch> watches;

        Client(LockContext context) {
            this.context = context;
            this.verbs = context.verbs();
            this.quiescence = new Quiescence(context.threads().capacity());
            int capacity = context.threads().capacity();
            this.resetDuty = new Long2LongHashMap[capacity];
            this.holds = new Long2LongHashMap[capacity];
            this.reinstatedIn = new Long2LongHashMap[capacity];
            for (int t = 0; t < capacity; t++) {
                resetDuty[t] = new Long2LongHashMap(0);
                holds[t] = new Long2LongHashMap(0);
                reinstatedIn[t] = new Long2LongHashMap(0);
            }
            this.drain = new DrainProtocol(context, quiescence, this::reinstate);
            this.watches = ThreadLocal.withInitial(() -> new WaitWatch(context.liveness(), context.computeNode(), policy));
            SplittableRandom seeds = new SplittableRandom(0xD51L + context.computeNode());
            this.random = ThreadLocal.withInitial(() -> {
                synchronized (seeds) {
                    return seeds.split();
                }
            });
            context.messaging().onMessage(drain::onMessage);
        }

        /** A drain's reinstatement: every hold takes its ticket again on its lock's reset word. */
        private void reinstate(long generation) {
            for (int t = 0; t < holds.length; t++) {
                Long2LongHashMap done = reinstatedIn[t];
                Long2LongHashMap duty = resetDuty[t];
                holds[t].longForEach((lock, one) -> {
                    if (done.get(lock) != generation) {
                        verbs.faa(lock, one);
                        done.put(lock, generation);
                        duty.remove(lock); // the counters start again from zero: no reset is due
                    }
                });
            }
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
            int thread = context.threads().current();
            WaitWatch watch = watches.get();
            while (true) {
                long epoch = quiescence.enter(thread, watch);
                boolean held = false;
                try {
                    held = tryAcquire(thread, lock, mode, epoch, watch);
                } finally {
                    quiescence.exit(thread);
                }
                if (held) {
                    return;
                }
                // a drain began: this request's ticket is reset with the lock; take a fresh one after the thaw
            }
        }

        /** One request; false when a drain made it give up. */
        private boolean tryAcquire(int thread, long lock, LockMode mode, long epoch, WaitWatch watch) {
            boolean shared = mode == LockMode.SHARED;
            long one = shared ? ONE_SHARED_MAX : ONE_EXCLUSIVE_MAX;
            long ticket;
            while (true) {
                ticket = verbs.faa(lock, one);
                if (sharedMax(ticket) >= countMax || exclusiveMax(ticket) >= countMax) {
                    verbs.faa(lock, -one); // a reset is pending: withdraw and wait for it
                    long window = baseBackoffNanos;
                    long w;
                    watch.begin();
                    do {
                        if (quiescence.aborting(epoch)) {
                            return false;
                        }
                        watch.poll("waiting for a dslr counter reset");
                        window = backoff(window);
                        w = read(lock);
                    } while (sharedMax(w) >= countMax || exclusiveMax(w) >= countMax);
                    continue;
                }
                break;
            }
            long w = ticket;
            long window = baseBackoffNanos;
            watch.begin();
            while (!(exclusiveCount(w) == exclusiveMax(ticket)
                    && (shared || sharedCount(w) == sharedMax(ticket)))) {
                if (quiescence.aborting(epoch)) {
                    return false;
                }
                watch.poll("waiting for a dslr lock");
                window = backoff(window);
                w = read(lock);
            }
            int myMax = shared ? sharedMax(ticket) : exclusiveMax(ticket);
            if (myMax == countMax - 1) {
                // the last ticket before the reset: at release, the whole lock must look drained
                long expected = shared
                        ? word(exclusiveMax(ticket), countMax, exclusiveMax(ticket), countMax)
                        : word(countMax, sharedMax(ticket), countMax, sharedMax(ticket));
                resetDuty[thread].put(lock, expected);
            }
            holds[thread].put(lock, one);
            return true;
        }

        @Override
        public void release(long lock, LockMode mode, VerbBatch writeBack) {
            int thread = context.threads().current();
            quiescence.enter(thread, watches.get()); // while frozen the hold stays, and is reinstated
            try {
                holds[thread].remove(lock);
                reinstatedIn[thread].remove(lock);
                VerbBatch batch = writeBack;
                if (batch == null) {
                    batch = scratch.get();
                    batch.clear();
                }
                batch.faa(lock, mode == LockMode.SHARED ? ONE_SHARED_COUNT : ONE_EXCLUSIVE_COUNT);
                verbs.post(batch);
                long expected = resetDuty[thread].remove(lock);
                if (expected != 0) {
                    long window = baseBackoffNanos;
                    WaitWatch watch = watches.get();
                    watch.begin();
                    while (verbs.cas(lock, expected, 0) != expected) {
                        if (quiescence.frozen()) {
                            return; // a drain is on: its reset zeroes the word
                        }
                        watch.poll("resetting dslr counters");
                        window = backoff(window); // requests ahead still hold, or withdrawals are in flight
                    }
                }
            } finally {
                quiescence.exit(thread);
            }
        }

        @Override
        public void close() {
            drain.close();
            context.messaging().onMessage(null);
        }
    }

    @Override
    public String toString() {
        return NAME + " countMax=" + countMax;
    }
}
