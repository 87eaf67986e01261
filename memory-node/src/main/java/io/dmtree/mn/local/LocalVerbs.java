package io.dmtree.mn.local;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounters;
import io.dmtree.core.memory.Verbs;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.OffHeapRegion;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.List;

/**
 * The {@code local} carrier: one compute node's verbs on memory nodes in the same JVM. A verb is
 * a copy or an atomic on the memory node's off-heap region; counters are kept per memory node
 * exactly as the remote carriers keep them, so figures compare across carriers.
 */
public final class LocalVerbs implements Verbs {
    private final OffHeapRegion[] regions;
    private final VerbCounters[] counters;

    /**
     * Verbs on regions this JVM can address directly, listed by memory-node id: the memory nodes'
     * own regions in one JVM, or another process's regions mapped from shared memory.
     */
    public static LocalVerbs overRegions(List<OffHeapRegion> regions) {
        return new LocalVerbs(regions.toArray(new OffHeapRegion[0]));
    }

    private LocalVerbs(OffHeapRegion[] regions) {
        this.regions = regions.clone();
        this.counters = new VerbCounters[regions.length];
        for (int i = 0; i < regions.length; i++) {
            counters[i] = new VerbCounters();
        }
    }

    public LocalVerbs(List<MemoryNode> memoryNodes) {
        this.regions = new OffHeapRegion[memoryNodes.size()];
        this.counters = new VerbCounters[memoryNodes.size()];
        for (int i = 0; i < regions.length; i++) {
            MemoryNode mn = memoryNodes.get(i);
            if (mn.id() != i) {
                throw new IllegalArgumentException("memory nodes must be listed by id; position " + i + " holds " + mn.id());
            }
            regions[i] = mn.region();
            counters[i] = new VerbCounters();
        }
    }

    private OffHeapRegion region(long address) {
        int mn = GlobalAddress.memoryNode(address);
        if (mn >= regions.length) {
            throw new RemoteAccessException("no memory node " + mn + " (address " + GlobalAddress.toString(address)
                    + "); this compute node knows " + regions.length);
        }
        return regions[mn];
    }

    @Override
    public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        doRead(address, dst, dstOffset, length);
        VerbCounters c = counters[GlobalAddress.memoryNode(address)];
        c.countRead(length);
        c.countRoundTrip();
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        doWrite(address, src, srcOffset, length);
        VerbCounters c = counters[GlobalAddress.memoryNode(address)];
        c.countWrite(length);
        c.countRoundTrip();
    }

    @Override
    public long cas(long address, long expected, long desired) {
        long found = region(address).compareAndSwap(GlobalAddress.offset(address), expected, desired);
        VerbCounters c = counters[GlobalAddress.memoryNode(address)];
        c.countCas();
        c.countRoundTrip();
        return found;
    }

    @Override
    public long faa(long address, long delta) {
        long before = region(address).fetchAndAdd(GlobalAddress.offset(address), delta);
        VerbCounters c = counters[GlobalAddress.memoryNode(address)];
        c.countFaa();
        c.countRoundTrip();
        return before;
    }

    private void doRead(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        OffHeapRegion r = region(address);
        dst.boundsCheck(dstOffset, length);
        r.copyOut(GlobalAddress.offset(address), dst.byteArray(), dst.addressOffset() + dstOffset, length);
    }

    private void doWrite(long address, DirectBuffer src, int srcOffset, int length) {
        OffHeapRegion r = region(address);
        src.boundsCheck(srcOffset, length);
        r.copyIn(GlobalAddress.offset(address), src.byteArray(), src.addressOffset() + srcOffset, length);
    }

    @Override
    public void post(VerbBatch batch) {
        int n = batch.size();
        for (int i = 0; i < n; i++) {
            region(batch.address(i)); // refuse unknown memory nodes before anything takes effect
        }
        for (int i = 0; i < n; i++) {
            long address = batch.address(i);
            switch (batch.kind(i)) {
                case READ -> doRead(address, batch.readBuffer(i), batch.bufferOffset(i), batch.length(i));
                case WRITE -> doWrite(address, batch.writeBuffer(i), batch.bufferOffset(i), batch.length(i));
                case CAS -> batch.setResult(i, region(address).compareAndSwap(GlobalAddress.offset(address),
                        batch.operand1(i), batch.operand2(i)));
                case FAA -> batch.setResult(i, region(address).fetchAndAdd(GlobalAddress.offset(address),
                        batch.operand1(i)));
                default -> throw new IllegalStateException("unknown verb " + batch.kind(i));
            }
            counters[GlobalAddress.memoryNode(address)].count(batch.kind(i), batch.length(i));
        }
        countRoundTrips(batch);
    }

    private void countRoundTrips(VerbBatch batch) {
        int n = batch.size();
        for (int i = 0; i < n; i++) {
            int mn = GlobalAddress.memoryNode(batch.address(i));
            boolean first = true;
            for (int j = 0; j < i && first; j++) {
                first = GlobalAddress.memoryNode(batch.address(j)) != mn;
            }
            if (first) {
                counters[mn].countRoundTrip();
            }
        }
    }

    @Override
    public int memoryNodeCount() {
        return regions.length;
    }

    @Override
    public VerbCounters counters(int mn) {
        if (mn < 0 || mn >= counters.length) {
            throw new IllegalArgumentException("no memory node " + mn);
        }
        return counters[mn];
    }
}
