package io.dmtree.lock.adaptive;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import io.dmtree.lock.modular.ModularLockClient;
import io.dmtree.lock.modular.ModularLockDesign;
import io.dmtree.lock.modular.TenureHook;
import io.dmtree.lock.recovery.WaitWatch;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static io.dmtree.lock.adaptive.AdaptiveLockLayout.*;

/**
 * One compute node's side of the adaptive lock (protocol and invariants: {@link AdaptiveLockDesign}):
 * the word assignment's CAS and FAA, the modular client behind it, and the two tenure edges of
 * that client ({@link TenureHook}): the take-over of the assignment word and the switch back.
 */
public final class AdaptiveLockClient implements LockClient, TenureHook {
    private static final long MAX_POLL_PARK_NANOS = 20_000;
    private static final UnsafeBuffer ZERO = new UnsafeBuffer(new byte[Long.BYTES]);

    private final LockContext context;
    private final Verbs verbs;
    private final AdaptiveLockConfig config;
    private final ModularLockClient queue;
    private final ConcurrentHashMap<Long, LockState> states = new ConcurrentHashMap<>();
    private final ThreadLocal<PerThread> perThread;

    private final LongAdder wordAcquires = new LongAdder();
    private final LongAdder queuedAcquires = new LongAdder();
    private final LongAdder takeOvers = new LongAdder();
    private final LongAdder takeOverWaits = new LongAdder();
    private final LongAdder switchesBack = new LongAdder();

    /** What this compute node knows of one lock. */
    private static final class LockState {
        /** The last look at the lock found it queued: acquire on the queued path without trying the word. */
        volatile boolean queuedHint;
        /** Consecutive quiet MN tenures of this compute node (touched only by the modular lock's holder). */
        int quiet;
    }

    /** A thread's scratch: the locks it holds in the word assignment, a batch, a word buffer, its wait watch. */
    private static final class PerThread {
        long[] wordHeld = new long[4];
        int wordHeldCount;
        final VerbBatch batch = new VerbBatch();
        final UnsafeBuffer word = new UnsafeBuffer(new byte[Long.BYTES]);
        final WaitWatch watch;

        PerThread(WaitWatch watch) {
            this.watch = watch;
        }

        void addHeld(long lock) {
            if (wordHeldCount == wordHeld.length) {
                wordHeld = Arrays.copyOf(wordHeld, wordHeldCount * 2);
            }
            wordHeld[wordHeldCount++] = lock;
        }

        boolean removeHeld(long lock) {
            for (int i = wordHeldCount - 1; i >= 0; i--) {
                if (wordHeld[i] == lock) {
                    wordHeld[i] = wordHeld[--wordHeldCount];
                    return true;
                }
            }
            return false;
        }
    }

    AdaptiveLockClient(LockContext context, AdaptiveLockConfig config, ModularLockDesign queueDesign) {
        this.context = context;
        this.verbs = context.verbs();
        this.config = config;
        this.queue = queueDesign.newClient(context, this);
        this.perThread = ThreadLocal.withInitial(() -> new PerThread(
                new WaitWatch(context.liveness(), context.computeNode(), config.queue().waitPolicy())));
    }

    LockContext context() {
        return context;
    }

    /** The modular client behind the assignment words. */
    ModularLockClient queueClient() {
        return queue;
    }

    private LockState state(long lock) {
        LockState s = states.get(lock);
        if (s == null) {
            if ((GlobalAddress.offset(lock) & 7) != 0) {
                throw new IllegalArgumentException("lock address " + GlobalAddress.toString(lock) + " is not 8-byte aligned");
            }
            s = states.computeIfAbsent(lock, l -> new LockState());
        }
        return s;
    }

    private static long queueLock(long lock) {
        return GlobalAddress.plus(lock, QUEUE_LOCK_OFFSET);
    }

    private static long assignmentWord(long queueLock) {
        return GlobalAddress.plus(queueLock, -QUEUE_LOCK_OFFSET);
    }

    @Override
    public void acquire(long lock, LockMode mode) {
        int thread = context.threads().current();
        LockState st = state(lock);
        if (!st.queuedHint) {
            long me = tag(context.computeNode(), thread);
            long found = verbs.cas(lock, FREE, me);
            if (found != FREE && found != QUEUED && !queueFlag(found) && config.wordSpinNanos() > 0) {
                long deadline = System.nanoTime() + config.wordSpinNanos();
                do {
                    Thread.onSpinWait();
                    found = verbs.cas(lock, FREE, me);
                } while (found != FREE && found != QUEUED && !queueFlag(found) && System.nanoTime() < deadline);
            }
            if (found == FREE) {
                perThread.get().addHeld(lock);
                wordAcquires.increment();
                return;
            }
            st.queuedHint = true; // a long wait, or the queue has the lock: take the queued path
        }
        queue.acquire(queueLock(lock), LockMode.EXCLUSIVE);
        queuedAcquires.increment();
    }

    @Override
    public void release(long lock, LockMode mode, VerbBatch writeBack) {
        PerThread pt = perThread.get();
        if (pt.removeHeld(lock)) {
            VerbBatch b = writeBack;
            if (b == null) {
                b = pt.batch;
                b.clear();
            }
            b.faa(lock, -tag(context.computeNode(), context.threads().current()));
            verbs.post(b);
            return;
        }
        queue.release(queueLock(lock), LockMode.EXCLUSIVE, writeBack);
    }

    /** Tenure start of the modular lock: own the assignment word before anyone runs (invariant 1). */
    @Override
    public void tenureStarting(long queueLock, boolean handedOn) {
        if (handedOn) {
            return; // invariant 3: the word is QUEUED and stays so
        }
        long a = assignmentWord(queueLock);
        long found = verbs.cas(a, FREE, QUEUED);
        if (found == FREE || found == QUEUED) {
            return;
        }
        takeOver(a, found);
    }

    /** The word is held in the word assignment: flag the queue beside the tag and wait for its release. */
    private void takeOver(long a, long found) {
        takeOvers.increment();
        PerThread pt = perThread.get();
        WaitWatch watch = pt.watch;
        watch.begin();
        long park = 0;
        int rounds = 0;
        while (true) {
            if (found == QUEUED) {
                return;
            }
            if (found == FREE) {
                found = verbs.cas(a, FREE, QUEUED);
                if (found == FREE) {
                    return;
                }
                continue;
            }
            if (!queueFlag(found)) {
                long f = verbs.cas(a, found, found | QUEUED);
                found = f == found ? found | QUEUED : f;
                continue; // flagged (word acquirers now fail and queue), or the word moved: look again
            }
            if (rounds++ == 0) {
                takeOverWaits.increment();
            }
            boolean departedHolder = watch.poll("taking an adaptive lock over from its word holder") == WaitWatch.LOOK
                    && !watch.liveness().isMember(holderComputeNode(found));
            if (departedHolder) {
                LockSupport.parkNanos(this, watch.parkNanos()); // its recovery will clear the tag
            } else if (rounds > 64) {
                park = Math.min(MAX_POLL_PARK_NANOS, park == 0 ? 1_000 : park * 2);
                LockSupport.parkNanos(this, park);
            } else {
                Thread.onSpinWait();
            }
            verbs.read(a, pt.word, 0, Long.BYTES);
            found = pt.word.getLong(0);
        }
    }

    /** Tenure end at the MN: hand the word on (QUEUED) or, after quiet tenures, switch back to the word assignment. */
    @Override
    public boolean beforeMnRelease(long queueLock, VerbBatch batch, int waitersBehindAtGrant, boolean localWaiters,
                                   int tenureGrants) {
        long a = assignmentWord(queueLock);
        LockState st = state(a);
        if (waitersBehindAtGrant > config.quietWaiters() || localWaiters || tenureGrants > 1) {
            st.quiet = 0;
            return true;
        }
        if (++st.quiet < config.quietTenures()) {
            return true;
        }
        st.quiet = 0;
        batch.write(a, ZERO, 0, Long.BYTES); // still holding the modular lock: invariant 2
        st.queuedHint = false;
        switchesBack.increment();
        return false;
    }

    /**
     * Counters of this client: acquisitions in the word assignment and on the queued path,
     * take-overs of the word by a queue leader (and how many of them waited for a word holder),
     * switches back to the word assignment.
     */
    public record Stats(long wordAcquires, long queuedAcquires, long takeOvers, long takeOverWaits, long switchesBack) {
    }

    public Stats stats() {
        return new Stats(wordAcquires.sum(), queuedAcquires.sum(), takeOvers.sum(), takeOverWaits.sum(),
                switchesBack.sum());
    }

    @Override
    public void close() {
        queue.close();
    }

    @Override
    public String toString() {
        return "adaptive lock client of compute node " + context.computeNode();
    }
}
