package io.dmtree.mn.carrier.local;

import io.dmtree.core.lock.HostMemory;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.mn.OffHeapRegion;

/**
 * CPU access to a memory node's region from a compute node on the same host: volatile loads,
 * stores and compare-and-swap on the region itself, not verbs, so not counted as MN traffic.
 * Addresses must lie on that memory node (the caller checks the node; the region checks bounds
 * and alignment).
 */
public record RegionHostMemory(OffHeapRegion region) implements HostMemory {
    @Override
    public long getVolatile(long address) {
        return region.getLongVolatile(GlobalAddress.offset(address));
    }

    @Override
    public void putVolatile(long address, long value) {
        region.putLongVolatile(GlobalAddress.offset(address), value);
    }

    @Override
    public long compareAndSwap(long address, long expected, long desired) {
        return region.compareAndSwap(GlobalAddress.offset(address), expected, desired);
    }
}
