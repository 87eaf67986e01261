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
 * One memory node and logical compute nodes in this JVM for the lock bench: the {@code local}
 * carrier (optionally with a modelled round trip), in-JVM CN messaging, and CN 0 on the MN's host
 * (so {@code alock} has a local cohort). With a {@link NicModelConfig} every compute node's verbs and
 * messages go through one {@link NicModel} instead (modelled; CN 0 reaches the memory node by
 * loopback) and the modelled round trip is not added. Locks sit in the MN's lock table; a node buffer for the
 * critical section's READ and write-back sits in the chunk area. Thread ids leave room for the
 * warm-up's threads, whose ids return to the pool only once those threads are collected.
 */
final class LockBenchCluster implements AutoCloseable {
    private static final long LOCK_TABLE_BYTES = 1 << 20;
    private final MemoryNode mn;
    private final List<Node> nodes = new ArrayList<>();
    private final List<LockClient> clients = new ArrayList<>();
    private final List<CnMessaging> endpoints = new ArrayList<>();
    private final NicModel nic;
    private final LockTable table;
    private final long dataArea;

    record Node(int computeNode, int computeNodeCount, Verbs verbs, CountingVerbs counted, CnMessaging messaging,
                CnThreads threads, int hostMemoryNode, HostMemory hostMemory) implements HostMemoryContext {
    }


    LockBenchCluster(LockDesign design, int cns, int threadsPerCn, long modelledRttNanos, int nodeBytes, int locks) {
        this(design, cns, threadsPerCn, modelledRttNanos, nodeBytes, locks, null);
    }

    LockBenchCluster(LockDesign design, int cns, int threadsPerCn, long modelledRttNanos, int nodeBytes, int locks,
                     NicModelConfig nicConfig) {
        long dataBytes = (long) locks * Math.max(nodeBytes, 64);
        long chunk = Math.max(1 << 20, RegionLayout.alignUp(dataBytes, 4096));
        MemoryNodeConfig cfg = new MemoryNodeConfig(RegionLayout.chunkAreaOffset(LOCK_TABLE_BYTES) + chunk,
                chunk, LOCK_TABLE_BYTES);
        mn = new MemoryNode(0, cfg);
        dataArea = mn.allocateChunk();
        table = new LockTable(RegionLayout.LOCK_TABLE_START, LOCK_TABLE_BYTES, design.lockBytes());
        if (locks > table.slots()) {
            throw new IllegalArgumentException(locks + " locks of design " + design.name() + " do not fit the bench's "
                    + LOCK_TABLE_BYTES + "-byte lock table (" + table.slots() + " slots)");
        }
        InJvmMessageBus bus = new InJvmMessageBus();
        nic = nicConfig == null ? null : new NicModel(nicConfig, 1);
        for (int cn = 0; cn < cns; cn++) {
            CountingVerbs counted = LocalVerbs.counted(List.of(mn));
            Verbs v = nic != null ? nic.verbs(counted, cn == 0 ? 0 : -1)
                    : modelledRttNanos > 0 ? new ModelledLatencyVerbs(counted, modelledRttNanos) : counted;
            CnMessaging m = nic != null ? nic.messaging(bus.join()) : bus.join();
            endpoints.add(m);
            nodes.add(new Node(cn, cns, v, counted, m, new CnThreads(2 * threadsPerCn + 4),
                    cn == 0 ? 0 : -1, cn == 0 ? new RegionHostMemory(mn.region()) : null));
        }
        for (Node n : nodes) {
            clients.add(design.newClient(n));
        }
    }

    LockClient client(int cn) {
        return clients.get(cn);
    }

    Verbs verbs(int cn) {
        return nodes.get(cn).verbs();
    }

    long lock(int i) {
        return table.lockAt(0, i);
    }

    /** The node the critical section of lock {@code i} reads and writes back. */
    long data(int i, int nodeBytes) {
        return GlobalAddress.plus(dataArea, (long) i * Math.max(nodeBytes, 64));
    }

    long peek(long address) {
        return mn.region().getLongVolatile(GlobalAddress.offset(address));
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
        mn.close();
    }
}
