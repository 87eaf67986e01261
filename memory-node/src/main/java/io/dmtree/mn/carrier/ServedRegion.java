package io.dmtree.mn.carrier;

import io.dmtree.core.wire.FrameService;
import io.dmtree.mn.OffHeapRegion;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * One memory node's region as a carrier serves it, from {@link CarrierServer#open} to
 * {@link #close}. The region is formatted by the memory node; the carrier only backs and serves it.
 */
public interface ServedRegion extends AutoCloseable {
    /** The region's memory, exactly the configured size. */
    OffHeapRegion region();

    /** How the region persists: {@link RegionDurability#NONE} unless it is a durable region's file. */
    default io.dmtree.mn.RegionDurability durability() {
        return io.dmtree.mn.RegionDurability.NONE;
    }

    /** Whether the region holds what an earlier memory node left (a durable region's file): restore it, do not format it. */
    default boolean restores() {
        return false;
    }

    /** Services this carrier adds to the memory node's front door (the tcp verb service); none by default. */
    default List<FrameService> frameServices() {
        return List.of();
    }

    /**
     * Starts the data path once the front door listens on {@code bound}, reached by peers as
     * {@code advertisedHost}; returns what compute nodes need to reach the data path.
     */
    DataEndpoint start(InetSocketAddress bound, String advertisedHost) throws IOException;

    /**
     * Fences compute node {@code computeNode}'s incarnations with epochs up to {@code epochUpTo}:
     * returns only once no verb of those incarnations can take effect on this region any more
     * (a verb already applied stays applied; none is applied after the return). Idempotent; a
     * later call with a smaller epoch changes nothing. How is the carrier's own (tcp: epochs
     * checked on every verb frame; shm: the process is stopped; rdma: its queue pairs are
     * disconnected). Bounded in time: throws {@link IOException} naming what it could not stop,
     * and the memory node then does not acknowledge the fence (it tries again).
     */
    void fence(int computeNode, long epochUpTo) throws IOException, InterruptedException;

    /** Extra words for the memory node's ready line ({@code file=...}, {@code rdma=...}); may be empty. */
    default String readyDetail() {
        return "";
    }

    /** Stops serving and releases the region's backing (removing a region file this half created). */
    @Override
    void close();
}
