package io.dmtree.mn.carrier.local;

import io.dmtree.core.memory.CountingVerbs;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.OffHeapRegion;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.List;

/**
 * The {@code local} carrier's verbs: one compute node's verbs on memory nodes in the same JVM (or
 * on regions of another process mapped from shared memory). A verb is a copy or an atomic on the
 * memory node's off-heap region. They count nothing: {@link #counted} wraps them in
 * {@link CountingVerbs}, as every carrier is wrapped, so figures compare across carriers.
 */
public final class LocalVerbs implements Verbs {
    private final OffHeapRegion[] regions;

    /**
     * Verbs on regions this JVM can address directly, listed by memory-node id: the memory nodes'
     * own regions in one JVM, or another process's regions mapped from shared memory.
     */
    public static LocalVerbs overRegions(List<OffHeapRegion> regions) {
        return new LocalVerbs(regions.toArray(new OffHeapRegion[0]));
    }

    private LocalVerbs(OffHeapRegion[] regions) {
        this.regions = regions.clone();
    }

    /** Counted local verbs on {@code memoryNodes} (listed by id): what an embedded compute node uses. */
    public static CountingVerbs counted(List<MemoryNode> memoryNodes) {
        return CountingVerbs.over(new LocalVerbs(memoryNodes));
    }

    public LocalVerbs(List<MemoryNode> memoryNodes) {
        this.regions = new OffHeapRegion[memoryNodes.size()];
        for (int i = 0; i < regions.length; i++) {
            MemoryNode mn = memoryNodes.get(i);
            if (mn.id() != i) {
                throw new IllegalArgumentException("memory nodes must be listed by id; position " + i + " holds " + mn.id());
            }
            regions[i] = mn.region();
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
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        doWrite(address, src, srcOffset, length);
    }

    @Override
    public long cas(long address, long expected, long desired) {
        return region(address).compareAndSwap(GlobalAddress.offset(address), expected, desired);
    }

    @Override
    public long faa(long address, long delta) {
        return region(address).fetchAndAdd(GlobalAddress.offset(address), delta);
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
        }
    }

    @Override
    public int memoryNodeCount() {
        return regions.length;
    }
}
