package io.dmtree.workloads.lockbench;

import io.dmtree.core.cn.CnThreads;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.lock.HostMemory;
import io.dmtree.core.lock.HostMemoryContext;
import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockTable;
import io.dmtree.core.memory.CountingVerbs;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.ModelledLatencyVerbs;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.InJvmMessageBus;
import io.dmtree.core.nic.NicModel;
import io.dmtree.core.nic.NicModelConfig;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.local.LocalVerbs;
import io.dmtree.mn.carrier.local.RegionHostMemory;

import java.util.ArrayList;
import java.util.List;

/**
 * Memory nodes and logical compute nodes in this JVM for the lock bench: the {@code local}
 * carrier (optionally with a modelled round trip), in-JVM CN messaging, and compute node i on the
 * host of memory node i for i below {@code colocated} (so {@code alock} has a local cohort; the
 * lock bench's default is CN 0 on MN 0's host). With a {@link NicModelConfig} every compute node's
 * verbs and messages go through one {@link NicModel} instead (modelled; a colocated compute node
 * reaches its own memory node by loopback) and the modelled round trip is not added. Each memory
 * node holds {@code locksPerMn} locks in its lock table, numbered {@code mn * locksPerMn + slot};
 * a node buffer per lock for the critical section's READ and write-back sits in the same memory
 * node's chunk area. Thread ids leave room for the warm-up's threads, whose ids return to the pool
 * only once those threads are collected.
 */
final class LockBenchCluster implements AutoCloseable {
    private static final long LOCK_TABLE_BYTES = 1 << 20;
    private final List<MemoryNode> mns = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<LockClient> clients = new ArrayList<>();
    private final List<CnMessaging> endpoints = new ArrayList<>();
    private final NicModel nic;
    private final LockTable table;
    private final long[] dataArea;
    private final int locksPerMn;

    record Node(int computeNode, int computeNodeCount, Verbs verbs, CountingVerbs counted, CnMessaging messaging,
                CnThreads threads, int hostMemoryNode, HostMemory hostMemory) implements HostMemoryContext {
    }


    LockBenchCluster(LockDesign design, int cns, int threadsPerCn, long modelledRttNanos, int nodeBytes, int locks) {
        this(design, cns, threadsPerCn, modelledRttNanos, nodeBytes, locks, null, 1, 1);
    }

    LockBenchCluster(LockDesign design, int cns, int threadsPerCn, long modelledRttNanos, int nodeBytes, int locksPerMn,
                     NicModelConfig nicConfig, int memoryNodes, int colocated) {
        if (memoryNodes < 1 || memoryNodes > 64) {
            throw new IllegalArgumentException("memory nodes must be in [1, 64]: " + memoryNodes);
        }
        if (colocated < 0 || colocated > Math.min(memoryNodes, cns)) {
            throw new IllegalArgumentException("colocated compute nodes must be in [0, min(memory nodes, compute nodes)]: "
                    + colocated);
        }
        this.locksPerMn = locksPerMn;
        long dataBytes = (long) locksPerMn * Math.max(nodeBytes, 64);
        long chunk = Math.max(1 << 20, RegionLayout.alignUp(dataBytes, 4096));
        MemoryNodeConfig cfg = new MemoryNodeConfig(MemoryNodeConfig.regionBytesFor(1, chunk, LOCK_TABLE_BYTES),
                chunk, LOCK_TABLE_BYTES);
        dataArea = new long[memoryNodes];
        try {
            for (int i = 0; i < memoryNodes; i++) {
                MemoryNode mn = new MemoryNode(i, cfg);
                mns.add(mn);
                dataArea[i] = mn.allocateChunk();
            }
        } catch (RuntimeException e) {
            mns.forEach(MemoryNode::close);
            throw e;
        }
        table = new LockTable(RegionLayout.LOCK_TABLE_START, LOCK_TABLE_BYTES, design.lockBytes());
        if (locksPerMn > table.slots()) {
            mns.forEach(MemoryNode::close);
            throw new IllegalArgumentException(locksPerMn + " locks of design " + design.name() + " do not fit the bench's "
                    + LOCK_TABLE_BYTES + "-byte lock table (" + table.slots() + " slots)");
        }
        InJvmMessageBus bus = new InJvmMessageBus();
        nic = nicConfig == null ? null : new NicModel(nicConfig, memoryNodes);
        for (int cn = 0; cn < cns; cn++) {
            int host = cn < colocated ? cn : -1;
            CountingVerbs counted = LocalVerbs.counted(mns);
            Verbs v = nic != null ? nic.verbs(counted, host)
                    : modelledRttNanos > 0 ? new ModelledLatencyVerbs(counted, modelledRttNanos) : counted;
            CnMessaging m = nic != null ? nic.messaging(bus.join()) : bus.join();
            endpoints.add(m);
            nodes.add(new Node(cn, cns, v, counted, m, new CnThreads(2 * threadsPerCn + 4),
                    host, host < 0 ? null : nic != null ? nic.hostMemory(new RegionHostMemory(mns.get(host).region()))
                            : new RegionHostMemory(mns.get(host).region())));
        }
        for (Node n : nodes) {
            clients.add(design.newClient(n));
        }
    }

    int memoryNodes() {
        return mns.size();
    }

    /** The memory node on compute node {@code cn}'s host, or -1. */
    int hostMemoryNode(int cn) {
        return nodes.get(cn).hostMemoryNode();
    }

    LockClient client(int cn) {
        return clients.get(cn);
    }

    Verbs verbs(int cn) {
        return nodes.get(cn).verbs();
    }

    /** Lock {@code i}: slot {@code i mod locksPerMn} of memory node {@code i / locksPerMn}. */
    long lock(int i) {
        return table.lockAt(i / locksPerMn, i % locksPerMn);
    }

    /** The node the critical section of lock {@code i} reads and writes back, on the lock's memory node. */
    long data(int i, int nodeBytes) {
        return GlobalAddress.plus(dataArea[i / locksPerMn], (long) (i % locksPerMn) * Math.max(nodeBytes, 64));
    }

    long peek(long address) {
        return mns.get(GlobalAddress.memoryNode(address)).region().getLongVolatile(GlobalAddress.offset(address));
    }

    VerbCounts traffic() {
        VerbCounts sum = VerbCounts.ZERO;
        for (Node n : nodes) {
            sum = sum.plus(n.counted().totalCounts());
        }
        return sum;
    }

    /** The NIC model, or null. */
    NicModel nic() {
        return nic;
    }

    @Override
    public void close() {
        for (LockClient c : clients) {
            c.close();
        }
        for (CnMessaging m : endpoints) {
            m.close();
        }
        mns.forEach(MemoryNode::close);
    }
}
