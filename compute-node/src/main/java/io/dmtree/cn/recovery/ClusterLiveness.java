package io.dmtree.cn.recovery;

import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.membership.FenceBook;
import io.dmtree.core.membership.FenceBook.FenceRecord;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.Membership;
import io.dmtree.core.membership.MembershipListener;
import io.dmtree.core.membership.MembershipView;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The {@link MemberLiveness} of one compute node in a cluster with membership: derived from this
 * process's {@link Membership} view and the cluster's {@link FenceBook}, so that what the lock
 * layer is told keeps the contract of {@link MemberLiveness} (departed only once fenced by every
 * memory node; departed until recovered).
 *
 * <h2>What it reports for compute-node slot {@code s}, first rule that applies</h2>
 * <ol>
 *   <li>{@link #DEPARTED} while the book holds a record of {@code s} that every memory node has
 *   fenced and that is not recovered yet: fenced, its locks not yet recovered.</li>
 *   <li>The epoch of the live incarnation of {@code s} in the view, if the book has no record of it
 *   (or of a later epoch).</li>
 *   <li>The epoch of the latest record of {@code s} that is not fenced by every memory node yet:
 *   lapsed, but its verbs may still take effect, so it keeps counting as a member.</li>
 *   <li>The epoch of the last incarnation of {@code s} this process saw in its view, if the book
 *   has no record of it yet: lapsed, fence not even requested.</li>
 *   <li>Otherwise {@link #DEPARTED}: the slot's incarnations are all recovered, or this process
 *   never saw one (a slot nobody holds holds nothing). The second case includes an incarnation
 *   that joined but whose join has not reached this process's view yet; a compute node's first
 *   verb comes after its join is committed, and views lag the service by the delivery of one
 *   change notice, so that window is short but not zero with a remote coordination service.</li>
 *   <li>This compute node's own slot is {@link #DEPARTED} as soon as its own lease ended
 *   ({@link #ownLease}): from then on its verbs are refused on this side too, and its waits must
 *   end with {@link io.dmtree.core.lock.LapsedMemberException}.</li>
 * </ol>
 *
 * <h2>Concurrency</h2>
 * Reads ({@link #epoch}, {@link #version}) are one volatile array element or field each, no
 * lock: every lock wait calls them. Every change goes through {@link #refresh}, which recomputes
 * all slots from one view and one read of the book, publishes each changed slot under this
 * object's monitor, and then increments the version once if anything changed (so a reader that saw
 * a new version sees the new epochs); the remote read of the book happens outside the monitor, so
 * {@link #awaitChange} never waits behind it, and refreshes are serialised by a lock of their own.
 * Membership notices and book changes only signal a refresher
 * thread of its own (listeners must not block, and reading a remote book blocks); {@link #refresh}
 * may also be called directly by a caller that needs the latest state (recovery does, before it
 * runs). {@link #awaitChange} waits on the monitor, bounded by its timeout.
 */
public final class ClusterLiveness implements MemberLiveness, AutoCloseable {
    /** Longest sleep of the refresher between two refreshes when no change was signalled. */
    private static final long SAFETY_REFRESH_NANOS = 200_000_000L;

    private final Membership membership;
    private final FenceBook book;
    private final int memoryNodes;
    private final AtomicLongArray epochs;
    /** The largest epoch per slot this process heard join or saw in its view, 0 for none. */
    private final AtomicLongArray lastSeen;
    private volatile long version;
    private volatile int self = -1;
    private volatile boolean selfEnded;
    private volatile boolean closed;
    private volatile boolean dirty = true;
    /** Serialises refreshes, so a refresh from an older read never publishes after a newer one. */
    private final ReentrantLock refreshing = new ReentrantLock();
    private final Thread refresher;
    private final AutoCloseable membershipWatch;
    private final AutoCloseable bookWatch;

    /**
     * @param membership    this process's membership (its view and notices)
     * @param book          the cluster's fence book
     * @param computeNodes  compute-node slots the lock layer names, {@code 0 .. computeNodes-1}
     * @param memoryNodes   memory nodes that must all fence a lapsed compute node
     */
    public ClusterLiveness(Membership membership, FenceBook book, int computeNodes, int memoryNodes) {
        if (computeNodes < 1 || memoryNodes < 1) {
            throw new IllegalArgumentException("liveness needs at least one compute node and one memory node: "
                    + computeNodes + ", " + memoryNodes);
        }
        this.membership = membership;
        this.book = book;
        this.memoryNodes = memoryNodes;
        this.epochs = new AtomicLongArray(computeNodes);
        this.lastSeen = new AtomicLongArray(computeNodes);
        for (int i = 0; i < computeNodes; i++) {
            epochs.set(i, DEPARTED);
        }
        refresh();
        this.refresher = new Thread(this::runRefresher, "dmtree-liveness");
        refresher.setDaemon(true);
        refresher.start();
        this.membershipWatch = membership.watch(new MembershipListener() {
            @Override
            public void joined(Member member) {
                saw(member);
                signal();
            }

            @Override
            public void lapsed(Member member) {
                signal();
            }
        });
        this.bookWatch = book.watch(this::signal);
    }

    /** This compute node's own lease: its slot reports departed once the lease ended. */
    public void ownLease(Lease lease) {
        self = lease.member().id().id();
        lease.onEnd(state -> {
            selfEnded = true;
            signal();
        });
        refresh();
    }

    @Override
    public long epoch(int computeNode) {
        return computeNode < 0 || computeNode >= epochs.length() ? DEPARTED : epochs.get(computeNode);
    }

    @Override
    public long version() {
        return version;
    }

    @Override
    public synchronized long awaitChange(long seenVersion, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (version == seenVersion && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                wait(Math.max(1, left / 1_000_000), 0);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return version;
    }

    /**
     * Recomputes every slot from the current view and book now (see the class comment), on the
     * caller's thread; returns the version then.
     */
    public long refresh() {
        refreshing.lock();
        try {
            return recompute(membership.view(), book.records());
        } finally {
            refreshing.unlock();
        }
    }

    /** One refresh from one view and one read of the book (refreshes are serialised by {@link #refreshing}). */
    private long recompute(MembershipView view, List<FenceRecord> records) {
        int n = epochs.length();
        long[] next = new long[n];
        Arrays.fill(next, DEPARTED);
        for (Member m : view.members(MemberKind.COMPUTE_NODE)) {
            saw(m);
        }
        for (int s = 0; s < n; s++) {
            next[s] = slotEpoch(s, view, records);
        }
        int me = self;
        if (selfEnded && me >= 0 && me < n) {
            next[me] = DEPARTED;
        }
        synchronized (this) {
            boolean changed = false;
            for (int s = 0; s < n; s++) {
                if (epochs.get(s) != next[s]) {
                    epochs.set(s, next[s]);
                    changed = true;
                }
            }
            if (changed) {
                version++;
                notifyAll();
            }
            return version;
        }
    }

    private long slotEpoch(int s, MembershipView view, List<FenceRecord> records) {
        long latestRecord = 0;
        long unfenced = 0;
        for (FenceRecord r : records) {
            Member m = r.member();
            if (m.id().id() != s) {
                continue;
            }
            boolean fencedByAll = r.fencedByAll(memoryNodes);
            if (fencedByAll && !r.recovered()) {
                return DEPARTED; // rule 1
            }
            latestRecord = Math.max(latestRecord, m.epoch());
            if (!fencedByAll) {
                unfenced = Math.max(unfenced, m.epoch());
            }
        }
        Member live = view.member(io.dmtree.core.membership.MemberId.computeNode(s)).orElse(null);
        if (live != null && live.epoch() > latestRecord) {
            return live.epoch(); // rule 2
        }
        if (unfenced > 0) {
            return unfenced; // rule 3
        }
        long seen = lastSeen.get(s);
        if (seen > latestRecord) {
            return seen; // rule 4
        }
        return DEPARTED; // rule 5
    }

    private void saw(Member m) {
        int s = m.id().id();
        if (m.kind() == MemberKind.COMPUTE_NODE && s < lastSeen.length()) {
            lastSeen.accumulateAndGet(s, m.epoch(), Math::max);
        }
    }

    private void signal() {
        dirty = true;
        LockSupport.unpark(refresher);
    }

    private void runRefresher() {
        while (!closed) {
            if (dirty) {
                dirty = false;
                try {
                    refresh();
                } catch (RuntimeException e) {
                    // the book or the service was out of reach: the safety refresh tries again
                    dirty = true;
                    LockSupport.parkNanos(this, 10_000_000L);
                    continue;
                }
            }
            LockSupport.parkNanos(this, SAFETY_REFRESH_NANOS);
            dirty |= !closed; // the safety net: a notice may be coalesced away by a remote book
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(refresher);
        closeWatches(membershipWatch, bookWatch);
        synchronized (this) {
            notifyAll();
        }
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("cluster liveness [");
        for (int s = 0; s < epochs.length(); s++) {
            long e = epochs.get(s);
            b.append(s == 0 ? "" : ", ").append(e == DEPARTED ? "-" : Long.toString(e));
        }
        return b.append("] (version ").append(version).append(')').toString();
    }

    /** Unsubscribes watches of a membership or fence book that may be closing already. */
    static void closeWatches(AutoCloseable... watches) {
        for (AutoCloseable w : watches) {
            try {
                w.close();
            } catch (Exception e) {
                // the membership or book is closing too
            }
        }
    }
}
