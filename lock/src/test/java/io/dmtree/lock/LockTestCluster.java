package io.dmtree.lock;

import io.dmtree.core.cn.CnThreads;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.lock.HostMemory;
import io.dmtree.core.lock.HostMemoryContext;
import io.dmtree.core.lock.InProcessMemberLiveness;
import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockTable;
import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.lock.recovery.FenceableMessaging;
import io.dmtree.lock.recovery.FenceableVerbs;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.ModelledLatencyVerbs;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.InJvmMessageBus;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.local.LocalVerbs;
import io.dmtree.mn.carrier.local.RegionHostMemory;

import java.util.ArrayList;
import java.util.List;

/**
 * Memory nodes and logical compute nodes in one JVM for lock tests: local verbs, in-JVM messaging,
 * one membership view. A compute node can be stopped as a fenced member would be ({@link #fence}:
 * its verbs and messages fail from then on) and then reported departed ({@link #depart}).
 */
final class LockTestCluster implements AutoCloseable {
    static final long LOCK_TABLE_BYTES = 256 << 10;

    final List<MemoryNode> memoryNodes = new ArrayList<>();
    final List<Node> nodes = new ArrayList<>();
    final LockTable table;
    final List<LockClient> clients = new ArrayList<>();
    final LockDesign design;
    final InProcessMemberLiveness liveness;
    final List<FenceableVerbs> fenceableVerbs = new ArrayList<>();
    final List<FenceableMessaging> fenceableMessaging = new ArrayList<>();
    private final boolean handlerThreads;

    /** CN {@code i} shares a host with MN {@code i} when there is one (only {@code alock} cares). */
    record Node(int computeNode, int computeNodeCount, Verbs verbs, CnMessaging messaging, CnThreads threads,
                int hostMemoryNode, HostMemory hostMemory, MemberLiveness liveness) implements HostMemoryContext {
    }


    LockTestCluster(LockDesign design, int memoryNodeCount, int computeNodeCount, int threadCapacity) {
        this(design, memoryNodeCount, computeNodeCount, threadCapacity, 0);
    }

    /** With {@code modelledRttNanos} &gt; 0 every round trip to an MN is delayed (see {@link ModelledLatencyVerbs}). */
    LockTestCluster(LockDesign design, int memoryNodeCount, int computeNodeCount, int threadCapacity,
                    long modelledRttNanos) {
        this(design, memoryNodeCount, computeNodeCount, threadCapacity, modelledRttNanos, false);
    }

    /**
     * With {@code handlerThreads} every compute node's message handler runs on a thread of its own
     * ({@link HandlerThreadMessaging}), as over a network carrier, instead of on the sender's thread.
     */
    LockTestCluster(LockDesign design, int memoryNodeCount, int computeNodeCount, int threadCapacity,
                    long modelledRttNanos, boolean handlerThreads) {
        this.handlerThreads = handlerThreads;
        this.design = design;
        this.liveness = new InProcessMemberLiveness(computeNodeCount);
        MemoryNodeConfig cfg = new MemoryNodeConfig(2 << 20, 64 << 10, LOCK_TABLE_BYTES);
        for (int i = 0; i < memoryNodeCount; i++) {
            memoryNodes.add(new MemoryNode(i, cfg));
        }
        InJvmMessageBus bus = new InJvmMessageBus();
        for (int cn = 0; cn < computeNodeCount; cn++) {
            Verbs v = LocalVerbs.counted(memoryNodes);
            if (modelledRttNanos > 0) {
                v = new ModelledLatencyVerbs(v, modelledRttNanos);
            }
            int host = cn < memoryNodeCount ? cn : -1;
            FenceableVerbs fv = new FenceableVerbs(v, cn);
            CnMessaging joined = bus.join();
            FenceableMessaging fm = new FenceableMessaging(handlerThreads ? new HandlerThreadMessaging(joined) : joined);
            fenceableVerbs.add(fv);
            fenceableMessaging.add(fm);
            nodes.add(new Node(cn, computeNodeCount, fv, fm, new CnThreads(threadCapacity), host,
                    host < 0 ? null : new RegionHostMemory(memoryNodes.get(host).region()), liveness));
        }
        table = new LockTable(RegionLayout.LOCK_TABLE_START, LOCK_TABLE_BYTES, design.lockBytes());
        for (Node n : nodes) {
            clients.add(design.newClient(n));
        }
    }

    LockClient client(int cn) {
        return clients.get(cn);
    }

    /** Lock {@code i}, spread over the memory nodes. */
    long lock(int i) {
        return table.lockAt(i % memoryNodes.size(), i / memoryNodes.size());
    }

    Verbs verbs(int cn) {
        return nodes.get(cn).verbs();
    }

    /**
     * Stops compute node {@code cn} as fencing would: from now on its verbs fail and messages to
     * and from it are lost; returns once none of its verbs is in flight. (Threads of that node that
     * still run take no effect on the memory nodes; the caller keeps them out of critical sections.)
     */
    void fence(int cn) {
        fenceableVerbs.get(cn).fence();
        fenceableMessaging.get(cn).fence();
    }

    /** Reports fenced compute node {@code cn} departed to every member. */
    void depart(int cn) {
        if (!fenceableVerbs.get(cn).fenced()) {
            throw new IllegalStateException("compute node " + cn + " must be fenced before it departs");
        }
        liveness.depart(cn);
    }

    /** Runs the design's recovery of departed {@code lapsed} on member {@code by}. */
    RecoveryReport recover(int by, int lapsed) {
        return design.recover(RecoveryContext.of(client(by), table, memoryNodes.size()), lapsed);
    }

    VerbCounts traffic() {
        VerbCounts sum = VerbCounts.ZERO;
        for (Node n : nodes) {
            sum = sum.plus(n.verbs().totalCounts());
        }
        return sum;
    }

    /** Reads a lock word straight from MN memory (no verb counted). */
    long peek(long address) {
        return memoryNodes.get(GlobalAddress.memoryNode(address)).region()
                .getLongVolatile(GlobalAddress.offset(address));
    }

    @Override
    public void close() {
        for (LockClient c : clients) {
            c.close();
        }
        if (handlerThreads) {
            for (FenceableMessaging m : fenceableMessaging) {
                m.close();
            }
        }
        for (MemoryNode mn : memoryNodes) {
            mn.close();
        }
    }
}
