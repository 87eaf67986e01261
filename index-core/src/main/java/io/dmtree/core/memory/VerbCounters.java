package io.dmtree.core.memory;

import java.util.concurrent.atomic.LongAdder;

/**
 * Live verb counters for the traffic one compute node sends to one memory node. Thread-safe and
 * cheap to bump from many threads; {@link #snapshot()} reads them, {@link #reset()} zeroes them.
 * Atomics count 8 payload bytes each way: the operand and the returned word.
 */
public final class VerbCounters {
    private final LongAdder reads = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private final LongAdder cas = new LongAdder();
    private final LongAdder faa = new LongAdder();
    private final LongAdder readBytes = new LongAdder();
    private final LongAdder writeBytes = new LongAdder();
    private final LongAdder roundTrips = new LongAdder();

    public void countRead(int bytes) {
        reads.increment();
        readBytes.add(bytes);
    }

    public void countWrite(int bytes) {
        writes.increment();
        writeBytes.add(bytes);
    }

    public void countCas() {
        cas.increment();
        readBytes.add(Long.BYTES);
        writeBytes.add(2 * Long.BYTES);
    }

    public void countFaa() {
        faa.increment();
        readBytes.add(Long.BYTES);
        writeBytes.add(Long.BYTES);
    }

    public void countRoundTrip() {
        roundTrips.increment();
    }

    public void count(VerbKind kind, int bytes) {
        switch (kind) {
            case READ -> countRead(bytes);
            case WRITE -> countWrite(bytes);
            case CAS -> countCas();
            case FAA -> countFaa();
            default -> throw new IllegalStateException("unknown verb " + kind);
        }
    }

    public VerbCounts snapshot() {
        return new VerbCounts(reads.sum(), writes.sum(), cas.sum(), faa.sum(), readBytes.sum(),
                writeBytes.sum(), roundTrips.sum());
    }

    public void reset() {
        reads.reset();
        writes.reset();
        cas.reset();
        faa.reset();
        readBytes.reset();
        writeBytes.reset();
        roundTrips.reset();
    }
}
