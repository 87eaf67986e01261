package io.dmtree.mn.control;

import io.dmtree.core.wire.ControlFrame;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Member barriers of the control plane: a member that leaves the cluster (as a killed compute
 * node's session does) excuses it, the others are released with the same arrivals and the list of
 * who left; counting barriers keep waiting for their number; malformed member lists are refused.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MemberBarrierTest {
    private MemoryNode node;
    private ControlPlane plane;

    @BeforeEach
    void start() {
        node = new MemoryNode(0, new MemoryNodeConfig(16L << 20, 1L << 20, 1L << 16));
        plane = new ControlPlane(node, null);
    }

    @AfterEach
    void stop() {
        plane.shutdown();
        node.close();
    }

    private CompletableFuture<ControlPlane.BarrierRelease> arrive(String name, int cn, Set<Integer> members, byte[] payload) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return plane.barrier(name, cn, members.size(), members, 20_000, payload);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void aMemberThatLeavesIsExcusedAndTheOthersLearnWho() throws Exception {
        int a = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        int b = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        int c = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        Set<Integer> members = Set.of(a, b, c);
        CompletableFuture<ControlPlane.BarrierRelease> fa = arrive("results", a, members, new byte[]{1});
        CompletableFuture<ControlPlane.BarrierRelease> fb = arrive("results", b, members, new byte[]{2});
        Thread.sleep(200);
        assertFalse(fa.isDone(), "two of three members arrived: the barrier waits");
        plane.leave(c); // its session ended: killed
        ControlPlane.BarrierRelease ra = fa.get(10, TimeUnit.SECONDS);
        ControlPlane.BarrierRelease rb = fb.get(10, TimeUnit.SECONDS);
        assertEquals(Set.of(c), ra.departed());
        assertEquals(ra.departed(), rb.departed());
        assertEquals(Set.of(a, b), ra.arrivals().keySet());
        assertArrayEquals(new byte[]{2}, ra.arrivals().get(b));
        assertArrayEquals(new byte[]{1}, rb.arrivals().get(a));
        // the name is free again for the next round
        plane.join(c);
        CompletableFuture<ControlPlane.BarrierRelease> again = arrive("results", a, Set.of(a, c), new byte[0]);
        ControlPlane.BarrierRelease rc = plane.barrier("results", c, 2, Set.of(a, c), 10_000, new byte[0]);
        assertEquals(Set.of(), rc.departed());
        assertEquals(Set.of(a, c), again.get(10, TimeUnit.SECONDS).arrivals().keySet());
    }

    @Test
    void aMemberGoneBeforeTheBarrierReleasesItAtOnce() throws Exception {
        int a = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        int b = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        plane.leave(b);
        ControlPlane.BarrierRelease r = plane.barrier("loaded", a, 2, Set.of(a, b), 10_000, new byte[0]);
        assertEquals(Set.of(b), r.departed());
        assertEquals(Set.of(a), r.arrivals().keySet());
    }

    @Test
    void aCountingBarrierIsNotReleasedByALeave() throws Exception {
        int a = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        int b = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        CompletableFuture<Map<Integer, byte[]>> fa = CompletableFuture.supplyAsync(() -> {
            try {
                return plane.barrier("start", a, 2, 500, new byte[0]);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        plane.leave(b);
        Exception e = assertThrows(Exception.class, () -> fa.get(10, TimeUnit.SECONDS));
        assertTrue(e.getMessage().contains("only 1 of 2"), e.getMessage());
    }

    @Test
    void badMemberListsAreRefused() throws Exception {
        int a = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        int b = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        ControlPlane.Refusal notMember = assertThrows(ControlPlane.Refusal.class,
                () -> plane.barrier("x", a, 1, Set.of(b), 100, new byte[0]));
        assertTrue(notMember.getMessage().contains("include the caller"), notMember.getMessage());
        ControlPlane.Refusal wrongCount = assertThrows(ControlPlane.Refusal.class,
                () -> plane.barrier("x", a, 3, Set.of(a, b), 100, new byte[0]));
        assertTrue(wrongCount.getMessage().contains("3 parties"), wrongCount.getMessage());
        CompletableFuture<ControlPlane.BarrierRelease> fa = arrive("y", a, Set.of(a, b), new byte[0]);
        Thread.sleep(100);
        ControlPlane.Refusal other = assertThrows(ControlPlane.Refusal.class,
                () -> plane.barrier("y", b, 2, Set.of(), 100, new byte[0]));
        assertTrue(other.getMessage().contains("members"), other.getMessage());
        plane.barrier("y", b, 2, Set.of(a, b), 10_000, new byte[0]);
        fa.get(10, TimeUnit.SECONDS);
    }
}
