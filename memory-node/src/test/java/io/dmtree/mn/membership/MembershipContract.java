package io.dmtree.mn.membership;

import io.dmtree.core.membership.BarrierParties;
import io.dmtree.core.membership.BarrierRelease;
import io.dmtree.core.membership.BarrierTimeoutException;
import io.dmtree.core.membership.ClusterConfiguration;
import io.dmtree.core.membership.ConfigurationConflictException;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.LeaseLapsedException;
import io.dmtree.core.membership.LeaseState;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberId;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.Membership;
import io.dmtree.core.membership.MembershipListener;
import io.dmtree.core.membership.MembershipTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link Membership} contract, run against every implementation: joins and epochs, the id
 * pool, lapses after a member stops renewing (each seen once by every watcher, before the slot's
 * next join), barriers that release on arrival or lapse and time out clearly, and the versioned
 * configuration. A subclass supplies the cluster ({@link Fixture}); "connections" stand for
 * processes (the in-process implementation has one, shared).
 *
 * <p>No timing is asserted: every wait is bounded (by {@link #await} or a timeout), and a bound
 * that passes only means the implementation is slow, never that it is right.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
abstract class MembershipContract {
    /**
     * The lease of the contract runs: long enough that a live member does not lapse on a 2-core host
     * shared by several builds (load averages of 8 delay threads by hundreds of ms, and a 1 s lease
     * was seen to lapse spuriously there), short enough that the lapse tests stay quick.
     */
    static final Duration LEASE = Duration.ofMillis(2500);
    static final Duration WAIT = Duration.ofSeconds(20);

    /** A cluster to test against. */
    interface Fixture extends AutoCloseable {
        /** One more process's connection (may be the same object for in-process). */
        Membership connect() throws Exception;

        /** A connection whose leases {@link #freeze} can stop renewing. */
        Membership connectFreezable() throws Exception;

        /** The holder of {@code lease} (joined through {@code m}) stops renewing, as if frozen. */
        void freeze(Membership m, Lease lease) throws Exception;

        /** The frozen holder runs again. */
        void thaw(Membership m, Lease lease) throws Exception;

        @Override
        void close() throws Exception;
    }

    /** A fresh cluster with lease {@code lease} and a pool of {@code computeNodes} compute-node ids. */
    abstract Fixture start(Duration lease, int computeNodes) throws Exception;

    private Fixture fixture;

    Fixture fixture() throws Exception {
        return fixture(16);
    }

    Fixture fixture(int computeNodes) throws Exception {
        fixture = start(LEASE, computeNodes);
        return fixture;
    }

    @AfterEach
    void stop() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
    }

    static long seed() {
        long seed = Long.getLong("dmtree.seed", System.nanoTime());
        System.out.println("dmtree.seed=" + seed);
        return seed;
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT.toSeconds() + " s: " + what);
            }
            Thread.sleep(5);
        }
    }

    /** Records what a listener hears, and checks the notice rules on the fly. */
    static final class Recorder implements MembershipListener {
        final ConcurrentLinkedQueue<String> log = new ConcurrentLinkedQueue<>();
        final Map<Member, Integer> joins = new HashMap<>();
        final Map<Member, Integer> lapses = new HashMap<>();
        final Map<MemberId, Member> current = new HashMap<>();
        final List<String> violations = new ArrayList<>();

        @Override
        public synchronized void joined(Member m) {
            log.add("+" + m);
            if (joins.merge(m, 1, Integer::sum) > 1) {
                violations.add("joined twice: " + m);
            }
            Member cur = current.get(m.id());
            if (cur != null) {
                violations.add("join of " + m + " while " + cur + " was not reported lapsed");
            }
            current.put(m.id(), m);
        }

        @Override
        public synchronized void lapsed(Member m) {
            log.add("-" + m);
            if (lapses.merge(m, 1, Integer::sum) > 1) {
                violations.add("lapsed twice: " + m);
            }
            if (!joins.containsKey(m)) {
                violations.add("lapse without join: " + m);
            }
            if (m.equals(current.get(m.id()))) {
                current.remove(m.id());
            } else {
                violations.add("lapse of " + m + " which is not the current incarnation " + current.get(m.id()));
            }
        }

        synchronized boolean lapsedOnce(Member m) {
            return lapses.getOrDefault(m, 0) == 1;
        }

        synchronized boolean joined(Member m, boolean any) {
            return joins.containsKey(m);
        }

        synchronized List<String> violations() {
            return List.copyOf(violations);
        }
    }

    @Test
    void joinsTakeTheLowestFreeIdsAndEverGrowingEpochs() throws Exception {
        Fixture f = fixture();
        Membership a = f.connect();
        Membership b = f.connect();
        Lease l0 = a.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "tcp:127.0.0.1:1", WAIT);
        Lease l1 = b.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "tcp:127.0.0.1:2", WAIT);
        Lease l2 = a.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
        assertEquals(List.of(0, 1, 2), List.of(l0.member().id().id(), l1.member().id().id(), l2.member().id().id()));
        assertTrue(l0.member().epoch() < l1.member().epoch() && l1.member().epoch() < l2.member().epoch());
        assertTrue(a.view().isLive(l0.member()), "a join is in its own process's view when join returns");
        assertTrue(b.view().isLive(l1.member()));
        assertEquals("tcp:127.0.0.1:1", l0.member().endpoint());
        Lease mn = b.join(MemberKind.MEMORY_NODE, 5, "tcp:127.0.0.1:7400", WAIT);
        assertEquals(MemberId.memoryNode(5), mn.member().id());
        assertTrue(mn.member().epoch() > l2.member().epoch(), "one epoch counter for every kind");
        await("both views agree", () -> a.view().equals(b.view()) && a.view().size() == 4);

        l1.close();
        assertEquals(LeaseState.CLOSED, l1.state());
        await("a closed lease leaves every view", () -> !a.view().isLive(l1.member()) && !b.view().isLive(l1.member()));
        Lease again = a.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
        assertEquals(1, again.member().id().id(), "the id came back to the pool");
        assertTrue(again.member().epoch() > mn.member().epoch(), "a rejoin takes a new, larger epoch");

        MembershipTimeoutException taken = assertThrows(MembershipTimeoutException.class,
                () -> b.join(MemberKind.COMPUTE_NODE, 0, "", Duration.ofMillis(200)));
        assertTrue(taken.getMessage().contains("compute node id 0 is held by live member cn 0 epoch " + l0.member().epoch()),
                taken.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.join(MemberKind.COMPUTE_NODE, 16, "", WAIT));
        assertThrows(IllegalArgumentException.class, () -> a.join(MemberKind.COMPUTE_NODE, -7, "", WAIT));
        assertThrows(IllegalArgumentException.class, () -> a.join(MemberKind.COMPUTE_NODE, 0, "x".repeat(513), WAIT));
    }

    @Test
    void aFullPoolMakesAJoinWaitForAnIdToComeBack() throws Exception {
        Fixture f = fixture(3);
        Membership a = f.connect();
        Membership b = f.connect();
        List<Lease> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(a.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT));
        }
        MembershipTimeoutException full = assertThrows(MembershipTimeoutException.class,
                () -> b.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", Duration.ofMillis(200)));
        assertTrue(full.getMessage().contains("all 3 compute node ids are held"), full.getMessage());
        CompletableFuture<Lease> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return b.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        assertFalse(waiting.isDone(), "no id is free yet");
        held.get(1).close();
        Lease got = waiting.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(1, got.member().id().id());
    }

    @Test
    void aMemberThatStopsRenewingLapsesOnceForEveryWatcherAndItsHandleLearnsIt() throws Exception {
        Fixture f = fixture();
        Membership watcherA = f.connect();
        Membership watcherB = f.connect();
        Membership holder = f.connectFreezable();
        Recorder ra = new Recorder();
        Recorder rb = new Recorder();
        try (AutoCloseable sa = watcherA.watch(ra); AutoCloseable sb = watcherB.watch(rb)) {
            Lease lease = holder.join(MemberKind.COMPUTE_NODE, 4, "tcp:127.0.0.1:4", WAIT);
            Member first = lease.member();
            await("watchers hear the join", () -> ra.joined(first, true) && rb.joined(first, true));
            List<LeaseState> ends = new ArrayList<>();
            lease.onEnd(s -> {
                synchronized (ends) {
                    ends.add(s);
                }
            });
            f.freeze(holder, lease);
            await("watchers hear the lapse", () -> ra.lapsedOnce(first) && rb.lapsedOnce(first));
            assertFalse(watcherA.view().isLive(first));
            f.thaw(holder, lease);
            assertEquals(LeaseState.LAPSED, lease.awaitEnd(WAIT), "the holder's handle learns of its lapse");
            assertThrows(LeaseLapsedException.class, lease::checkLive);
            synchronized (ends) {
                assertEquals(List.of(LeaseState.LAPSED), ends, "end callbacks run once");
            }
            Lease again = holder.join(MemberKind.COMPUTE_NODE, 4, "tcp:127.0.0.1:4", WAIT);
            assertTrue(again.member().epoch() > first.epoch());
            await("watchers hear the rejoin", () -> ra.joined(again.member(), true) && rb.joined(again.member(), true));
            for (Recorder r : List.of(ra, rb)) {
                List<String> log = List.copyOf(r.log);
                assertTrue(log.indexOf("-" + first) < log.indexOf("+" + again.member()),
                        "lapse of the old epoch before the join of the new: " + log);
                assertEquals(List.of(), r.violations());
            }
            Thread.sleep(3 * LEASE.toMillis());
            assertEquals(1, (int) ra.lapses.get(first), "still exactly one lapse");
            assertTrue(again.isLive(), "the new incarnation keeps renewing");
        }
    }

    @Test
    void seededChurnGivesEveryWatcherExactlyOneLapsePerEpochInOrder() throws Exception {
        long seed = seed();
        Random rnd = new Random(seed);
        Fixture f = fixture(6);
        Membership w1 = f.connect();
        Membership w2 = f.connect();
        Membership[] joiners = {f.connect(), f.connect(), f.connectFreezable()};
        Recorder r1 = new Recorder();
        Recorder r2 = new Recorder();
        List<Member> every = new ArrayList<>();
        try (AutoCloseable s1 = w1.watch(r1)) {
            List<Lease> live = new ArrayList<>();
            List<Membership> via = new ArrayList<>();
            AutoCloseable s2 = null;
            int steps = 24;
            for (int i = 0; i < steps; i++) {
                if (i == steps / 2) {
                    s2 = w2.watch(r2); // a late subscriber first hears the view as joins
                }
                int op = rnd.nextInt(3);
                if (op == 0 || live.isEmpty()) {
                    int j = rnd.nextInt(joiners.length);
                    if (live.size() < 6) {
                        Lease l = joiners[j].join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
                        live.add(l);
                        via.add(joiners[j]);
                        every.add(l.member());
                    }
                } else {
                    int k = rnd.nextInt(live.size());
                    Lease l = live.remove(k);
                    Membership m = via.remove(k);
                    if (op == 1 || m != joiners[2]) {
                        l.close();
                    } else {
                        f.freeze(m, l);
                        assertEquals(LeaseState.LAPSED, awaitLapse(f, m, l), "seed " + seed);
                    }
                }
            }
            for (Lease l : live) {
                l.close();
            }
            await("seed " + seed + ": every incarnation lapsed for watcher 1", () -> {
                synchronized (r1) {
                    return every.stream().allMatch(r1::lapsedOnce);
                }
            });
            await("seed " + seed + ": watcher 2 heard every lapse of what it heard join", () -> {
                synchronized (r2) {
                    return r2.joins.keySet().stream().allMatch(r2::lapsedOnce) && r2.current.isEmpty();
                }
            });
            assertEquals(List.of(), r1.violations(), "seed " + seed);
            assertEquals(List.of(), r2.violations(), "seed " + seed);
            assertTrue(r1.joins.keySet().containsAll(every), "watcher 1 saw every join (connected throughout)");
            if (s2 != null) {
                s2.close();
            }
        }
    }

    private static LeaseState awaitLapse(Fixture f, Membership m, Lease l) throws Exception {
        // watchers of other processes see the lapse first; thaw so the holder learns it too
        Membership probe = f.connect();
        await("lapse of " + l.member(), () -> !probe.view().isLive(l.member()));
        f.thaw(m, l);
        return l.awaitEnd(WAIT);
    }

    @Test
    void aCountBarrierReleasesOnArrivalWithEqualReleasesAndTheNameIsReused() throws Exception {
        Fixture f = fixture();
        List<Membership> ms = List.of(f.connect(), f.connect(), f.connect());
        List<Lease> ls = new ArrayList<>();
        for (Membership m : ms) {
            ls.add(m.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT));
        }
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            for (int round = 0; round < 2; round++) {
                List<Future<BarrierRelease>> fs = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    int me = i;
                    fs.add(pool.submit(() -> ms.get(me).arrive(ls.get(me), "run/start", BarrierParties.count(
                            MemberKind.COMPUTE_NODE, 3), ("p" + me).getBytes(StandardCharsets.UTF_8), WAIT)));
                    if (i == 1) {
                        Thread.sleep(100);
                        assertFalse(fs.get(0).isDone(), "two of three arrived: the round waits");
                    }
                }
                BarrierRelease first = fs.get(0).get();
                for (Future<BarrierRelease> r : fs) {
                    BarrierRelease rel = r.get();
                    assertEquals(round, rel.round());
                    assertEquals(first.arrivals().keySet(), rel.arrivals().keySet());
                    assertEquals(Set.of(), rel.lapsed());
                }
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(("p" + i).getBytes(StandardCharsets.UTF_8), first.payloadOf(ls.get(i).member().id()));
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aMemberBarrierExcusesALapsedPartyAndNamesIt() throws Exception {
        Fixture f = fixture();
        Membership a = f.connect();
        Membership b = f.connect();
        Membership c = f.connectFreezable();
        Lease la = a.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
        Lease lb = b.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
        Lease lc = c.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
        BarrierParties parties = BarrierParties.members(Set.of(la.member(), lb.member(), lc.member()));
        CompletableFuture<BarrierRelease> fa = CompletableFuture.supplyAsync(() -> arrive(a, la, "results", parties, "a"));
        CompletableFuture<BarrierRelease> fb = CompletableFuture.supplyAsync(() -> arrive(b, lb, "results", parties, "b"));
        Thread.sleep(200);
        assertFalse(fa.isDone(), "two of three members arrived: the round waits for the live third");
        f.freeze(c, lc);
        BarrierRelease ra = fa.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        BarrierRelease rb = fb.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(new TreeSet<>(Set.of(lc.member())), ra.lapsed());
        assertEquals(ra.lapsed(), rb.lapsed());
        assertEquals(new TreeSet<>(Set.of(la.member(), lb.member())), ra.arrivals().keySet());
        assertEquals("b", new String(ra.payloadOf(lb.member().id()), StandardCharsets.UTF_8));
        assertEquals("a", new String(rb.payloadOf(la.member().id()), StandardCharsets.UTF_8));
        f.thaw(c, lc);
        assertEquals(LeaseState.LAPSED, lc.awaitEnd(WAIT));
        assertThrows(LeaseLapsedException.class, () -> c.arrive(lc, "results", parties, new byte[0], WAIT));
        Lease again = c.join(MemberKind.COMPUTE_NODE, lc.member().id().id(), "", WAIT);
        assertThrows(IllegalArgumentException.class, () -> c.arrive(again, "results", parties, new byte[0], WAIT),
                "a new incarnation is not a party of a round listing the old one");
    }

    private static BarrierRelease arrive(Membership m, Lease l, String name, BarrierParties p, String payload) {
        try {
            return m.arrive(l, name, p, payload.getBytes(StandardCharsets.UTF_8), WAIT);
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void aBarrierNotReleasedInTimeSaysWhoArrivedAndWithdrawsTheArrival() throws Exception {
        Fixture f = fixture();
        Membership a = f.connect();
        Membership b = f.connect();
        Lease la = a.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
        Lease lb = b.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
        BarrierTimeoutException t = assertThrows(BarrierTimeoutException.class, () -> a.arrive(la, "start",
                BarrierParties.count(MemberKind.COMPUTE_NODE, 2), new byte[0], Duration.ofMillis(300)));
        assertTrue(t.getMessage().contains("barrier 'start': 1 of 2 compute nodes arrived within"), t.getMessage());
        assertEquals(new TreeSet<>(Set.of(la.member())), t.arrived());
        // the arrival was withdrawn: b alone does not complete a round of 2, and the round can take other parties
        assertThrows(BarrierTimeoutException.class, () -> b.arrive(lb, "start",
                BarrierParties.count(MemberKind.COMPUTE_NODE, 2), new byte[0], Duration.ofMillis(300)));
        BarrierParties both = BarrierParties.members(Set.of(la.member(), lb.member()));
        BarrierTimeoutException m = assertThrows(BarrierTimeoutException.class,
                () -> a.arrive(la, "start", both, new byte[0], Duration.ofMillis(300)));
        assertTrue(m.getMessage().contains("still live and missing: [" + lb.member() + "]"), m.getMessage());
    }

    @Test
    void aRoundRefusesArrivalsNamingOtherPartiesOrNonParties() throws Exception {
        Fixture f = fixture();
        Membership a = f.connect();
        Membership b = f.connect();
        Lease la = a.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
        Lease lb = b.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
        Lease mn = b.join(MemberKind.MEMORY_NODE, 0, "", WAIT);
        CompletableFuture<BarrierRelease> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return a.arrive(la, "go", BarrierParties.count(MemberKind.COMPUTE_NODE, 2), new byte[0], WAIT);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        await("a waits", () -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return false;
            }
            return true;
        });
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> b.arrive(lb, "go", BarrierParties.count(MemberKind.COMPUTE_NODE, 3), new byte[0], WAIT));
        assertTrue(other.getMessage().contains("waits for 2 compute nodes, not 3 compute nodes"), other.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> b.arrive(mn, "go", BarrierParties.count(MemberKind.COMPUTE_NODE, 2), new byte[0], WAIT));
        assertThrows(IllegalArgumentException.class, () -> b.arrive(lb, "", BarrierParties.count(MemberKind.COMPUTE_NODE,
                2), new byte[0], WAIT));
        assertThrows(IllegalArgumentException.class, () -> b.arrive(lb, "go", BarrierParties.count(MemberKind.COMPUTE_NODE,
                2), new byte[Membership.MAX_BARRIER_PAYLOAD_BYTES + 1], WAIT));
        BarrierRelease r = b.arrive(lb, "go", BarrierParties.count(MemberKind.COMPUTE_NODE, 2), new byte[0], WAIT);
        assertEquals(r.arrivals().keySet(), waiting.get(WAIT.toSeconds(), TimeUnit.SECONDS).arrivals().keySet());
    }

    @Test
    void theConfigurationIsAVersionedDocumentUpdatedByCompareAndSet() throws Exception {
        Fixture f = fixture();
        Membership a = f.connect();
        Membership b = f.connect();
        ClusterConfiguration c0 = a.configuration();
        assertEquals(0, c0.version());
        assertEquals(Map.of(), c0.entries());
        ClusterConfiguration c1 = a.updateConfiguration(0, Map.of("mn.0", "tcp:10.0.0.1:7400", "lock", "modular"));
        assertEquals(1, c1.version());
        assertEquals(c1, b.configuration());
        ConfigurationConflictException stale = assertThrows(ConfigurationConflictException.class,
                () -> b.updateConfiguration(0, Map.of("lock", "cas-spin")));
        assertEquals(c1, stale.current());
        CompletableFuture<ClusterConfiguration> newer = CompletableFuture.supplyAsync(() -> {
            try {
                return b.awaitConfiguration(1, WAIT);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(50);
        ClusterConfiguration c2 = a.updateConfiguration(1, c1.with("lock", "cas-spin"));
        assertEquals(c2, newer.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals("cas-spin", b.configuration().get("lock").orElseThrow());
        assertThrows(MembershipTimeoutException.class, () -> b.awaitConfiguration(2, Duration.ofMillis(100)));
        assertThrows(IllegalArgumentException.class, () -> a.updateConfiguration(2, Map.of("", "x")));

        // concurrent read-modify-write through compare-and-set loses no increment
        int threads = 3;
        int each = 15;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Membership m = t % 2 == 0 ? a : b;
                fs.add(pool.submit(() -> {
                    int conflicts = 0;
                    for (int i = 0; i < each; i++) {
                        while (true) {
                            ClusterConfiguration cur = m.configuration();
                            int n = Integer.parseInt(cur.get("counter").orElse("0"));
                            try {
                                m.updateConfiguration(cur.version(), cur.with("counter", String.valueOf(n + 1)));
                                break;
                            } catch (ConfigurationConflictException e) {
                                conflicts++;
                                assertNotEquals(cur.version(), e.current().version());
                            }
                        }
                    }
                    return conflicts;
                }));
            }
            for (Future<Integer> x : fs) {
                x.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        ClusterConfiguration end = a.configuration();
        assertEquals(String.valueOf(threads * each), end.get("counter").orElseThrow());
        assertEquals(2 + threads * each, end.version(), "every accepted update adds exactly one to the version");
    }
}
