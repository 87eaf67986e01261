package io.dmtree.workloads.cli;

import io.dmtree.cn.recovery.MemberFence;
import io.dmtree.core.lock.LapsedMemberException;
import io.dmtree.core.memory.FencedException;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.*;

/** What {@code dmtree cn} counts as being fenced (exit code 3, one line) and what it does not. */
class FencedExitTest {
    @Test
    void aFenceAnywhereInTheCausesIsOneLine() {
        FencedException f = new FencedException(3, 42, "its lease ended (lapsed)");
        Exception wrapped = new RuntimeException("worker failed", new ExecutionException(f));
        String line = ComputeNodeCommand.fencedLine(wrapped, null);
        assertNotNull(line);
        assertTrue(line.startsWith("dmtree cn: compute node 3 (epoch 42) is fenced: its lease ended (lapsed)"), line);
        assertFalse(line.contains("\n"));
    }

    @Test
    void aLockWaitOrBarrierEndedByTheNodesOwnDepartureIsAFenceOnlyWhenTheFenceIsUp() {
        MemberFence fence = new MemberFence(5, 7);
        RuntimeException lapsed = new IllegalStateException("lock wait", new LapsedMemberException(5, "acquiring"));
        assertNull(ComputeNodeCommand.fencedLine(lapsed, fence));
        fence.fence("its lease ended (lapsed)");
        assertEquals("dmtree cn: compute node 5 (epoch 7) is fenced: its lease ended (lapsed)"
                + "; nothing it issues takes effect any more, it must join again", ComputeNodeCommand.fencedLine(lapsed, fence));
        // a barrier call on the ended lease
        assertEquals(ComputeNodeCommand.fencedLine(lapsed, fence), ComputeNodeCommand.fencedLine(new IllegalStateException(
                "barrier", new io.dmtree.core.membership.LeaseLapsedException(null, io.dmtree.core.membership.LeaseState.LAPSED)),
                fence));
        // any other failure is what it is, fence or not (a lost memory node takes the lease of its ZooKeeper with it)
        assertNull(ComputeNodeCommand.fencedLine(new IllegalStateException("memory node 0 is gone"), fence));
    }
}
