package io.dmtree.mn.carrier;

import io.dmtree.core.wire.FrameService;
import io.dmtree.mn.OffHeapRegion;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Function;

/**
 * A region in this process's off-heap memory whose data path, if any, is served on the memory
 * node's front door itself (the services given): the compute nodes reach it at the front door's
 * advertised host and port. The {@code local} and {@code tcp} carriers serve their regions so. The
 * memory is a {@link RegionBacking}: off-heap, or a durable region's file mapped into the process.
 */
public final class OffHeapServedRegion implements ServedRegion {
    private final RegionBacking backing;
    private final List<FrameService> services;
    private final Fence fence;

    /** How a carrier fences a compute node on this region ({@link ServedRegion#fence}). */
    @FunctionalInterface
    public interface Fence {
        void fence(int computeNode, long epochUpTo) throws IOException, InterruptedException;
    }

    public OffHeapServedRegion(long regionBytes, Function<OffHeapRegion, List<FrameService>> services, Fence fence) {
        this(RegionBacking.inMemory(regionBytes), services, fence);
    }

    /** A region on {@code backing}: process memory, or a durable region's file mapped into the process. */
    public OffHeapServedRegion(RegionBacking backing, Function<OffHeapRegion, List<FrameService>> services, Fence fence) {
        this.backing = backing;
        this.services = List.copyOf(services.apply(backing.region()));
        this.fence = fence;
    }

    @Override
    public OffHeapRegion region() {
        return backing.region();
    }

    @Override
    public io.dmtree.mn.RegionDurability durability() {
        return backing.durability();
    }

    @Override
    public boolean restores() {
        return backing.restores();
    }

    @Override
    public String readyDetail() {
        return backing.file() == null ? "" : "data=" + backing.file().path().toAbsolutePath();
    }

    @Override
    public List<FrameService> frameServices() {
        return services;
    }

    @Override
    public DataEndpoint start(InetSocketAddress bound, String advertisedHost) {
        return DataEndpoint.at(advertisedHost, bound.getPort());
    }

    @Override
    public void fence(int computeNode, long epochUpTo) throws IOException, InterruptedException {
        fence.fence(computeNode, epochUpTo);
    }

    @Override
    public void close() {
        backing.close();
    }
}
