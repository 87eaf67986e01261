package io.dmtree.core.membership;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The in-process membership on a stock JDK with nothing else on the class path (index-core has no
 * ZooKeeper): a stopped member lapses one lease later, a resumed one does not, barriers and the
 * configuration work; and the {@link MemberTracker} derives exactly-once notices from evidence in
 * any order (seeded, printing {@code dmtree.seed}). The full contract runs in memory-node against
 * both implementations.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InProcessMembershipTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void aStoppedMemberLapsesOneLeaseLaterAndAResumedOneStaysLive() throws Exception {
        try (InProcessMembership m = new InProcessMembership(MembershipOptions.DEFAULTS.withLease(Duration.ofMillis(100)))) {
            assertTrue(m.getClass().getClassLoader() == InProcessMembershipTest.class.getClassLoader());
            assertThrows(ClassNotFoundException.class, () -> Class.forName("org.apache.zookeeper.ZooKeeper"),
                    "nothing from ZooKeeper on this class path");
            Lease a = m.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
            Lease b = m.join(MemberKind.COMPUTE_NODE, Membership.ANY_ID, "", WAIT);
            m.stopRenewing(b);
            Thread.sleep(30);
            m.resumeRenewing(b); // a pause shorter than the lease
            m.stopRenewing(a);
            assertEquals(LeaseState.LAPSED, a.awaitEnd(WAIT));
            assertFalse(m.view().isLive(a.member()));
            Thread.sleep(300);
            assertTrue(b.isLive(), "the resumed member kept its lease");
            Lease c = m.join(MemberKind.COMPUTE_NODE, a.member().id().id(), "", WAIT);
            assertTrue(c.member().epoch() > b.member().epoch());
            BarrierParties parties = BarrierParties.members(Set.of(b.member(), c.member()));
            CompletableFuture<BarrierRelease> rb = CompletableFuture.supplyAsync(() -> {
                try {
                    return m.arrive(b, "x", parties, new byte[]{1}, WAIT);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            BarrierRelease rc = m.arrive(c, "x", parties, new byte[]{2}, WAIT);
            assertEquals(rc, rb.get(WAIT.toSeconds(), TimeUnit.SECONDS));
            assertEquals(1, m.updateConfiguration(0, java.util.Map.of("k", "v")).version());
        }
    }

    /** Records notices and checks them against the rules of {@link MembershipListener}. */
    private static final class Checker implements MembershipListener {
        final java.util.Map<MemberId, Member> current = new java.util.HashMap<>();
        final java.util.Set<Member> joined = new java.util.HashSet<>();
        final java.util.Set<Member> lapsed = new java.util.HashSet<>();
        final List<String> violations = new ArrayList<>();

        @Override
        public void joined(Member m) {
            if (!joined.add(m)) {
                violations.add("joined twice " + m);
            }
            if (current.put(m.id(), m) != null) {
                violations.add("join of " + m + " before the lapse of the slot's previous incarnation");
            }
        }

        @Override
        public void lapsed(Member m) {
            if (!lapsed.add(m)) {
                violations.add("lapsed twice " + m);
            }
            if (!m.equals(current.remove(m.id()))) {
                violations.add("lapse of " + m + " that was not current");
            }
        }
    }

    @Test
    void theTrackerGivesExactlyOneLapsePerHeardJoinWhateverTheOrderOfEvidence() throws Exception {
        long seed = Long.getLong("dmtree.seed", System.nanoTime());
        System.out.println("dmtree.seed=" + seed);
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 200; trial++) {
            // a history: 3 slots, incarnations with growing epochs, each slot's one after the other
            List<Member> incarnations = new ArrayList<>();
            long epoch = 0;
            for (int i = 0; i < 12; i++) {
                incarnations.add(new Member(MemberId.computeNode(rnd.nextInt(3)), ++epoch, ""));
            }
            // evidence: every incarnation's start and end, shuffled locally, with repeats and resyncs
            List<Runnable> steps = new ArrayList<>();
            try (MemberTracker t = new MemberTracker("test")) {
                Checker c = new Checker();
                t.subscribe(c);
                for (Member m : incarnations) {
                    steps.add(() -> t.present(m));
                    if (rnd.nextInt(4) == 0) {
                        steps.add(() -> t.present(m));
                    }
                    steps.add(() -> t.ended(m.id(), m.epoch()));
                }
                for (int i = 0; i < steps.size(); i++) { // local disorder: swap neighbours
                    if (rnd.nextInt(3) == 0 && i + 1 < steps.size()) {
                        java.util.Collections.swap(steps, i, i + 1);
                    }
                }
                for (Runnable s : steps) {
                    s.run();
                    if (rnd.nextInt(10) == 0) {
                        t.resync(List.of());
                    }
                }
                t.resync(List.of());
                t.await(t.submit(() -> { }));
                assertEquals(List.of(), c.violations, "seed " + seed + " trial " + trial);
                assertEquals(c.joined, c.lapsed, "seed " + seed + " trial " + trial + ": every heard join lapsed");
                assertEquals(0, t.view().size());
                // a late subscriber hears nothing stale
                Checker late = new Checker();
                t.subscribe(late);
                assertTrue(late.joined.isEmpty());
            }
        }
    }
}
