package io.dmtree.core.memory;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.concurrent.locks.LockSupport;

/**
 * Verbs with a modelled network: each round trip parks the caller for half the round-trip time
 * before the verb takes effect and half after, so the CPU is free while a verb is "in flight",
 * as on a real NIC. Figures taken with it are modelled; counters are those of the wrapped carrier.
 */
public final class ModelledLatencyVerbs implements Verbs {
    private final Verbs inner;
    private final long halfRttNanos;

    public ModelledLatencyVerbs(Verbs inner, long rttNanos) {
        this.inner = inner;
        this.halfRttNanos = rttNanos / 2;
    }

    private void fly() {
        if (halfRttNanos > 0) {
            LockSupport.parkNanos(halfRttNanos);
        }
    }

    @Override
    public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        fly();
        inner.read(address, dst, dstOffset, length);
        fly();
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        fly();
        inner.write(address, src, srcOffset, length);
        fly();
    }

    @Override
    public long cas(long address, long expected, long desired) {
        fly();
        long r = inner.cas(address, expected, desired);
        fly();
        return r;
    }

    @Override
    public long faa(long address, long delta) {
        fly();
        long r = inner.faa(address, delta);
        fly();
        return r;
    }

    @Override
    public void post(VerbBatch batch) {
        fly();
        inner.post(batch);
        fly();
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
