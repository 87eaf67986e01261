package io.dmtree.cn.recovery;

import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounters;
import io.dmtree.core.memory.Verbs;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Verbs that this compute node refuses itself once its {@link MemberFence} is up: every verb first
 * checks the fence (one volatile read, nothing allocated) and throws
 * {@link io.dmtree.core.memory.FencedException} when fenced; a verb that fails after the fence
 * went up (the memory node refused it, or the carrier closed) fails with that exception too. A
 * verb that passed the check before the fence may still take effect: the memory nodes' fence by
 * epoch is what bounds those, this side only stops issuing.
 */
public final class FencedVerbs implements Verbs {
    private final Verbs inner;
    private final MemberFence fence;

    public FencedVerbs(Verbs inner, MemberFence fence) {
        this.inner = inner;
        this.fence = fence;
    }

    public MemberFence fence() {
        return fence;
    }

    @Override
    public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        fence.check();
        try {
            inner.read(address, dst, dstOffset, length);
        } catch (RuntimeException e) {
            throw fence.translate(e);
        }
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        fence.check();
        try {
            inner.write(address, src, srcOffset, length);
        } catch (RuntimeException e) {
            throw fence.translate(e);
        }
    }

    @Override
    public long cas(long address, long expected, long desired) {
        fence.check();
        try {
            return inner.cas(address, expected, desired);
        } catch (RuntimeException e) {
            throw fence.translate(e);
        }
    }

    @Override
    public long faa(long address, long delta) {
        fence.check();
        try {
            return inner.faa(address, delta);
        } catch (RuntimeException e) {
            throw fence.translate(e);
        }
    }

    @Override
    public void post(VerbBatch batch) {
        fence.check();
        try {
            inner.post(batch);
        } catch (RuntimeException e) {
            throw fence.translate(e);
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
