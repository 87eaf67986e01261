package io.dmtree.cn.control;

import io.dmtree.core.membership.InProcessFenceBook;
import io.dmtree.core.membership.InProcessMembership;
import io.dmtree.core.membership.LeaseState;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.MembershipListener;
import io.dmtree.core.membership.MembershipOptions;
import io.dmtree.core.memory.FencedException;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Compute nodes joining memory-node servers (tcp, in this JVM) through membership handles this
 * process holds ({@link Coordination#embedded}): the compute-node id is the membership slot, the
 * epoch reaches the client, a lapsed lease fences verbs and messages on this side, barriers are
 * membership barriers, a slot's new incarnation waits (bounded, naming the slot) for the recovery
 * of the old one, and {@link RemoteComputeNode} recovers a failed partner. The memory nodes'
 * fencing is stood in for: the test acknowledges fences in the book itself (the lapsed
 * incarnation's own side already refuses every verb).
 */
class ClusterClientMembershipTest {
    private static final MemoryNodeConfig REGION = new MemoryNodeConfig(16L << 20, 256L << 10, 64L << 10);

    @TempDir
    Path dir;

    private List<MemoryNodeServer> start(int n) {
        List<MemoryNodeServer> mns = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            mns.add(MemoryNodeServer.start(MemoryNodeOptions.of(i, new InetSocketAddress("127.0.0.1", 0), REGION, "tcp", dir)
                    .withMaxFrameBytes(1 << 20)));
        }
        return mns;
    }

    private static ClusterClient.Options options(List<MemoryNodeServer> mns, Coordination c) {
        List<InetSocketAddress> a = new ArrayList<>();
        mns.forEach(m -> a.add(m.address()));
        return ClusterClient.Options.of(a).withTimeoutMillis(5_000).withCoordination(c);
    }

    /** Stands in for the memory nodes: requests the fence of every compute node that lapses and acknowledges it. */
    private static AutoCloseable fencer(InProcessMembership m, InProcessFenceBook book, int memoryNodes) {
        return m.watch(new MembershipListener() {
            @Override
            public void joined(Member member) {
            }

            @Override
            public void lapsed(Member member) {
                if (member.kind() == MemberKind.COMPUTE_NODE) {
                    book.requestFence(member);
                    for (int mn = 0; mn < memoryNodes; mn++) {
                        book.acknowledgeFence(mn, member);
                    }
                }
            }
        });
    }

    @Test
    void membershipGivesIdsEpochsFencesAndBarriers() throws Exception {
        List<MemoryNodeServer> mns = start(2);
        InProcessMembership membership = new InProcessMembership(MembershipOptions.DEFAULTS.withLease(Duration.ofMillis(50)));
        InProcessFenceBook book = new InProcessFenceBook();
        Coordination c = Coordination.embedded(membership, book);
        ClusterClient b = null;
        Thread acks = acknowledger(book, 2, 60_000); // the memory nodes' part of clean leaves
        try (ClusterClient a = ClusterClient.join(options(mns, c))) {
            b = ClusterClient.join(options(mns, c));
            ClusterClient bb = b;
            assertEquals(Set.of(0, 1), Set.of(a.computeNodeId(), b.computeNodeId()));
            assertEquals(a.computeNodeId(), a.lease().member().id().id());
            assertTrue(b.epoch() > a.epoch() && a.epoch() > 0);

            // a counting barrier and a member barrier, through membership
            CompletableFuture<Map<Integer, byte[]>> fa = CompletableFuture.supplyAsync(
                    () -> a.barrier("run/start", 2, 10_000, "a".getBytes(StandardCharsets.UTF_8)));
            Map<Integer, byte[]> rb = b.barrier("run/start", 2, 10_000, "b".getBytes(StandardCharsets.UTF_8));
            assertEquals("a", new String(rb.get(a.computeNodeId()), StandardCharsets.UTF_8));
            assertEquals("b", new String(fa.get(20, TimeUnit.SECONDS).get(b.computeNodeId()), StandardCharsets.UTF_8));

            // b stops renewing: its lease lapses, and it is fenced on its own side
            UnsafeBuffer buf = new UnsafeBuffer(new byte[8]);
            long word = a.chunkSource().allocateChunk(0);
            b.verbs().faa(word, 1);
            membership.stopRenewing(b.lease());
            assertEquals(LeaseState.LAPSED, b.lease().awaitEnd(Duration.ofSeconds(10)));
            FencedException f = assertThrows(FencedException.class, () -> bb.verbs().faa(word, 1));
            assertEquals(b.computeNodeId(), f.computeNode());
            assertEquals(b.epoch(), f.epoch());
            assertThrows(FencedException.class, () -> bb.messaging().send(a.computeNodeId(), buf, 0, 8));
            a.verbs().read(word, buf, 0, 8);
            assertEquals(1, buf.getLong(0), "the fenced compute node's verb took no effect");

            // a member barrier excuses the lapsed member and names it
            BarrierRelease r = a.barrierOf("run/results", Set.of(a.computeNodeId(), b.computeNodeId()), 10_000, new byte[0]);
            assertEquals(Set.of(b.computeNodeId()), r.departed());
            assertEquals(Set.of(a.computeNodeId()), r.arrivals().keySet());

            // the slot's next incarnation waits for the recovery of the lapsed one, naming the slot
            Member lapsed = b.lease().member();
            book.requestFence(lapsed);
            ControlException wait = assertThrows(ControlException.class, () -> ClusterClient.join(
                    options(mns, c).withComputeNodeId(lapsed.id().id()).withTimeoutMillis(300)));
            assertTrue(wait.getMessage().contains("slot " + lapsed.id().id()), wait.getMessage());
            book.acknowledgeFence(0, lapsed);
            book.acknowledgeFence(1, lapsed);
            book.recovered(lapsed);
            b.close(); // the failed process's connections end (a paused one's id is freed by its fence on the memory nodes)
            b = null;
            try (ClusterClient again = ClusterClient.join(options(mns, c).withComputeNodeId(lapsed.id().id()))) {
                assertEquals(lapsed.id().id(), again.computeNodeId());
                assertTrue(again.epoch() > lapsed.epoch());
                assertEquals(2, again.verbs().faa(word, 1) + 1);
            }
        } finally {
            acks.interrupt();
            if (b != null) {
                b.close();
            }
            mns.forEach(MemoryNodeServer::close);
            membership.close();
            book.close();
        }
    }

    @Test
    void remoteComputeNodesRecoverAFailedPartner() throws Exception {
        List<MemoryNodeServer> mns = start(1);
        InProcessMembership membership = new InProcessMembership(MembershipOptions.DEFAULTS.withLease(Duration.ofMillis(50)));
        InProcessFenceBook book = new InProcessFenceBook();
        Coordination c = Coordination.embedded(membership, book);
        TreeConfig tree = new TreeConfig(8, 8, 256, 1L << 20);
        Thread acks = acknowledger(book, 1, 60_000); // the memory nodes' part of clean leaves
        try (AutoCloseable f = fencer(membership, book, 1);
             RemoteComputeNode a = RemoteComputeNode.join(options(mns, c), tree, "cas-spin", 4, 4)) {
            RemoteComputeNode b = RemoteComputeNode.join(options(mns, c), tree, "cas-spin", 4, 4);
            assertNotNull(a.recovery());
            for (int i = 0; i < 100; i++) {
                b.index().put(i, i);
            }
            Member lapsed = b.cluster().lease().member();
            membership.stopRenewing(b.cluster().lease());
            b.cluster().lease().awaitEnd(Duration.ofSeconds(10));
            assertThrows(FencedException.class, () -> b.index().put(1000, 1));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while ((book.record(lapsed) == null || !book.record(lapsed).recovered()) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(book.record(lapsed) != null && book.record(lapsed).recovered(), book.records().toString());
            for (int i = 0; i < 100; i++) {
                assertEquals(i, a.index().get(i).getAsLong());
            }
            assertTrue(a.computeNode().check().ok());
            try {
                b.close();
            } catch (RuntimeException e) {
                // its lease is gone: leaving is best effort
            }
        } finally {
            acks.interrupt();
            mns.forEach(MemoryNodeServer::close);
            membership.close();
            book.close();
        }
    }
    /** Stands in for the memory nodes' side of requests made in the book: acknowledges each one (bounded). */
    private static Thread acknowledger(InProcessFenceBook book, int memoryNodes, long boundMillis) {
        Thread t = new Thread(() -> {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(boundMillis);
            while (System.nanoTime() < end && !Thread.currentThread().isInterrupted()) {
                for (io.dmtree.core.membership.FenceBook.FenceRecord r : book.outstanding()) {
                    for (int mn = 0; mn < memoryNodes; mn++) {
                        book.acknowledgeFence(mn, r.member());
                    }
                }
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "fence-acknowledger");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void aQuiescentComputeNodeRecordsItsOwnRecoveryWhenItLeavesAndOneHoldingALockDoesNot() throws Exception {
        List<MemoryNodeServer> mns = start(1);
        InProcessMembership membership = new InProcessMembership(MembershipOptions.DEFAULTS.withLease(Duration.ofSeconds(2)));
        InProcessFenceBook book = new InProcessFenceBook();
        Coordination c = Coordination.embedded(membership, book);
        TreeConfig tree = new TreeConfig(8, 8, 256, 1L << 20);
        Thread acks = acknowledger(book, 1, 60_000);
        try {
            Member left;
            try (RemoteComputeNode a = RemoteComputeNode.join(options(mns, c), tree, "modular", 4, 4)) {
                for (int i = 0; i < 50; i++) {
                    a.index().put(i, i);
                }
                assertTrue(a.computeNode().inFlight().quiescent(), a.computeNode().inFlight().why());
                left = a.cluster().lease().member();
            }
            assertTrue(book.record(left) != null && book.record(left).recovered(), "clean leave recorded: " + book.records());
            // its slot is free at once, with nobody else live to recover it
            RemoteComputeNode b = RemoteComputeNode.join(options(mns, c).withComputeNodeId(left.id().id())
                    .withTimeoutMillis(2_000), tree, "modular", 4, 4);
            assertEquals(49, b.index().get(49).getAsLong());
            long lock = b.computeNode().lockTable().lockFor(b.cluster().rootPointer());
            b.computeNode().lockClient().acquire(lock, io.dmtree.core.lock.LockMode.EXCLUSIVE);
            assertEquals("1 lock hold(s) or operation(s) in progress", b.computeNode().inFlight().why());
            Member holder = b.cluster().lease().member();
            b.close();
            io.dmtree.core.membership.FenceBook.FenceRecord after = book.record(holder);
            assertTrue(after == null || !after.recovered(), "a leave holding a lock is not recorded as recovered: "
                    + book.records());
        } finally {
            acks.interrupt();
            mns.forEach(MemoryNodeServer::close);
            membership.close();
            book.close();
        }
    }
}
