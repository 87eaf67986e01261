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
 * advertised host and port. The {@code local} and {@code tcp} carriers serve their regions so.
 */
public final class OffHeapServedRegion implements ServedRegion {
    private final OffHeapRegion region;
    private final List<FrameService> services;
    private final Fence fence;

    /** How a carrier fences a compute node on this region ({@link ServedRegion#fence}). */
    @FunctionalInterface
    public interface Fence {
        void fence(int computeNode, long epochUpTo) throws IOException, InterruptedException;
    }

    public OffHeapServedRegion(long regionBytes, Function<OffHeapRegion, List<FrameService>> services, Fence fence) {
        this.region = new OffHeapRegion(regionBytes);
        this.services = List.copyOf(services.apply(region));
        this.fence = fence;
    }

    @Override
    public OffHeapRegion region() {
        return region;
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
        region.close();
    }
}
