package io.dmtree.core.membership;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@link Membership} kept inside one JVM, for the embedded cluster: no coordination service, no
 * thread but the {@link MemberTracker}'s (which also runs lease expiry). Runs on a stock JDK.
 *
 * <p>Leases: in one process a member cannot stop without the process stopping too, so a lease is
 * renewed for as long as its handle is open; {@link #stopRenewing} stands for a member that stopped
 * (crashed, or paused for good) and makes its lease lapse one lease length later, exactly as a
 * coordination service would see it; {@link #resumeRenewing} before then stands for a pause shorter
 * than the lease. This is the fault-injection seam of in-process crash tests.
 *
 * <p>State and invariants: one monitor ({@code this}) guards the slot table, the epoch counter, the
 * configuration and the barrier rounds, so each of the steps the class comment of {@link Membership}
 * calls atomic is one critical section: a join takes its slot and epoch together; a lease's end
 * frees its slot, withdraws its arrivals and re-examines every open round together; a round
 * releases once, and is then detached from its name (the next arrival opens the next round). Evidence
 * goes to the tracker after the critical section, in the order the sections ran (each section hands
 * its evidence over before releasing the monitor), so the view changes in the service's order.
 * Waits (join, barrier, configuration) are bounded and wake on every change or on {@link #close}.
 */
public final class InProcessMembership implements Membership {
    private final MembershipOptions options;
    private final MemberTracker tracker;
    private final Map<MemberId, InProcessLease> holders = new HashMap<>();
    private final Map<String, Round> openRounds = new HashMap<>();
    private final Map<String, Long> releasedRounds = new HashMap<>();
    private ClusterConfiguration configuration = ClusterConfiguration.EMPTY;
    private long lastEpoch;
    private boolean closed;

    public InProcessMembership(MembershipOptions options) {
        this.options = options;
        this.tracker = new MemberTracker("in-process");
    }

    public InProcessMembership() {
        this(MembershipOptions.DEFAULTS);
    }

    @Override
    public MembershipOptions options() {
        return options;
    }

    @Override
    public Duration leaseLength() {
        return options.lease();
    }

    @Override
    public Lease join(MemberKind kind, int wantedId, String endpoint, Duration timeout) throws InterruptedException {
        Membership.checkWantedId(options, kind, wantedId);
        Member.checkEndpoint(endpoint);
        long deadline = System.nanoTime() + timeout.toNanos();
        InProcessLease lease = null;
        java.util.concurrent.CompletableFuture<Void> seen = null;
        synchronized (this) {
            while (lease == null) {
                checkOpen();
                int id = freeId(kind, wantedId);
                if (id >= 0) {
                    Member m = new Member(new MemberId(kind, id), ++lastEpoch, endpoint);
                    lease = new InProcessLease(this, m);
                    holders.put(m.id(), lease);
                    seen = tracker.present(m);
                    notifyAll();
                    break;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new MembershipTimeoutException(holdersMessage(kind, wantedId) + " after waiting "
                            + timeout.toMillis() + " ms");
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
        // read-your-own-join, waited for outside the monitor (the tracker thread may need it to end a lease)
        tracker.await(seen);
        return lease;
    }

    private int freeId(MemberKind kind, int wantedId) {
        if (wantedId != ANY_ID) {
            return holders.containsKey(new MemberId(kind, wantedId)) ? -1 : wantedId;
        }
        for (int i = 0; i < options.poolSize(kind); i++) {
            if (!holders.containsKey(new MemberId(kind, i))) {
                return i;
            }
        }
        return -1;
    }

    private String holdersMessage(MemberKind kind, int wantedId) {
        if (wantedId != ANY_ID) {
            InProcessLease h = holders.get(new MemberId(kind, wantedId));
            return kind.noun() + " id " + wantedId + " is held by live member " + (h == null ? "?" : h.member()
                    + (h.member().endpoint().isEmpty() ? "" : " at " + h.member().endpoint()));
        }
        List<Member> held = new ArrayList<>();
        for (InProcessLease l : holders.values()) {
            if (l.member().kind() == kind) {
                held.add(l.member());
            }
        }
        held.sort(null);
        return "all " + options.poolSize(kind) + " " + kind.noun() + " ids are held by live members " + held;
    }

    /**
     * Fault injection: {@code lease}'s holder stops renewing (as if it crashed or froze); the lease
     * lapses {@link #leaseLength()} from now unless {@link #resumeRenewing} comes first.
     */
    public synchronized void stopRenewing(Lease lease) {
        InProcessLease l = own(lease);
        if (l.status.state().ended() || l.expiry != null) {
            return;
        }
        l.expiry = tracker.schedule(() -> end(l, LeaseState.LAPSED), options.lease().toNanos());
    }

    /** The holder renews again; no effect if the lease already lapsed. */
    public synchronized void resumeRenewing(Lease lease) {
        InProcessLease l = own(lease);
        if (l.expiry != null && !l.status.state().ended()) {
            l.expiry.cancel(false);
            l.expiry = null;
        }
    }

    private InProcessLease own(Lease lease) {
        if (!(lease instanceof InProcessLease l) || l.owner != this) {
            throw new IllegalArgumentException(lease + " is not a lease of this membership");
        }
        return l;
    }

    /** Ends {@code l} with {@code how}: frees the slot, withdraws its arrivals, tells everyone. */
    void end(InProcessLease l, LeaseState how) {
        CompletableFuture<Void> published;
        synchronized (this) {
            if (holders.get(l.member().id()) != l) {
                return;
            }
            holders.remove(l.member().id());
            if (l.expiry != null) {
                l.expiry.cancel(false);
            }
            for (Round r : List.copyOf(openRounds.values())) {
                r.arrivals.remove(l.member());
                releaseIfComplete(r);
            }
            published = tracker.ended(l.member().id(), l.member().epoch());
            notifyAll();
        }
        // the lease reports its end only once the view no longer lists it (the tracker publishes on its thread)
        if (tracker.onTrackerThread()) {
            published.whenComplete((done, failed) -> l.status.end(how));
        } else {
            try {
                published.join();
            } catch (RuntimeException closed) {
                // membership closed meanwhile: there is no view to wait for
            }
            l.status.end(how);
        }
    }

    @Override
    public MembershipView view() {
        return tracker.view();
    }

    @Override
    public AutoCloseable watch(MembershipListener listener) {
        return tracker.subscribe(listener);
    }

    @Override
    public synchronized ClusterConfiguration configuration() {
        checkOpen();
        return configuration;
    }

    @Override
    public synchronized ClusterConfiguration updateConfiguration(long expectedVersion, Map<String, String> entries) {
        checkOpen();
        ClusterConfiguration.checkEntries(entries);
        if (configuration.version() != expectedVersion) {
            throw new ConfigurationConflictException(expectedVersion, configuration);
        }
        configuration = new ClusterConfiguration(expectedVersion + 1, new TreeMap<>(entries));
        notifyAll();
        return configuration;
    }

    @Override
    public synchronized ClusterConfiguration awaitConfiguration(long newerThan, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            checkOpen();
            if (configuration.version() > newerThan) {
                return configuration;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new MembershipTimeoutException("cluster configuration still at version " + configuration.version()
                        + " after " + timeout.toMillis() + " ms (waited for one newer than " + newerThan + ")");
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    @Override
    public BarrierRelease arrive(Lease self, String name, BarrierParties parties, byte[] payload, Duration timeout)
            throws InterruptedException {
        Membership.checkBarrier(name, payload);
        InProcessLease l = own(self);
        Member me = l.member();
        parties.checkParty(me, name);
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        synchronized (this) {
            checkOpen();
            l.checkLive();
            Round r = openRounds.get(name);
            if (r == null) {
                r = new Round(name, releasedRounds.getOrDefault(name, 0L), parties);
                openRounds.put(name, r);
            } else if (!r.parties.equals(parties)) {
                throw new IllegalArgumentException("barrier '" + name + "' round " + r.number + " waits for "
                        + r.parties + ", not " + parties + ": start every member with the same settings");
            }
            if (r.arrivals.containsKey(me)) {
                throw new IllegalStateException(me + " already waits at barrier '" + name + "'");
            }
            long bytes = payload.length;
            for (byte[] p : r.arrivals.values()) {
                bytes += p.length;
            }
            if (bytes > MAX_BARRIER_ROUND_BYTES) {
                throw new IllegalArgumentException("barrier '" + name + "': payloads of " + bytes
                        + " bytes in one round; at most " + MAX_BARRIER_ROUND_BYTES);
            }
            r.arrivals.put(me, payload.clone());
            releaseIfComplete(r);
            while (r.release == null) {
                if (closed) {
                    throw new MembershipException("membership is closed");
                }
                if (l.status.state().ended()) {
                    throw new LeaseLapsedException(me, l.status.state()); // end() withdrew the arrival
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    r.arrivals.remove(me);
                    SortedSet<Member> arrived = new TreeSet<>(r.arrivals.keySet());
                    if (r.arrivals.isEmpty()) {
                        openRounds.remove(name, r);
                    }
                    arrived.add(me);
                    throw new BarrierTimeoutException(name, parties, arrived,
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return r.release;
        }
    }

    /** Releases {@code r} if complete (under the monitor). */
    private void releaseIfComplete(Round r) {
        if (r.release != null || r.arrivals.isEmpty()) {
            return;
        }
        SortedSet<Member> lapsed = new TreeSet<>();
        boolean complete;
        if (r.parties instanceof BarrierParties.Count c) {
            complete = r.arrivals.size() >= c.count();
        } else {
            complete = true;
            for (Member p : ((BarrierParties.Members) r.parties).members()) {
                if (r.arrivals.containsKey(p)) {
                    continue;
                }
                InProcessLease h = holders.get(p.id());
                if (h != null && h.member().epoch() == p.epoch()) {
                    complete = false; // live and not here yet
                } else {
                    lapsed.add(p); // that incarnation is not live, and epochs never come back
                }
            }
        }
        if (complete) {
            r.release = new BarrierRelease(r.name, r.number, new TreeMap<>(r.arrivals), lapsed);
            openRounds.remove(r.name, r);
            releasedRounds.put(r.name, r.number + 1);
            notifyAll();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new MembershipException("membership is closed");
        }
    }

    @Override
    public void close() {
        List<InProcessLease> leases;
        synchronized (this) {
            if (closed) {
                return;
            }
            leases = List.copyOf(holders.values());
        }
        for (InProcessLease l : leases) {
            end(l, LeaseState.CLOSED);
        }
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        tracker.close();
    }

    private static final class Round {
        final String name;
        final long number;
        final BarrierParties parties;
        final Map<Member, byte[]> arrivals = new TreeMap<>();
        BarrierRelease release;

        Round(String name, long number, BarrierParties parties) {
            this.name = name;
            this.number = number;
            this.parties = parties;
        }
    }
}
