package io.dmtree.mn.membership;

import io.dmtree.core.membership.FenceBook;
import io.dmtree.core.membership.FenceBook.FenceRecord;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.LeaseState;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberId;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.Membership;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link FenceBook} contract, run against every implementation: requests are idempotent and
 * never withdrawn, acknowledgements are per memory node and seen by every process, a recovery
 * claim is held by one live lease at a time and freed when that lease closes or lapses, a recovered
 * record stays recovered and is never claimed again, the watch fires on each change, and records
 * come in epoch order. A "process" is one {@link Side}: a membership connection and a book handle
 * on it (the in-process implementation shares one of each).
 *
 * <p>No timing is asserted; every wait is bounded.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
abstract class FenceBookContract {
    static final Duration LEASE = MembershipContract.LEASE;
    static final Duration WAIT = Duration.ofSeconds(20);

    /** One process's view of the cluster. */
    record Side(Membership membership, FenceBook book) {
    }

    interface Fixture extends AutoCloseable {
        Side connect() throws Exception;

        /** A side whose leases {@link #freeze} can stop renewing. */
        Side connectFreezable() throws Exception;

        void freeze(Side side, Lease lease) throws Exception;

        @Override
        void close() throws Exception;
    }

    abstract Fixture start(Duration lease) throws Exception;

    private Fixture fixture;

    Fixture fixture() throws Exception {
        fixture = start(LEASE);
        return fixture;
    }

    @AfterEach
    void stop() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
    }

    static Member cn(int id, long epoch) {
        return new Member(new MemberId(MemberKind.COMPUTE_NODE, id), epoch, "tcp:127.0.0.1:" + (7400 + id));
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

    @Test
    void requestIsIdempotentAndSeenByEveryProcess() throws Exception {
        Fixture f = fixture();
        Side a = f.connect();
        Side b = f.connect();
        Member x = cn(3, 42);
        assertNull(a.book().record(x));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Side s = i % 2 == 0 ? a : b;
                calls.add(pool.submit(() -> s.book().requestFence(x)));
            }
            for (Future<?> c : calls) {
                c.get(20, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        for (Side s : List.of(a, b)) {
            List<FenceRecord> records = s.book().records();
            assertEquals(1, records.size(), records.toString());
            assertEquals(new FenceRecord(x, Set.of(), false), records.get(0));
            assertEquals(x.endpoint(), records.get(0).member().endpoint());
            assertEquals(records, s.book().outstanding());
        }
        assertThrows(IllegalArgumentException.class,
                () -> a.book().requestFence(new Member(new MemberId(MemberKind.MEMORY_NODE, 0), 5, "")));
    }

    @Test
    void acknowledgementsArePerMemoryNode() throws Exception {
        Fixture f = fixture();
        Side a = f.connect();
        Side b = f.connect();
        Member x = cn(1, 7);
        assertThrows(IllegalStateException.class, () -> a.book().acknowledgeFence(0, x));
        a.book().requestFence(x);
        a.book().acknowledgeFence(0, x);
        b.book().acknowledgeFence(2, x);
        b.book().acknowledgeFence(0, x); // again: no change
        for (Side s : List.of(a, b)) {
            FenceRecord r = s.book().record(x);
            assertEquals(Set.of(0, 2), r.fencedBy());
            assertFalse(r.fencedByAll(2));
            assertFalse(r.recovered());
        }
        a.book().acknowledgeFence(1, x);
        assertTrue(b.book().record(x).fencedByAll(3));
        assertFalse(b.book().record(x).fencedByAll(4));
        assertThrows(IllegalArgumentException.class, () -> a.book().acknowledgeFence(-1, x));
    }

    @Test
    void oneLiveClaimAtATimeReleasedWhenItsLeaseCloses() throws Exception {
        Fixture f = fixture();
        Side a = f.connect();
        Side b = f.connect();
        Member x = cn(5, 3);
        Lease la = a.membership().join(MemberKind.COMPUTE_NODE, 0, "a", WAIT);
        Lease lb = b.membership().join(MemberKind.COMPUTE_NODE, 1, "b", WAIT);
        assertThrows(IllegalStateException.class, () -> a.book().claimRecovery(la, x));
        a.book().requestFence(x);
        assertTrue(a.book().claimRecovery(la, x));
        assertTrue(a.book().claimRecovery(la, x), "a holder asking again still holds it");
        assertFalse(b.book().claimRecovery(lb, x));
        assertFalse(a.book().claimRecovery(lb, x), "the claim is the lease's, not the handle's");
        la.close();
        await("b takes over the claim after a's lease closed", () -> b.book().claimRecovery(lb, x));
        assertTrue(b.book().claimRecovery(lb, x));
        lb.close();
        assertFalse(b.book().claimRecovery(lb, x), "an ended lease claims nothing");
    }

    @Test
    void aClaimEndsWhenItsLeaseLapses() throws Exception {
        Fixture f = fixture();
        Side frozen = f.connectFreezable();
        Side b = f.connect();
        Member x = cn(2, 11);
        b.book().requestFence(x);
        Lease la = frozen.membership().join(MemberKind.COMPUTE_NODE, 0, "a", WAIT);
        Lease lb = b.membership().join(MemberKind.COMPUTE_NODE, 1, "b", WAIT);
        assertTrue(frozen.book().claimRecovery(la, x));
        assertFalse(b.book().claimRecovery(lb, x));
        f.freeze(frozen, la);
        await("b takes over the claim after a's lease lapsed", () -> b.book().claimRecovery(lb, x));
        assertEquals(LeaseState.LAPSED, la.awaitEnd(WAIT));
        assertFalse(b.book().claimRecovery(la, x), "a lapsed lease claims nothing");
    }

    @Test
    void recoveredStaysRecoveredAndIsNeverClaimed() throws Exception {
        Fixture f = fixture();
        Side a = f.connect();
        Side b = f.connect();
        Member x = cn(4, 20);
        Member y = cn(4, 30);
        Lease la = a.membership().join(MemberKind.COMPUTE_NODE, 0, "a", WAIT);
        Lease lb = b.membership().join(MemberKind.COMPUTE_NODE, 1, "b", WAIT);
        assertThrows(IllegalStateException.class, () -> a.book().recovered(x));
        a.book().requestFence(x);
        a.book().requestFence(y);
        a.book().acknowledgeFence(0, x);
        assertTrue(a.book().claimRecovery(la, x));
        a.book().recovered(x);
        a.book().recovered(x);
        assertFalse(a.book().claimRecovery(la, x));
        assertFalse(b.book().claimRecovery(lb, x));
        for (Side s : List.of(a, b)) {
            assertEquals(new FenceRecord(x, Set.of(0), true), s.book().record(x));
            assertEquals(List.of(new FenceRecord(y, Set.of(), false)), s.book().outstanding());
        }
        b.book().requestFence(x); // a request after the recovery changes nothing
        assertTrue(a.book().record(x).recovered());
        la.close();
        assertFalse(b.book().claimRecovery(lb, x));
    }

    @Test
    void watchFiresOnEachChange() throws Exception {
        Fixture f = fixture();
        Side a = f.connect();
        Side b = f.connect();
        AtomicLong calls = new AtomicLong();
        AutoCloseable w = a.book().watch(calls::incrementAndGet);
        await("the watch runs once at subscription", () -> calls.get() >= 1);
        Member x = cn(6, 9);
        Lease lb = b.membership().join(MemberKind.COMPUTE_NODE, 1, "b", WAIT);
        List<Runnable> changes = List.of(
                () -> b.book().requestFence(x),
                () -> b.book().acknowledgeFence(0, x),
                () -> b.book().acknowledgeFence(1, x),
                () -> assertTrue(b.book().claimRecovery(lb, x)),
                lb::close,
                () -> b.book().recovered(x));
        String[] names = {"request", "ack 0", "ack 1", null, "claim ends with its lease", "recovered"};
        for (int i = 0; i < changes.size(); i++) {
            Thread.sleep(50); // lets coalesced calls of the previous change drain
            long before = calls.get();
            changes.get(i).run();
            String name = names[i];
            if (name != null) { // taking a claim is not a change watchers must hear (FenceBook#watch)
                await("the watch fires after: " + name, () -> calls.get() > before);
            }
        }
        w.close();
        Thread.sleep(100);
        long after = calls.get();
        b.book().requestFence(cn(6, 10));
        Thread.sleep(200);
        assertEquals(after, calls.get(), "a closed watch is not called");
    }

    @Test
    void recordsComeInEpochOrder() throws Exception {
        Fixture f = fixture();
        Side a = f.connect();
        long seed = Long.getLong("dmtree.seed", System.nanoTime());
        System.out.println("dmtree.seed=" + seed);
        Random rnd = new Random(seed);
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            members.add(cn(rnd.nextInt(16), 1 + rnd.nextInt(1_000_000) * 16L + i));
        }
        List<Member> shuffled = new ArrayList<>(members);
        Collections.shuffle(shuffled, rnd);
        for (Member m : shuffled) {
            a.book().requestFence(m);
        }
        a.book().recovered(shuffled.get(0));
        List<Member> sorted = new ArrayList<>(members);
        sorted.sort((p, q) -> Long.compare(p.epoch(), q.epoch()));
        assertEquals(sorted, a.book().records().stream().map(FenceRecord::member).toList());
        List<Member> open = new ArrayList<>(sorted);
        open.remove(shuffled.get(0));
        assertEquals(open, a.book().outstanding().stream().map(FenceRecord::member).toList());
    }
}
