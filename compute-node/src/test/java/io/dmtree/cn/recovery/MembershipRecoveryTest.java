package io.dmtree.cn.recovery;

import io.dmtree.cn.LockedCounter;
import io.dmtree.cn.recovery.FencedCluster.Incarnation;
import io.dmtree.core.lock.LapsedMemberException;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.membership.FenceBook.FenceRecord;
import io.dmtree.core.membership.LeaseState;
import io.dmtree.core.membership.Member;
import io.dmtree.core.memory.FencedException;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.lock.LockDesigns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Three compute nodes in one JVM with in-process membership and fence book; one of them stops
 * renewing its lease while it holds 1, 10 or 100 locks and runs tree writes. Its lease lapses, its
 * own side fences it ({@link MemberFence}), the memory nodes' stand-in fences it and acknowledges,
 * and one of the two live compute nodes' {@link RecoveryCoordinator} claims and recovers it, while
 * the live ones keep incrementing counters under the held locks. They must all finish; the counter
 * is exact; every acknowledged write is there (the stopped node's write in flight wholly or not at
 * all); the tree checker passes; the stopped node's next operation throws {@link FencedException};
 * a new incarnation of its slot waits for the recovery and then works. Every wait is bounded; the
 * seed is printed and replayed with {@code -Ddmtree.seed=N}.
 */
class MembershipRecoveryTest {
    private static final Duration LEASE = Duration.ofMillis(50);
    private static final long BOUND_MILLIS = 60_000;
    private static final int THREADS = 2;
    private static final int OPS = 150;
    private static final int VICTIM = 2;

    static Stream<Arguments> plans() {
        List<Arguments> out = new ArrayList<>();
        for (String d : List.of("modular", "cas-spin")) {
            for (int held : new int[]{1, 10, 100}) {
                out.add(Arguments.of(d, held));
            }
        }
        for (String d : LockDesigns.names()) {
            if (!d.equals("modular") && !d.equals("cas-spin")) {
                out.add(Arguments.of(d, 10));
            }
        }
        return out.stream();
    }

    private static long seed(String test) {
        String fixed = System.getProperty("dmtree.seed");
        long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        System.out.println(test + " seed=" + seed + " (replay with -Ddmtree.seed=" + seed + ")");
        return seed;
    }

    /** Counter words on memory node 0 whose locks are distinct lock-table slots. */
    private static long[] counterWords(FencedCluster c, Incarnation any, int n) {
        long chunk = LockedCounter.allocateWord(c.controlPlane, 0);
        long[] words = new long[n];
        Set<Long> locks = new HashSet<>();
        int found = 0;
        for (long w = chunk; found < n; w += 8) {
            if (locks.add(any.node.lockTable().lockFor(w))) {
                words[found++] = w;
            }
        }
        return words;
    }

    /** One thread's tree writes: its last acknowledged value per key, and the write in flight. */
    private static final class Writes {
        final Map<Long, Long> acked = new HashMap<>();
        long inFlightKey = -1;
        long inFlightValue;
    }

    @ParameterizedTest(name = "{0} holding {1}")
    @MethodSource("plans")
    void stoppedComputeNodeIsFencedAndRecovered(String design, int held) throws Exception {
        long seed = seed("stoppedComputeNodeIsFencedAndRecovered " + design + " " + held);
        Random rnd = new Random(seed);
        int mns = 1 + rnd.nextInt(2);
        try (FencedCluster c = new FencedCluster(design, mns, 3, THREADS + held + 4, LEASE)) {
            Incarnation[] cn = new Incarnation[3];
            for (int i = 0; i < 3; i++) {
                cn[i] = c.start(i, null);
            }
            int counters = held + 4;
            long[] words = counterWords(c, cn[0], counters);
            AtomicReference<String> failure = new AtomicReference<>();
            AtomicLong increments = new AtomicLong();
            List<Thread> live = new ArrayList<>();
            List<Thread> victims = new ArrayList<>();
            Map<Integer, Writes> writes = new ConcurrentHashMap<>();
            Set<String> victimEnds = ConcurrentHashMap.newKeySet();
            CountDownLatch holding = new CountDownLatch(held);
            CountDownLatch release = new CountDownLatch(1);

            for (int n = 0; n < 3; n++) {
                for (int t = 0; t < THREADS; t++) {
                    int writer = n * THREADS + t;
                    Writes w = new Writes();
                    writes.put(writer, w);
                    Incarnation me = cn[n];
                    long threadSeed = rnd.nextLong();
                    boolean victim = n == VICTIM;
                    Thread th = new Thread(() -> {
                        Random r = new Random(threadSeed);
                        LockedCounter.Incrementer[] inc = new LockedCounter.Incrementer[counters];
                        for (int k = 0; k < counters; k++) {
                            inc[k] = new LockedCounter(me.node, c.controlPlane, words[k]).incrementer();
                        }
                        try {
                            for (int i = 0; i < (victim ? Integer.MAX_VALUE : OPS) && failure.get() == null; i++) {
                                if (!victim && r.nextBoolean()) {
                                    inc[r.nextInt(counters)].increment();
                                    increments.incrementAndGet();
                                } else {
                                    long key = (long) r.nextInt(1 << 12) * 64 + writer;
                                    long value = r.nextLong();
                                    w.inFlightKey = key;
                                    w.inFlightValue = value;
                                    me.node.index().put(key, value);
                                    w.acked.put(key, value);
                                    w.inFlightKey = -1;
                                }
                            }
                        } catch (Throwable e) {
                            if (victim && endedByFence(e)) {
                                victimEnds.add(e.getClass().getSimpleName());
                            } else {
                                failure.compareAndSet(null, Thread.currentThread().getName() + ": " + e);
                                e.printStackTrace();
                            }
                        }
                    }, "cn" + n + "-t" + t);
                    th.setDaemon(true);
                    (victim ? victims : live).add(th);
                }
            }
            // the victim's holders: one lock each (a thread holds one lock of a client at a time)
            Incarnation v = cn[VICTIM];
            for (int h = 0; h < held; h++) {
                long lock = v.node.lockTable().lockFor(words[h]);
                Thread th = new Thread(() -> {
                    try {
                        v.node.lockClient().acquire(lock, LockMode.EXCLUSIVE);
                        holding.countDown();
                        release.await(BOUND_MILLIS, TimeUnit.MILLISECONDS);
                        // refused at its first verb; a release that only hands over to a local waiter issues none
                        v.node.lockClient().release(lock, LockMode.EXCLUSIVE, null);
                    } catch (Throwable e) {
                        if (endedByFence(e)) {
                            victimEnds.add(e.getClass().getSimpleName());
                        } else {
                            failure.compareAndSet(null, Thread.currentThread().getName() + ": " + e);
                            e.printStackTrace();
                        }
                    }
                }, "cn" + VICTIM + "-holder" + h);
                th.setDaemon(true);
                victims.add(th);
            }
            victims.forEach(Thread::start);
            assertTrue(holding.await(BOUND_MILLIS, TimeUnit.MILLISECONDS), "the victim's holders did not get their locks");
            live.forEach(Thread::start);
            Thread.sleep(5 + rnd.nextInt(30));
            Member lapsed = v.lease.member();
            v.stop();
            assertEquals(LeaseState.LAPSED, v.lease.awaitEnd(Duration.ofSeconds(10)), "the victim's lease did not lapse");
            release.countDown();

            for (Thread t : live) {
                t.join(BOUND_MILLIS);
                assertFalse(t.isAlive(), () -> t.getName() + " did not finish (seed " + seed + "): " + stack(t) + "\n" + c.log);
            }
            for (Thread t : victims) {
                t.join(BOUND_MILLIS);
                assertFalse(t.isAlive(), () -> t.getName() + " of the fenced node did not stop (seed " + seed + "): "
                        + stack(t));
            }
            assertNull(failure.get(), () -> "seed " + seed + ": " + failure.get() + "\n" + c.log);
            assertFalse(victimEnds.isEmpty());

            // the fenced node's next operation says so
            FencedException fenced = assertThrows(FencedException.class, () -> v.node.index().put(1, 1));
            assertEquals(VICTIM, fenced.computeNode());
            assertEquals(lapsed.epoch(), fenced.epoch());

            awaitRecovered(c, lapsed, seed);
            assertEquals(1, awaitRecoveries(cn[0], cn[1], 1), "one live compute node recovers the victim, once");

            long sum = sum(cn[0], c, words);
            assertEquals(increments.get(), sum, "seed " + seed + ": the locked counter lost or gained increments");
            checkWrites(cn[0], writes, seed);
            TreeReport check = cn[0].node.check();
            assertTrue(check.ok(), () -> "seed " + seed + ": " + check);
            assertEquals(0, check.region().leaked(), () -> "seed " + seed + ": the victim's memory leaked: " + check);

            // a new incarnation of the slot joins after the recovery and works, on every lock
            Incarnation again = c.start(VICTIM, null);
            assertTrue(again.lease.member().epoch() > lapsed.epoch());
            assertEquals(again.lease.member().epoch(), awaitEpoch(cn[0], VICTIM, again.lease.member().epoch()),
                    "the live compute nodes see the new incarnation");
            for (int k = 0; k < counters; k++) {
                new LockedCounter(again.node, c.controlPlane, words[k]).incrementer().increment();
            }
            for (int i = 0; i < 50; i++) {
                again.node.index().put((1L << 30) + i, i);
                assertEquals(i, again.node.index().get((1L << 30) + i).getAsLong());
            }
            assertEquals(sum + counters, sum(again, c, words));
            TreeReport after = again.node.check();
            assertTrue(after.ok(), () -> "seed " + seed + " after the rejoin: " + after);
            assertEquals(0, after.region().leaked(), () -> "seed " + seed + " after the rejoin: " + after);
        }
    }

    @Test
    void recoveryIsTakenOverWhenTheClaimerLapsesMidRecovery() throws Exception {
        long seed = seed("recoveryIsTakenOverWhenTheClaimerLapsesMidRecovery");
        Random rnd = new Random(seed);
        String design = rnd.nextBoolean() ? "modular" : "cas-spin";
        int held = 10;
        AtomicReference<Incarnation> firstClaimer = new AtomicReference<>();
        Incarnation[] cn = new Incarnation[3];
        try (FencedCluster c = new FencedCluster(design, 1 + rnd.nextInt(2), 3, held + 4, LEASE)) {
            Member[] victimMember = new Member[1];
            RecoveryCoordinator.StepListener stopFirst = (lapsed, step) -> {
                if (step != RecoveryCoordinator.Step.NODES_REPAIRED || !lapsed.equals(victimMember[0])) {
                    return;
                }
                Incarnation me = null;
                for (Incarnation i : cn) {
                    if (i != null && Thread.currentThread().getName().equals("dmtree-recovery-cn" + i.slot())) {
                        me = i;
                    }
                }
                if (me != null && firstClaimer.compareAndSet(null, me)) {
                    me.stop(); // the recoverer stops dead half way: after node repair, before lock recovery
                    try {
                        me.lease.awaitEnd(Duration.ofSeconds(10));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            for (int i = 0; i < 3; i++) {
                cn[i] = c.start(i, stopFirst);
            }
            victimMember[0] = cn[VICTIM].lease.member();
            long[] words = counterWords(c, cn[0], held);
            CountDownLatch holding = new CountDownLatch(held);
            List<Thread> holders = new ArrayList<>();
            for (int h = 0; h < held; h++) {
                long lock = cn[VICTIM].node.lockTable().lockFor(words[h]);
                Thread th = new Thread(() -> {
                    try {
                        cn[VICTIM].node.lockClient().acquire(lock, LockMode.EXCLUSIVE);
                        holding.countDown();
                        cn[VICTIM].lease.awaitEnd(Duration.ofSeconds(30));
                        cn[VICTIM].node.lockClient().release(lock, LockMode.EXCLUSIVE, null);
                    } catch (FencedException | LapsedMemberException | InterruptedException e) {
                        // fenced: never releases
                    }
                });
                th.setDaemon(true);
                holders.add(th);
                th.start();
            }
            assertTrue(holding.await(BOUND_MILLIS, TimeUnit.MILLISECONDS));
            for (int i = 0; i < 40; i++) {
                cn[VICTIM].node.index().put(i, i);
            }
            cn[VICTIM].stop();
            awaitRecovered(c, victimMember[0], seed);
            Incarnation first = firstClaimer.get();
            assertNotNull(first, "no recoverer reached node repair");
            Incarnation survivor = cn[0] == first ? cn[1] : cn[0];
            assertEquals(0, first.coordinator.recoveries(), "the stopped recoverer must not finish");
            assertEquals(LeaseState.LAPSED, first.lease.state());
            assertThrows(FencedException.class, () -> first.node.index().get(1));
            // the survivor recovered the victim, and then the stopped recoverer too
            awaitRecovered(c, first.lease.member(), seed);
            assertEquals(2, awaitRecoveries(survivor, first, 2));
            for (int k = 0; k < held; k++) {
                new LockedCounter(survivor.node, c.controlPlane, words[k]).incrementer().increment();
            }
            assertEquals(held, sum(survivor, c, words));
            for (int i = 0; i < 40; i++) {
                assertEquals(i, survivor.node.index().get(i).getAsLong());
            }
            TreeReport check = survivor.node.check();
            assertTrue(check.ok(), () -> "seed " + seed + ": " + check);
            assertEquals(0, check.region().leaked(), () -> "seed " + seed + ": memory leaked across the takeover: " + check);
            for (Thread t : holders) {
                t.join(BOUND_MILLIS);
            }
        }
    }

    @Test
    void aRecoveryThatKeepsFailingIsGivenUpNamingTheMemberAndTakenOverAfterTheClaimerLeaves() throws Exception {
        long seed = seed("aRecoveryThatKeepsFailingIsGivenUpNamingTheMemberAndTakenOverAfterTheClaimerLeaves");
        Random rnd = new Random(seed);
        AtomicReference<String> failingThread = new AtomicReference<>();
        Member[] victim = new Member[1];
        RecoveryCoordinator.StepListener failFirst = (lapsed, step) -> {
            if (step == RecoveryCoordinator.Step.CLAIMED && lapsed.equals(victim[0])) {
                failingThread.compareAndSet(null, Thread.currentThread().getName());
            }
            if (step == RecoveryCoordinator.Step.NODES_REPAIRED && Thread.currentThread().getName().equals(failingThread.get())) {
                throw new IllegalStateException("injected failure after node repair");
            }
        };
        try (FencedCluster c = new FencedCluster(rnd.nextBoolean() ? "modular" : "cas-spin", 1, 3, 8, LEASE)) {
            Incarnation[] cn = new Incarnation[3];
            for (int i = 0; i < 3; i++) {
                cn[i] = c.start(i, failFirst);
            }
            victim[0] = cn[VICTIM].lease.member();
            for (int i = 0; i < 20; i++) {
                cn[VICTIM].node.index().put(i, i);
            }
            cn[VICTIM].stop();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BOUND_MILLIS);
            String givenUp = null;
            while (givenUp == null && System.nanoTime() < deadline) {
                synchronized (c.log) {
                    for (String line : c.log) {
                        if (line.contains("given up after " + RecoveryCoordinator.Options.DEFAULTS.attempts() + " attempts")) {
                            givenUp = line;
                        }
                    }
                }
                Thread.sleep(5);
            }
            assertNotNull(givenUp, "no coordinator gave up: " + c.log);
            assertTrue(givenUp.contains(victim[0].toString()) && givenUp.contains("injected failure"), givenUp);
            Incarnation claimer = failingThread.get().equals("dmtree-recovery-cn0") ? cn[0] : cn[1];
            Incarnation other = claimer == cn[0] ? cn[1] : cn[0];
            Thread.sleep(100);
            assertFalse(c.book.record(victim[0]).recovered(), "the claim stays with its live holder");
            assertTrue(claimer.coordinator.running(), "giving up one record does not stop the coordinator");
            claimer.close(); // the claimer leaves: its claim ends with its lease, and the other member takes over
            awaitRecovered(c, victim[0], seed);
            awaitRecovered(c, claimer.lease.member(), seed); // a member that left is recovered like one that lapsed
            assertEquals(2, awaitRecoveries(other, claimer, 2), "the other member recovered both");
            assertEquals(0, claimer.coordinator.recoveries());
            for (int i = 0; i < 20; i++) {
                assertEquals(i, other.node.index().get(i).getAsLong());
            }
            assertTrue(other.node.check().ok());
        }
    }

    /** The recoveries two coordinators completed, once they reach {@code expected} (bounded; counted after the book). */
    private static long awaitRecoveries(Incarnation a, Incarnation b, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (a.coordinator.recoveries() + b.coordinator.recoveries() < expected && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        Thread.sleep(20); // and no more than that
        return a.coordinator.recoveries() + b.coordinator.recoveries();
    }

    private static long awaitEpoch(Incarnation observer, int slot, long epoch) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (observer.liveness.epoch(slot) != epoch && System.nanoTime() < deadline) {
            observer.liveness.awaitChange(observer.liveness.version(), TimeUnit.MILLISECONDS.toNanos(50));
        }
        return observer.liveness.epoch(slot);
    }

    private static void awaitRecovered(FencedCluster c, Member m, long seed) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BOUND_MILLIS);
        while (System.nanoTime() < deadline) {
            FenceRecord r = c.book.record(m);
            if (r != null && r.recovered()) {
                return;
            }
            Thread.sleep(5);
        }
        fail("seed " + seed + ": " + m + " was not recovered: " + c.book.records() + "\n" + c.log);
    }

    private static long sum(Incarnation via, FencedCluster c, long[] words) {
        long s = 0;
        for (long w : words) {
            s += new LockedCounter(via.node, c.controlPlane, w).read();
        }
        return s;
    }

    private static void checkWrites(Incarnation via, Map<Integer, Writes> writes, long seed) {
        for (Map.Entry<Integer, Writes> e : writes.entrySet()) {
            Writes w = e.getValue();
            for (Map.Entry<Long, Long> k : w.acked.entrySet()) {
                if (k.getKey() == w.inFlightKey) {
                    continue;
                }
                var got = via.node.index().get(k.getKey());
                assertTrue(got.isPresent() && got.getAsLong() == k.getValue(), () -> "seed " + seed + ": writer "
                        + e.getKey() + "'s acknowledged write of key " + k.getKey() + " is lost: " + got);
            }
            if (w.inFlightKey >= 0) {
                var got = via.node.index().get(w.inFlightKey);
                Long before = w.acked.get(w.inFlightKey);
                boolean old = before == null ? got.isEmpty() : got.isPresent() && got.getAsLong() == before;
                boolean neu = got.isPresent() && got.getAsLong() == w.inFlightValue;
                assertTrue(old || neu, () -> "seed " + seed + ": writer " + e.getKey() + "'s write in flight of key "
                        + w.inFlightKey + " is neither before nor after: " + got);
            }
        }
    }

    /**
     * The fenced node's threads end with its fence: a {@link FencedException} or a
     * {@link LapsedMemberException}, possibly as the cause of a design's own error (a lock message
     * that kept failing).
     */
    private static boolean endedByFence(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof FencedException || t instanceof LapsedMemberException) {
                return true;
            }
        }
        return false;
    }

    private static String stack(Thread t) {
        StringBuilder b = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            b.append("\n    at ").append(e);
        }
        return b.toString();
    }
}
