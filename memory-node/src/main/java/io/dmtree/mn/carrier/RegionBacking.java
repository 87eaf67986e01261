package io.dmtree.mn.carrier;

import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.RegionDurability;
import io.dmtree.mn.durable.DurableRegionFile;

import java.io.IOException;

/**
 * The memory under a region a carrier serves from process memory: off-heap memory of the process,
 * or, when the memory node has a data directory, its {@link DurableRegionFile} mapped into the
 * process. Carriers serve both alike ({@code local}, {@code tcp}: verbs on the region; {@code rdma}:
 * the device registers the region's segments, a file mapping as well as malloc'ed memory).
 */
public final class RegionBacking implements AutoCloseable {
    private final OffHeapRegion region;
    private final DurableRegionFile file;

    private RegionBacking(OffHeapRegion region, DurableRegionFile file) {
        this.region = region;
        this.file = file;
    }

    /** The backing {@code context} asks for. */
    public static RegionBacking open(ServeContext context) throws IOException {
        if (!context.durable()) {
            return new RegionBacking(new OffHeapRegion(context.regionBytes()), null);
        }
        DurableRegionFile f = DurableRegionFile.open(context.dataDir(), context.memoryNode(), context.regionBytes(),
                context.dataOptions());
        return new RegionBacking(f.region(), f);
    }

    /** Off-heap memory of this process, not durable. */
    public static RegionBacking inMemory(long regionBytes) {
        return new RegionBacking(new OffHeapRegion(regionBytes), null);
    }

    public OffHeapRegion region() {
        return region;
    }

    public RegionDurability durability() {
        return file == null ? RegionDurability.NONE : file;
    }

    /** Whether the region holds what an earlier memory node left (restore it, do not format it). */
    public boolean restores() {
        return file != null && !file.created();
    }

    /** The durable file, or null. */
    public DurableRegionFile file() {
        return file;
    }

    @Override
    public void close() {
        if (file != null) {
            file.close();
        } else {
            region.close();
        }
    }
}
