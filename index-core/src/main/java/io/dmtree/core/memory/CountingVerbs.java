package io.dmtree.core.memory;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The one place verbs are counted: a decorator over any carrier's verbs that keeps, per memory
 * node, verbs by kind, payload bytes and round trips ({@link VerbCounters}), the "MN communication"
 * figure. A verb is counted once it returned; one that threw is not. A batch costs one round trip
 * per memory node it touches, whatever the carrier does underneath.
 */
public final class CountingVerbs implements Verbs {
    private final Verbs inner;
    private final VerbCounters[] counters;

    private CountingVerbs(Verbs inner) {
        this.inner = inner;
        this.counters = new VerbCounters[inner.memoryNodeCount()];
        for (int i = 0; i < counters.length; i++) {
            counters[i] = new VerbCounters();
        }
    }

    /** Counting verbs over {@code carrierVerbs}; closing them closes the carrier's verbs. */
    public static CountingVerbs over(Verbs carrierVerbs) {
        if (carrierVerbs instanceof CountingVerbs c) {
            return c;
        }
        return new CountingVerbs(carrierVerbs);
    }

    /** The carrier's own verbs underneath. */
    public Verbs carrierVerbs() {
        return inner;
    }

    private VerbCounters of(long address) {
        return counters[GlobalAddress.memoryNode(address)];
    }

    @Override
    public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        inner.read(address, dst, dstOffset, length);
        VerbCounters c = of(address);
        c.countRead(length);
        c.countRoundTrip();
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        inner.write(address, src, srcOffset, length);
        VerbCounters c = of(address);
        c.countWrite(length);
        c.countRoundTrip();
    }

    @Override
    public long cas(long address, long expected, long desired) {
        long found = inner.cas(address, expected, desired);
        VerbCounters c = of(address);
        c.countCas();
        c.countRoundTrip();
        return found;
    }

    @Override
    public long faa(long address, long delta) {
        long before = inner.faa(address, delta);
        VerbCounters c = of(address);
        c.countFaa();
        c.countRoundTrip();
        return before;
    }

    @Override
    public void post(VerbBatch batch) {
        inner.post(batch);
        int n = batch.size();
        for (int i = 0; i < n; i++) {
            int mn = GlobalAddress.memoryNode(batch.address(i));
            counters[mn].count(batch.kind(i), batch.length(i));
            if (batch.firstToMemoryNode(i)) {
                counters[mn].countRoundTrip();
            }
        }
    }

    @Override
    public int memoryNodeCount() {
        return counters.length;
    }

    @Override
    public VerbCounters counters(int mn) {
        if (mn < 0 || mn >= counters.length) {
            throw new IllegalArgumentException("no memory node " + mn);
        }
        return counters[mn];
    }

    @Override
    public void close() {
        inner.close();
    }
}
