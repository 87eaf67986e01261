package io.dmtree.cn.replica;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounters;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.memory.Verbs;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Verbs to memory-node processes in this JVM that pass through their {@link ReplicaGate}: each
 * verb carries the configuration epoch its {@link ReplicatingVerbs} issues it in (as a carrier's
 * verb frame would) and is applied only if its memory node is up and admits that epoch. Put it
 * between the replicating verbs and the counted carrier, so a refused verb counts nothing.
 */
public final class GatedVerbs implements Verbs {
    private final Verbs inner;
    private final ReplicaGate gate;
    private ReplicatingVerbs issuer;
    private final ThreadLocal<long[]> stamps = ThreadLocal.withInitial(this::newStamps);

    private long[] newStamps() {
        return new long[gate.memoryNodes()];
    }

    public GatedVerbs(Verbs inner, ReplicaGate gate) {
        if (gate.memoryNodes() < inner.memoryNodeCount()) {
            throw new IllegalArgumentException("the gate covers " + gate.memoryNodes() + " memory nodes, the carrier "
                    + inner.memoryNodeCount());
        }
        this.inner = inner;
        this.gate = gate;
    }

    /** The replicating verbs above, whose issuing epoch each verb carries; set once. */
    public void issuer(ReplicatingVerbs replicating) {
        if (issuer != null) {
            throw new IllegalStateException("the issuer is set already");
        }
        issuer = replicating;
    }

    private long epoch() {
        return issuer.issuingEpoch();
    }

    @Override
    public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        int mn = GlobalAddress.memoryNode(address);
        long s = gate.enter(mn, epoch());
        try {
            inner.read(address, dst, dstOffset, length);
        } finally {
            gate.leave(mn, s);
        }
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        int mn = GlobalAddress.memoryNode(address);
        long s = gate.enter(mn, epoch());
        try {
            inner.write(address, src, srcOffset, length);
        } finally {
            gate.leave(mn, s);
        }
    }

    @Override
    public long cas(long address, long expected, long desired) {
        int mn = GlobalAddress.memoryNode(address);
        long s = gate.enter(mn, epoch());
        try {
            return inner.cas(address, expected, desired);
        } finally {
            gate.leave(mn, s);
        }
    }

    @Override
    public long faa(long address, long delta) {
        int mn = GlobalAddress.memoryNode(address);
        long s = gate.enter(mn, epoch());
        try {
            return inner.faa(address, delta);
        } finally {
            gate.leave(mn, s);
        }
    }

    /** Admits the whole batch (every memory node it touches) before any of it is applied. */
    @Override
    public void post(VerbBatch batch) {
        long epoch = epoch();
        long[] held = stamps.get();
        int n = batch.size();
        int entered = 0;
        try {
            for (int i = 0; i < n; i++) {
                if (batch.firstToMemoryNode(i)) {
                    int mn = GlobalAddress.memoryNode(batch.address(i));
                    held[mn] = gate.enter(mn, epoch);
                    entered = i + 1;
                }
            }
            inner.post(batch);
        } finally {
            for (int i = 0; i < entered; i++) {
                if (batch.firstToMemoryNode(i)) {
                    int mn = GlobalAddress.memoryNode(batch.address(i));
                    gate.leave(mn, held[mn]);
                }
            }
        }
    }

    @Override
    public int memoryNodeCount() {
        return inner.memoryNodeCount();
    }

    @Override
    public VerbCounters counters(int mn) {
        return inner.counters(mn);
    }

    @Override
    public VerbCounts totalCounts() {
        return inner.totalCounts();
    }

    @Override
    public void close() {
        inner.close();
    }
}
