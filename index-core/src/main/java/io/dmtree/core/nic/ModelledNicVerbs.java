package io.dmtree.core.nic;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounters;
import io.dmtree.core.memory.VerbKind;
import io.dmtree.core.memory.Verbs;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * One compute node's verbs through a {@link NicModel}: each verb waits for its modelled instant of
 * effect at the memory node's NIC, is applied to the carrier underneath, and returns one modelled
 * one-way time later. A batch is admitted request by request in list order (one round trip per
 * memory node, the memory nodes in parallel), applied to the carrier when its last request takes
 * effect, and returns when the slowest memory node's answer is back. Waiting parks and spins only
 * for the last microseconds ({@link NicClock#system}). Counters are those of the carrier
 * underneath; a verb that throws has still used its modelled time. Allocates nothing.
 */
final class ModelledNicVerbs implements Verbs {
    private final Verbs inner;
    private final NicModel model;
    private final NicClock clock;
    private final int hostMemoryNode;

    ModelledNicVerbs(Verbs inner, NicModel model, int hostMemoryNode) {
        this.inner = inner;
        this.model = model;
        this.clock = model.clock();
        this.hostMemoryNode = hostMemoryNode;
    }

    /** Admits one verb; waits until it takes effect; returns its completion instant. */
    private long effect(VerbKind kind, long address, int bytes) {
        int mn = GlobalAddress.memoryNode(address);
        long oneWay = model.oneWay(mn, hostMemoryNode);
        long effect = model.admit(mn, kind, address, bytes, clock.now() + oneWay);
        clock.awaitUntil(effect);
        return effect + oneWay;
    }

    @Override
    public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        long done = effect(VerbKind.READ, address, length);
        try {
            inner.read(address, dst, dstOffset, length);
        } finally {
            clock.awaitUntil(done);
        }
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        long done = effect(VerbKind.WRITE, address, length);
        try {
            inner.write(address, src, srcOffset, length);
        } finally {
            clock.awaitUntil(done);
        }
    }

    @Override
    public long cas(long address, long expected, long desired) {
        long done = effect(VerbKind.CAS, address, Long.BYTES);
        try {
            return inner.cas(address, expected, desired);
        } finally {
            clock.awaitUntil(done);
        }
    }

    @Override
    public long faa(long address, long delta) {
        long done = effect(VerbKind.FAA, address, Long.BYTES);
        try {
            return inner.faa(address, delta);
        } finally {
            clock.awaitUntil(done);
        }
    }

    @Override
    public void post(VerbBatch batch) {
        if (batch.isEmpty()) {
            inner.post(batch);
            return;
        }
        long issued = clock.now();
        long lastEffect = Long.MIN_VALUE;
        long done = Long.MIN_VALUE;
        for (int i = 0; i < batch.size(); i++) {
            long address = batch.address(i);
            int mn = GlobalAddress.memoryNode(address);
            long oneWay = model.oneWay(mn, hostMemoryNode);
            long effect = model.admit(mn, batch.kind(i), address, batch.length(i), issued + oneWay);
            lastEffect = Math.max(lastEffect, effect);
            done = Math.max(done, effect + oneWay);
        }
        clock.awaitUntil(lastEffect);
        try {
            inner.post(batch);
        } finally {
            clock.awaitUntil(done);
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
    public void close() {
        inner.close();
    }
}
