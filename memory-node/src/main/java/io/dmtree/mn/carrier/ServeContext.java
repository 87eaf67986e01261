package io.dmtree.mn.carrier;

import io.dmtree.core.carrier.CarrierOptions;

import java.nio.file.Path;

/**
 * What a carrier's server half learns about the memory node it serves.
 *
 * @param memoryNode  the memory node's id
 * @param regionBytes the region's size
 * @param dir         the memory node's directory (id lock; shm region files)
 * @param maxFrameBytes the largest frame the memory node accepts
 * @param options     carrier-specific options, read by the half itself
 * @param processes   this host's compute-node processes, as their JOINs named them (shm fences by them)
 * @param dataDir     the data directory of a durable region ({@code dmtree mn --data}), or null: the
 *                    region lives in process memory (or, for shm, in a file removed at stop)
 */
public record ServeContext(int memoryNode, long regionBytes, Path dir, int maxFrameBytes, CarrierOptions options,
                           ComputeNodeProcesses processes, Path dataDir) {
    /** {@code data.segment-shift}: log2 of one mapping of a durable region's file (tests use small ones). */
    public static final String DATA_SEGMENT_SHIFT = "data.segment-shift";
    /** {@code data.sync-map}: map a durable region's file MAP_SYNC (a DAX file on persistent memory). */
    public static final String DATA_SYNC_MAP = "data.sync-map";
    /**
     * {@code membership}: {@code on} when the memory node takes part in a cluster's membership, so
     * it learns every fence (set by the memory node itself); carriers whose checks judge by fences
     * (the chunk table's per-owner rules) apply them only then.
     */
    public static final String MEMBERSHIP = "membership";

    /** Whether the memory node takes part in a membership ({@link #MEMBERSHIP}). */
    public boolean withMembership() {
        return "on".equals(options.get(MEMBERSHIP, "off"));
    }

    public ServeContext {
        processes = processes == null ? new ComputeNodeProcesses() : processes;
    }

    /** A context of a region in process memory. */
    public ServeContext(int memoryNode, long regionBytes, Path dir, int maxFrameBytes, CarrierOptions options,
                        ComputeNodeProcesses processes) {
        this(memoryNode, regionBytes, dir, maxFrameBytes, options, processes, null);
    }

    /** A context with a registry of processes of its own (nobody joined). */
    public ServeContext(int memoryNode, long regionBytes, Path dir, int maxFrameBytes, CarrierOptions options) {
        this(memoryNode, regionBytes, dir, maxFrameBytes, options, null, null);
    }

    /** Whether the region is durable: kept in a file of {@link #dataDir()}. */
    public boolean durable() {
        return dataDir != null;
    }

    /** How a durable region's file is mapped, from the carrier options. */
    public io.dmtree.mn.durable.DurableRegionFile.Options dataOptions() {
        int shift = options.getInt(DATA_SEGMENT_SHIFT, io.dmtree.mn.durable.DurableRegionFile.Options.DEFAULTS.segmentShift(), 12, 30);
        boolean sync = options.getInt(DATA_SYNC_MAP, 0, 0, 1) == 1;
        return new io.dmtree.mn.durable.DurableRegionFile.Options(shift, sync);
    }

    /** Where a file-backed region of this memory node lives. */
    public Path regionFile() {
        return dir.resolve("dmtree-mn" + memoryNode + ".region");
    }
}
