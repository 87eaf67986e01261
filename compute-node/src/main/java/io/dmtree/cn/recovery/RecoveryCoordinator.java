package io.dmtree.cn.recovery;

import io.dmtree.cn.ComputeNode;
import io.dmtree.core.lock.LapsedMemberException;
import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.membership.FenceBook;
import io.dmtree.core.membership.FenceBook.FenceRecord;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.Membership;
import io.dmtree.core.membership.MembershipListener;
import io.dmtree.core.memory.FencedException;
import io.dmtree.core.tree.MemoryReclaim;
import io.dmtree.core.tree.RepairReport;
import io.dmtree.core.tree.TreeRecovery;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * One live compute node's part in recovering compute nodes that failed: it asks for the fence of
 * every compute node it hears lapse, and recovers every lapsed incarnation that all memory nodes
 * have fenced, if it wins the claim to do so.
 *
 * <h2>Algorithm (one thread of its own)</h2>
 * <ol>
 *   <li>A membership notice that a compute node other than this one lapsed becomes a
 *   {@link FenceBook#requestFence} (queued by the listener, made on this thread: the listener must
 *   not block, and a remote book does).</li>
 *   <li>On every change of the book (and at a bounded interval, as a safety net), for each
 *   outstanding record, in epoch order, that every memory node has fenced:
 *   {@link FenceBook#claimRecovery}; if this member holds the claim, it runs
 *   <ol type="a">
 *     <li>{@link TreeRecovery#recover}: replays the lapsed member's redo records (nodes valid again);</li>
 *     <li>{@link io.dmtree.core.lock.LockDesign#recover} through this node's own lock client
 *     ({@link RecoveryContext#of}): removes the lapsed member's holds and queued requests;</li>
 *     <li>{@link TreeRecovery#completeSplits}: inserts the separators of splits it left half done;</li>
 *   </ol>
 *   then {@link FenceBook#recovered}.</li>
 * </ol>
 *
 * <h2>Invariants</h2>
 * <ul>
 *   <li><b>Ordering.</b> Nothing of an incarnation is recovered before every memory node fenced it
 *   (step 2 starts only on a record fenced by all, and this node's {@link ClusterLiveness} is
 *   refreshed and must report the slot departed, else the record is left for the next round); the
 *   steps run in the order fence, repair nodes, recover locks, complete splits (lock recovery may
 *   free a lock a half-written node is guarded by only once the node is valid; a split's separator
 *   goes into a parent whose lock the lapsed member may have held); {@code recovered} is called
 *   only after all of them returned.</li>
 *   <li><b>Idempotence.</b> Every step may be run again from the start on a state a previous,
 *   interrupted run left (replay of a redo record is idempotent and a record is retired only once
 *   its effect is complete; lock recovery and split completion are idempotent by their contracts),
 *   so a retry here, or a run by another member, is always safe.</li>
 *   <li><b>Takeover.</b> A claim ends with its holder's lease. A recoverer that dies mid-recovery
 *   is itself fenced (its later verbs take no effect, and it stops here at its next verb with a
 *   {@link FencedException} or a {@link LapsedMemberException}); its claim ends, the book changes,
 *   and another member claims the record and runs the whole recovery again.</li>
 *   <li><b>Bounded.</b> A failed attempt is retried at most {@link Options#attempts()} times with
 *   doubling pauses; then the failure is logged naming the member, and that record is not tried
 *   again by this coordinator (its claim stays with this member until its lease ends, when another
 *   member takes over). Every wait of the thread is bounded; {@link #close} stops it within one
 *   wait.</li>
 * </ul>
 */
public final class RecoveryCoordinator implements AutoCloseable {
    /** One step of a recovery, for observers. */
    public enum Step { CLAIMED, NODES_REPAIRED, LOCKS_RECOVERED, SPLITS_COMPLETED, MEMORY_RECLAIMED, RECOVERED }

    /**
     * Hears each step of each recovery this coordinator runs, on the coordinator's thread, after
     * the step took effect (a seam for logs and for tests that stop a recoverer mid-way).
     */
    @FunctionalInterface
    public interface StepListener {
        void stepDone(Member lapsed, Step step);
    }

    /**
     * @param attempts       tries of one record's recovery before it is given up here
     * @param firstBackoff   pause after the first failed try (doubling after each)
     * @param safetyInterval longest time between two looks at the book when nothing was signalled
     */
    public record Options(int attempts, long firstBackoffNanos, long safetyIntervalNanos) {
        public static final Options DEFAULTS = new Options(5, TimeUnit.MILLISECONDS.toNanos(10),
                TimeUnit.MILLISECONDS.toNanos(200));

        public Options {
            if (attempts < 1 || firstBackoffNanos < 0 || safetyIntervalNanos < 1) {
                throw new IllegalArgumentException("recovery options: attempts " + attempts + " must be positive, backoff "
                        + firstBackoffNanos + " ns not negative, safety interval " + safetyIntervalNanos + " ns positive");
            }
        }
    }

    private final Membership membership;
    private final Lease self;
    private final FenceBook book;
    private final ClusterLiveness liveness;
    private final ComputeNode node;
    private final int memoryNodes;
    private final Options options;
    private final Consumer<String> log;
    private final StepListener steps;
    private final ConcurrentLinkedQueue<Member> lapses = new ConcurrentLinkedQueue<>();
    private final Set<Member> givenUp = new HashSet<>();
    private final Thread thread;
    private final AutoCloseable membershipWatch;
    private final AutoCloseable bookWatch;
    private volatile boolean dirty = true;
    private volatile boolean closed;
    private volatile long recoveries;

    /**
     * Starts coordinating for {@code node}, whose lease is {@code self} and whose lock client reads
     * {@code liveness}.
     *
     * @param log   where failures and recoveries are reported, one line each
     * @param steps hears every step (null: nobody)
     */
    public RecoveryCoordinator(Membership membership, Lease self, FenceBook book, ClusterLiveness liveness,
                               ComputeNode node, Options options, Consumer<String> log, StepListener steps) {
        if (node.liveness() != liveness) {
            throw new IllegalArgumentException("the compute node's lock client must read this coordinator's liveness");
        }
        if (node.id() != self.member().id().id() || self.member().kind() != MemberKind.COMPUTE_NODE) {
            throw new IllegalArgumentException(self.member() + " is not compute node " + node.id());
        }
        this.membership = membership;
        this.self = self;
        this.book = book;
        this.liveness = liveness;
        this.node = node;
        this.memoryNodes = node.verbs().memoryNodeCount();
        this.options = options;
        this.log = log;
        this.steps = steps == null ? (m, s) -> { } : steps;
        this.thread = new Thread(this::run, "dmtree-recovery-cn" + node.id());
        thread.setDaemon(true);
        this.membershipWatch = membership.watch(new MembershipListener() {
            @Override
            public void joined(Member member) {
            }

            @Override
            public void lapsed(Member member) {
                if (member.kind() == MemberKind.COMPUTE_NODE && !member.sameIncarnation(self.member())) {
                    lapses.add(member);
                    signal();
                }
            }
        });
        this.bookWatch = book.watch(this::signal);
        self.onEnd(state -> signal());
        thread.start();
    }

    /** Recoveries this coordinator completed. */
    public long recoveries() {
        return recoveries;
    }

    /** Whether the coordinator's thread still runs. */
    public boolean running() {
        return thread.isAlive();
    }

    private void signal() {
        dirty = true;
        LockSupport.unpark(thread);
    }

    private void run() {
        while (!closed) {
            if (self.state().ended()) {
                log.accept("recovery coordinator of " + self.member() + " stops: its lease ended (" + self.state() + ")");
                return;
            }
            if (dirty) {
                dirty = false;
                try {
                    round();
                } catch (FencedException | LapsedMemberException e) {
                    log.accept("recovery coordinator of " + self.member() + " stops: " + e.getMessage());
                    return;
                } catch (RuntimeException e) {
                    dirty = true; // the book was out of reach: look again after a pause
                    log.accept("recovery coordinator of " + self.member() + ": reading the fence book failed: " + e);
                    LockSupport.parkNanos(this, options.safetyIntervalNanos());
                    continue;
                }
            }
            LockSupport.parkNanos(this, options.safetyIntervalNanos());
            dirty = true; // safety net: a coalesced or lost notice costs at most one interval
        }
    }

    /** One look at membership and the book (see the class comment). */
    private void round() {
        for (Member m; (m = lapses.poll()) != null; ) {
            book.requestFence(m);
        }
        List<FenceRecord> outstanding = book.outstanding();
        for (FenceRecord r : outstanding) {
            if (closed || !self.isLive()) {
                return;
            }
            Member lapsed = r.member();
            if (!r.fencedByAll(memoryNodes) || givenUp.contains(lapsed) || lapsed.id().id() == node.id()
                    || lapsed.id().id() >= node.computeNodeCount()) {
                continue;
            }
            if (!book.claimRecovery(self, lapsed)) {
                continue; // another live member holds the claim, or it is recovered: its end signals us
            }
            recoverWithRetries(lapsed);
        }
    }

    private void recoverWithRetries(Member lapsed) {
        steps.stepDone(lapsed, Step.CLAIMED);
        long backoff = options.firstBackoffNanos();
        RuntimeException last = null;
        for (int attempt = 1; attempt <= options.attempts() && !closed; attempt++) {
            try {
                recover(lapsed);
                return;
            } catch (FencedException | LapsedMemberException e) {
                throw e; // this member is out: another takes over once its lease ends
            } catch (RuntimeException e) {
                last = e;
                if (self.state().ended()) {
                    throw new LapsedMemberException(node.id(), "recovering " + lapsed);
                }
                log.accept("recovery of " + lapsed + " by " + self.member() + ": attempt " + attempt + " of "
                        + options.attempts() + " failed: " + e);
                LockSupport.parkNanos(this, backoff);
                backoff = Math.max(backoff * 2, 1);
            }
        }
        if (last != null) {
            givenUp.add(lapsed);
            log.accept("recovery of " + lapsed + " by " + self.member() + " given up after " + options.attempts()
                    + " attempts (the record stays outstanding; another member takes over when this one's lease ends): "
                    + last);
        }
    }

    /** One full run of the four steps for {@code lapsed} (idempotent, see the class comment). */
    private void recover(Member lapsed) {
        int slot = lapsed.id().id();
        long deadline = System.nanoTime() + options.safetyIntervalNanos() * 10;
        while (liveness.refresh() >= 0 && liveness.epoch(slot) != MemberLiveness.DEPARTED) {
            // the book said fenced by all; a liveness that does not agree yet is behind by one read
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("liveness still reports " + lapsed + " at epoch " + liveness.epoch(slot)
                        + " although every memory node fenced it (" + liveness + ")");
            }
            LockSupport.parkNanos(this, 1_000_000L);
        }
        long started = System.nanoTime();
        RepairReport repair = TreeRecovery.recover(node.verbs(), node.treeConfig(), slot);
        steps.stepDone(lapsed, Step.NODES_REPAIRED);
        RecoveryReport locks = node.lockDesign().recover(
                RecoveryContext.of(node.lockClient(), node.lockTable(), memoryNodes), slot);
        steps.stepDone(lapsed, Step.LOCKS_RECOVERED);
        TreeRecovery.completeSplits(node.tree(), repair);
        steps.stepDone(lapsed, Step.SPLITS_COMPLETED);
        MemoryReclaim.Report memory = MemoryReclaim.reclaim(node.tree(), slot, lapsed.epoch());
        steps.stepDone(lapsed, Step.MEMORY_RECLAIMED);
        self.checkLive(); // a claim that ended with the lease is another member's now: leave "recovered" to it
        book.recovered(lapsed);
        recoveries++;
        liveness.refresh();
        steps.stepDone(lapsed, Step.RECOVERED);
        log.accept("compute node " + node.id() + " recovered " + lapsed + " in "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms: " + repair + "; " + locks + "; " + memory);
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        ClusterLiveness.closeWatches(membershipWatch, bookWatch);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
