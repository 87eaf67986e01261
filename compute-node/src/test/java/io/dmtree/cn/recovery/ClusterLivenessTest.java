package io.dmtree.cn.recovery;

import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.membership.InProcessFenceBook;
import io.dmtree.core.membership.InProcessMembership;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.MembershipOptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The rules of {@link ClusterLiveness}, one change at a time, with two memory nodes that must both fence. */
class ClusterLivenessTest {
    private static final Duration T = Duration.ofSeconds(10);

    /** Waits (bounded) until {@code l} reports {@code expected} for {@code slot}; returns what it reports then. */
    private static long await(ClusterLiveness l, int slot, long expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (l.epoch(slot) != expected && System.nanoTime() < deadline) {
            l.awaitChange(l.version(), TimeUnit.MILLISECONDS.toNanos(20));
        }
        return l.epoch(slot);
    }

    /** Reports {@code slot} unchanged for a while (the refresher had every chance to change it). */
    private static void stays(ClusterLiveness l, int slot, long expected) {
        l.refresh();
        long v = l.version();
        l.awaitChange(v, TimeUnit.MILLISECONDS.toNanos(30));
        assertEquals(expected, l.epoch(slot), l.toString());
    }

    @Test
    void departedExactlyWhileFencedByEveryMemoryNodeAndNotRecovered() throws Exception {
        try (InProcessMembership m = new InProcessMembership(MembershipOptions.DEFAULTS.withLease(Duration.ofMillis(20)));
             InProcessFenceBook book = new InProcessFenceBook()) {
            Lease a = m.join(MemberKind.COMPUTE_NODE, 0, "", T);
            try (ClusterLiveness l = new ClusterLiveness(m, book, 4, 2)) {
                l.ownLease(a);
                assertEquals(a.member().epoch(), l.epoch(0));
                assertEquals(MemberLiveness.DEPARTED, l.epoch(2), "a slot nobody ever held");
                assertEquals(MemberLiveness.DEPARTED, l.epoch(7), "outside the slots");
                long v0 = l.version();

                Lease b = m.join(MemberKind.COMPUTE_NODE, 1, "", T);
                Member bm = b.member();
                assertEquals(bm.epoch(), await(l, 1, bm.epoch()));
                assertTrue(l.version() > v0, "a join is a change");

                m.stopRenewing(b);
                b.awaitEnd(T);
                stays(l, 1, bm.epoch()); // lapsed, fence not requested: its verbs may still land
                book.requestFence(bm);
                stays(l, 1, bm.epoch());
                book.acknowledgeFence(0, bm);
                stays(l, 1, bm.epoch()); // one memory node of two
                long v1 = l.version();
                book.acknowledgeFence(1, bm);
                assertEquals(MemberLiveness.DEPARTED, await(l, 1, MemberLiveness.DEPARTED));
                assertTrue(l.version() > v1, "a departure is a change");
                book.recovered(bm);
                stays(l, 1, MemberLiveness.DEPARTED); // recovered and not back: holds nothing

                Lease b2 = m.join(MemberKind.COMPUTE_NODE, 1, "", T);
                assertTrue(b2.member().epoch() > bm.epoch());
                assertEquals(b2.member().epoch(), await(l, 1, b2.member().epoch()));

                // this node's own lease ends: its own slot departs at once, fence or not
                m.stopRenewing(a);
                a.awaitEnd(T);
                assertEquals(MemberLiveness.DEPARTED, await(l, 0, MemberLiveness.DEPARTED));
                assertEquals(b2.member().epoch(), l.epoch(1));
            }
        }
    }

    @Test
    void awaitChangeIsBoundedAndWakesOnAChange() throws Exception {
        try (InProcessMembership m = new InProcessMembership();
             InProcessFenceBook book = new InProcessFenceBook();
             ClusterLiveness l = new ClusterLiveness(m, book, 2, 1)) {
            long v = l.version();
            long t0 = System.nanoTime();
            assertEquals(v, l.awaitChange(v, TimeUnit.MILLISECONDS.toNanos(30)));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(30));
            Thread joiner = new Thread(() -> {
                try {
                    Thread.sleep(20);
                    m.join(MemberKind.COMPUTE_NODE, 1, "", T);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            joiner.start();
            long seen = l.awaitChange(v, TimeUnit.SECONDS.toNanos(10));
            assertNotEquals(v, seen, "woken by the join");
            joiner.join(10_000);
        }
    }
}
