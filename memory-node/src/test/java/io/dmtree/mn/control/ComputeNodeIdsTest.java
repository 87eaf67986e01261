package io.dmtree.mn.control;

import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.ErrorCode;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compute-node ids on the control plane come back when their holder's lease ends: a newer
 * incarnation (larger epoch, as membership hands out) takes the id over from an older one whose
 * session lingers, and that session's end leaves the newer holder alone; an equal or older
 * incarnation, or one without membership, is refused while the id is held.
 */
class ComputeNodeIdsTest {
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

    @Test
    void aNewerIncarnationTakesTheIdOfALingeringOlderOne() throws Exception {
        assertEquals(3, plane.join(3, 10));
        plane.registerEndpoint(3, "tcp:127.0.0.1:1");
        for (long stale : new long[]{10, 9, 0}) {
            ControlPlane.Refusal r = assertThrows(ControlPlane.Refusal.class, () -> plane.join(3, stale));
            assertEquals(ErrorCode.STATE, r.code());
        }
        assertEquals(3, plane.join(3, 12)); // membership gave slot 3 to epoch 12: epoch 10's lease ended
        assertEquals(java.util.Optional.empty(), java.util.Optional.ofNullable(plane.lookupEndpoint(3, 0)),
                "the older incarnation's endpoint is gone");
        assertFalse(plane.leave(3, 10), "the older session's end must not free the newer holder's id");
        assertEquals(List.of(3), plane.computeNodes());
        assertTrue(plane.leave(3, 12));
        assertEquals(List.of(), plane.computeNodes());
        assertEquals(3, plane.join(3, 5)); // free again: any incarnation may have it
    }

    @Test
    void idsWithoutMembershipAreHeldUntilTheSessionEnds() throws Exception {
        int a = plane.join(ControlFrame.ANY_COMPUTE_NODE, 0);
        assertThrows(ControlPlane.Refusal.class, () -> plane.join(a, 0));
        assertThrows(ControlPlane.Refusal.class, () -> plane.join(a, 7)); // no epoch to compare with: not superseded
        plane.leave(a);
        assertEquals(a, plane.join(a, 7));
        ControlPlane.Refusal r = assertThrows(ControlPlane.Refusal.class, () -> plane.join(1, -1));
        assertEquals(ErrorCode.MALFORMED, r.code());
    }
}
