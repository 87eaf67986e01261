package io.dmtree.workloads.lockbench;

import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounters;
import io.dmtree.core.memory.Verbs;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.concurrent.locks.LockSupport;

/**
 * Verbs with a modelled network round trip: the caller parks for half the round-trip time before
 * the verb takes effect and half after, leaving the CPU free while the verb is "in flight", as on
 * a NIC. Throughput and latency taken with it are modelled figures; verb counts are exact.
 */
final class ModelledNetworkVerbs implements Verbs {
    private final Verbs inner;
    private final long halfRttNanos;

    ModelledNetworkVerbs(Verbs inner, long rttNanos) {
        this.inner = inner;
        this.halfRttNanos = rttNanos / 2;
    }

    private void fly() {
        LockSupport.parkNanos(halfRttNanos);
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
}
