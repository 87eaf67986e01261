package io.dmtree.cn.crash;

import io.dmtree.cn.ComputeNode;
import io.dmtree.core.lock.InProcessMemberLiveness;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockTable;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.CrashingVerbs;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.InJvmMessageBus;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.lock.recovery.FenceableMessaging;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.local.LocalControlPlane;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Memory nodes, their control plane, a message bus and a membership view for one crash-point
 * trial, with compute nodes built by hand as the embedded cluster builds them, on the
 * {@code local} carrier.
 *
 * <p>Membership is an {@link InProcessMemberLiveness} every lock client sees (through
 * {@link LivenessBoundDesign}). A compute node id is departed until its node opens (a node that
 * never ran issued no verb, so it is trivially fenced) and then a member at epoch 1, so a lock
 * recovery that drains every member waits only for nodes that exist. {@link #stop} is the fence
 * of the crashing compute node: its {@link CrashingVerbs} refuse every further request, its
 * messaging is cut ({@link FenceableMessaging}: its sends fail, messages to it are lost), and only
 * then is it reported departed.
 */
final class CrashRig implements AutoCloseable {
    final List<MemoryNode> memoryNodes = new ArrayList<>();
    private final LocalControlPlane controlPlane;
    private final InJvmMessageBus bus = new InJvmMessageBus();
    private final InProcessMemberLiveness liveness;
    private final LivenessBoundDesign design;
    private final TreeConfig tree;
    private final int computeNodes;
    private final int threads;
    private final LockTable lockTable;
    private final long lockTableOffset;
    private final List<ComputeNode> opened = new ArrayList<>();
    private final List<FenceableMessaging> messaging = new ArrayList<>();
    private boolean abandoned;

    CrashRig(LockDesign design, int mns, MemoryNodeConfig memoryNode, TreeConfig tree, int computeNodes, int threads) {
        this.liveness = new InProcessMemberLiveness(computeNodes);
        for (int cn = 0; cn < computeNodes; cn++) {
            liveness.depart(cn); // not joined yet
        }
        this.design = new LivenessBoundDesign(design, liveness);
        this.tree = tree;
        this.computeNodes = computeNodes;
        this.threads = threads;
        for (int i = 0; i < mns; i++) {
            memoryNodes.add(new MemoryNode(i, memoryNode));
        }
        controlPlane = new LocalControlPlane(memoryNodes);
        lockTableOffset = controlPlane.lockTableOffset();
        lockTable = new LockTable(lockTableOffset, controlPlane.lockTableBytes(), design.lockBytes());
    }

    /** Compute node {@code id}, joining as a member now; ids must come in order (the bus numbers endpoints by joining). */
    ComputeNode computeNode(int id, Verbs verbs) {
        if (id != opened.size()) {
            throw new IllegalStateException("compute node " + id + " opened out of order");
        }
        liveness.rejoin(id, 0);
        FenceableMessaging m = new FenceableMessaging(bus.join());
        messaging.add(m);
        ComputeNode cn = new ComputeNode(id, computeNodes, verbs, controlPlane, m, tree, design, threads);
        opened.add(cn);
        return cn;
    }

    /**
     * Fences compute node {@code id}, stopped at its {@code verbs}' crash point or now: no verb of
     * it takes effect after this returns, no message of it is sent or received; then reports it
     * departed. Its node is never closed, as a dead process is not.
     */
    void stop(int id, CrashingVerbs verbs) {
        if (!verbs.crashed()) {
            verbs.crashAfter(0); // serialized with its verbs: none is in flight once this returns
        }
        messaging.get(id).fence();
        liveness.depart(id);
    }

    boolean isMember(int id) {
        return liveness.isMember(id);
    }

    LockTable lockTable() {
        return lockTable;
    }

    /** The design's recovery of departed {@code lapsed}, run through live {@code by}'s own lock client. */
    RecoveryReport recoverLocks(ComputeNode by, int lapsed) {
        return by.lockDesign().recover(RecoveryContext.of(by.lockClient(), lockTable, memoryNodes.size()), lapsed);
    }

    /** The locks (lock-table slots) that {@code requests} touched, in order of first touch. */
    Set<Long> locksTouched(List<CrashingVerbs.Request> requests) {
        Set<Long> locks = new LinkedHashSet<>();
        for (CrashingVerbs.Request r : requests) {
            long lock = lockAt(r.address());
            if (lock != GlobalAddress.NULL) {
                locks.add(lock);
            }
        }
        return locks;
    }

    /** The lock whose slot holds {@code address}, or {@link GlobalAddress#NULL} outside the lock table. */
    long lockAt(long address) {
        long offset = GlobalAddress.offset(address) - lockTableOffset;
        if (offset < 0 || offset >= lockTable.slots() * lockTable.stride()) {
            return GlobalAddress.NULL;
        }
        return lockTable.lockAt(GlobalAddress.memoryNode(address), offset / lockTable.stride());
    }

    /** A thread of this trial may still run: leave the memory nodes mapped when closing. */
    void abandon() {
        abandoned = true;
    }

    boolean abandoned() {
        return abandoned;
    }

    @Override
    public void close() {
        for (int i = 0; i < opened.size(); i++) {
            if (liveness.isMember(i)) {
                opened.get(i).close();
            }
        }
        if (abandoned) {
            return; // a stuck thread may still read or write these regions: unmapping them could crash the JVM
        }
        for (MemoryNode mn : memoryNodes) {
            mn.close();
        }
    }
}
