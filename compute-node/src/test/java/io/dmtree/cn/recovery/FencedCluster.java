package io.dmtree.cn.recovery;

import io.dmtree.cn.ComputeNode;
import io.dmtree.core.membership.FenceBook.FenceRecord;
import io.dmtree.core.membership.InProcessFenceBook;
import io.dmtree.core.membership.InProcessMembership;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.MembershipListener;
import io.dmtree.core.membership.MembershipOptions;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.lock.LockDesigns;
import io.dmtree.lock.recovery.FenceableMessaging;
import io.dmtree.lock.recovery.FenceableVerbs;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.local.LocalVerbs;
import io.dmtree.mn.local.LocalControlPlane;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Memory nodes and compute-node incarnations in one JVM on the local carrier, with in-process
 * membership and fence book: the multi-process protocol, with a stand-in for the memory nodes'
 * part. Each memory node "fences" a lapsed incarnation by making its {@link FenceableVerbs} and
 * {@link FenceableMessaging} refuse everything (the verbs wait until none is in flight), and only
 * then acknowledges in the book, as a memory node's carrier would; it requests the fence of
 * every compute node it hears lapse. Compute nodes run the product's side unchanged:
 * {@link MemberFence} on lease end, {@link ClusterLiveness}, {@link RecoveryCoordinator}, and the
 * {@link SlotHandover} wait at join.
 */
final class FencedCluster implements AutoCloseable {
    static final TreeConfig TREE = new TreeConfig(8, 8, 256, 1L << 20);
    private static final MemoryNodeConfig MN = new MemoryNodeConfig(16L << 20, 64L << 10, 64L << 10);

    final String design;
    final int computeNodes;
    final int threadCapacity;
    final List<MemoryNode> memoryNodes = new ArrayList<>();
    final LocalControlPlane controlPlane;
    final InProcessMembership membership;
    final InProcessFenceBook book = new InProcessFenceBook();
    final SlotMessageBus bus = new SlotMessageBus();
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final Map<Member, Incarnation> incarnations = new ConcurrentHashMap<>();
    private final List<Incarnation> started = Collections.synchronizedList(new ArrayList<>());
    private final AutoCloseable fencerMembershipWatch;
    private final AutoCloseable fencerBookWatch;

    FencedCluster(String design, int memoryNodeCount, int computeNodes, int threadCapacity, Duration lease) {
        this.design = design;
        this.computeNodes = computeNodes;
        this.threadCapacity = threadCapacity;
        for (int i = 0; i < memoryNodeCount; i++) {
            memoryNodes.add(new MemoryNode(i, MN));
        }
        controlPlane = new LocalControlPlane(memoryNodes);
        membership = new InProcessMembership(MembershipOptions.DEFAULTS.withLease(lease));
        fencerMembershipWatch = membership.watch(new MembershipListener() {
            @Override
            public void joined(Member member) {
            }

            @Override
            public void lapsed(Member member) {
                if (member.kind() == MemberKind.COMPUTE_NODE) {
                    book.requestFence(member); // synchronously: every lapse has its request before a rejoin returns
                }
            }
        });
        fencerBookWatch = book.watch(this::fenceOutstanding);
    }

    /** The memory nodes' part: fence each requested incarnation, then acknowledge. */
    private synchronized void fenceOutstanding() {
        for (FenceRecord r : book.outstanding()) {
            for (int mn = 0; mn < memoryNodes.size(); mn++) {
                if (r.fencedBy().contains(mn)) {
                    continue;
                }
                for (Incarnation i : incarnations.values()) {
                    Member m = i.lease.member();
                    if (m.id().equals(r.member().id()) && m.epoch() <= r.member().epoch()) {
                        i.mnSideVerbs.fence();
                        i.mnSideMessaging.fence();
                    }
                }
                book.acknowledgeFence(mn, r.member());
            }
        }
    }

    void log(String line) {
        log.add(line);
        System.out.println(line);
    }

    /** Starts an incarnation of compute-node slot {@code slot} (waits for its earlier ones to be recovered). */
    Incarnation start(int slot, RecoveryCoordinator.StepListener steps) throws InterruptedException {
        Lease lease = membership.join(MemberKind.COMPUTE_NODE, slot, "", Duration.ofSeconds(10));
        try {
            SlotHandover.awaitRecovered(book, slot, lease.member().epoch(), Duration.ofSeconds(30), memoryNodes.size());
            Incarnation i = new Incarnation(lease, steps);
            started.add(i);
            return i;
        } catch (RuntimeException | InterruptedException e) {
            lease.close();
            throw e;
        }
    }

    /** One incarnation of a compute node: its lease, both sides of its fence, and its runtime. */
    final class Incarnation implements AutoCloseable {
        final Lease lease;
        final MemberFence fence;
        final FenceableVerbs mnSideVerbs;
        final FenceableMessaging mnSideMessaging;
        final ClusterLiveness liveness;
        final ComputeNode node;
        final RecoveryCoordinator coordinator;

        private Incarnation(Lease lease, RecoveryCoordinator.StepListener steps) {
            this.lease = lease;
            Member me = lease.member();
            int slot = me.id().id();
            fence = new MemberFence(slot, me.epoch());
            lease.onEnd(state -> fence.fence("its lease ended (" + state + ")"));
            mnSideVerbs = new FenceableVerbs(LocalVerbs.counted(memoryNodes), slot, me.epoch());
            mnSideMessaging = new FenceableMessaging(bus.join(slot));
            incarnations.put(me, this);
            liveness = new ClusterLiveness(membership, book, computeNodes, memoryNodes.size());
            liveness.ownLease(lease);
            node = new ComputeNode(slot, computeNodes, new FencedVerbs(mnSideVerbs, fence), controlPlane,
                    new FencedMessaging(mnSideMessaging, fence), TREE, LockDesigns.byName(design), threadCapacity, -1, null,
                    liveness, fence);
            coordinator = new RecoveryCoordinator(membership, lease, book, liveness, node,
                    RecoveryCoordinator.Options.DEFAULTS, FencedCluster.this::log, steps);
        }

        int slot() {
            return lease.member().id().id();
        }

        /** The process stops dead: no more renewals, so its lease lapses one lease length from now. */
        void stop() {
            membership.stopRenewing(lease);
        }

        @Override
        public void close() {
            coordinator.close();
            liveness.close();
            node.close();
            lease.close();
        }
    }

    @Override
    public void close() {
        List<Incarnation> all;
        synchronized (started) {
            all = new ArrayList<>(started);
        }
        for (Incarnation i : all) {
            try {
                i.close();
            } catch (RuntimeException e) {
                // a fenced incarnation's close may fail on its refused verbs
            }
        }
        try {
            fencerMembershipWatch.close();
            fencerBookWatch.close();
        } catch (Exception e) {
            // closing anyway
        }
        membership.close();
        book.close();
        for (MemoryNode mn : memoryNodes) {
            mn.close();
        }
    }
}
