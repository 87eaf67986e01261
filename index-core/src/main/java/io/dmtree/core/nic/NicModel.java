package io.dmtree.core.nic;

import io.dmtree.core.lock.HostMemory;
import io.dmtree.core.memory.VerbKind;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.ModelledLatencyMessaging;

/**
 * A modelled RDMA network for compute nodes in one JVM: one {@link MemoryNodeNic} per memory node,
 * shared by every compute node's verbs, and a link delay per round trip and per compute-node
 * message. {@link #verbs} and {@link #messaging} are the decorators over any carrier; every figure
 * taken through them is modelled and is printed with {@link NicModelConfig#describe()}.
 *
 * <p>A verb issued at {@code t} arrives at its memory node's NIC at {@code t + oneWay}, takes effect
 * at the instant the NIC's queue gives it ({@link MemoryNodeNic#admit}), and returns to the caller
 * one way later. The decorator applies the verb to the carrier underneath at its modelled instant of
 * effect, so the order in which verbs see each other follows the model's queue (a spinning CAS that
 * the NIC serves after a release sees the release). A compute node on a memory node's own host
 * reaches it by loopback instead of the link. Messages to another compute node are delivered one
 * modelled message time after they were sent ({@link ModelledLatencyMessaging}).
 */
public final class NicModel {
    private final NicModelConfig config;
    private final NicClock clock;
    private final MemoryNodeNic[] nics;

    public NicModel(NicModelConfig config, int memoryNodes) {
        this(config, memoryNodes, NicClock.system(config.spinNanos()));
    }

    public NicModel(NicModelConfig config, int memoryNodes, NicClock clock) {
        if (memoryNodes < 1) {
            throw new IllegalArgumentException("a NIC model needs at least one memory node: " + memoryNodes);
        }
        this.config = config;
        this.clock = clock;
        this.nics = new MemoryNodeNic[memoryNodes];
        for (int i = 0; i < memoryNodes; i++) {
            nics[i] = new MemoryNodeNic(config);
        }
    }

    public NicModelConfig config() {
        return config;
    }

    public NicClock clock() {
        return clock;
    }

    public int memoryNodes() {
        return nics.length;
    }

    /** Memory node {@code mn}'s modelled NIC. */
    public MemoryNodeNic nic(int mn) {
        if (mn < 0 || mn >= nics.length) {
            throw new IllegalArgumentException("the NIC model has no memory node " + mn + " (it models " + nics.length + ")");
        }
        return nics[mn];
    }

    /** Verbs of a compute node on no memory node's host, through this model. */
    public Verbs verbs(Verbs carrier) {
        return verbs(carrier, -1);
    }

    /**
     * Verbs of a compute node through this model; {@code hostMemoryNode} is the memory node whose
     * host it shares (its verbs there go by loopback), or -1.
     */
    public Verbs verbs(Verbs carrier, int hostMemoryNode) {
        if (carrier.memoryNodeCount() > nics.length) {
            throw new IllegalArgumentException("verbs reach " + carrier.memoryNodeCount() + " memory nodes, the NIC model has "
                    + nics.length);
        }
        return new ModelledNicVerbs(carrier, this, hostMemoryNode);
    }

    /**
     * CPU access to the memory of a compute node's own host through this model: each access takes
     * {@link NicModelConfig#localAccessWallNanos()} (it touches no NIC), so a design's local path is
     * not free against its modelled verbs.
     */
    public HostMemory hostMemory(HostMemory carrier) {
        long wait = config.localAccessWallNanos();
        return new HostMemory() {
            @Override
            public long getVolatile(long address) {
                clock.awaitUntil(clock.now() + wait);
                return carrier.getVolatile(address);
            }

            @Override
            public void putVolatile(long address, long value) {
                clock.awaitUntil(clock.now() + wait);
                carrier.putVolatile(address, value);
            }

            @Override
            public long compareAndSwap(long address, long expected, long desired) {
                clock.awaitUntil(clock.now() + wait);
                return carrier.compareAndSwap(address, expected, desired);
            }
        };
    }

    /** A compute node's messaging through this model: every message to another compute node is delayed. */
    public CnMessaging messaging(CnMessaging carrier) {
        return new ModelledLatencyMessaging(carrier, config.messageWallNanos());
    }

    /** The one-way time from a compute node on {@code hostMemoryNode}'s host (or -1) to {@code mn}. */
    long oneWay(int mn, int hostMemoryNode) {
        return mn == hostMemoryNode ? config.loopbackOneWayNanos() : config.oneWayNanos();
    }

    /** The instant the request takes effect; a memory node outside the model (a bad address the carrier refuses) costs nothing. */
    long admit(int mn, VerbKind kind, long address, int bytes, long arrival) {
        if (mn < 0 || mn >= nics.length) {
            return arrival;
        }
        return nics[mn].admit(kind, address, bytes, arrival);
    }

    /** The NIC counters summed over memory nodes. */
    public MemoryNodeNic.Stats stats() {
        MemoryNodeNic.Stats s = new MemoryNodeNic.Stats(0, 0, 0, 0, 0);
        for (MemoryNodeNic n : nics) {
            MemoryNodeNic.Stats t = n.stats();
            s = new MemoryNodeNic.Stats(s.requests() + t.requests(), s.atomics() + t.atomics(),
                    s.busyNanos() + t.busyNanos(), s.queuedNanos() + t.queuedNanos(),
                    s.addressWaitNanos() + t.addressWaitNanos());
        }
        return s;
    }
}
