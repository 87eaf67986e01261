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
 */
public record ServeContext(int memoryNode, long regionBytes, Path dir, int maxFrameBytes, CarrierOptions options,
                           ComputeNodeProcesses processes) {
    public ServeContext {
        processes = processes == null ? new ComputeNodeProcesses() : processes;
    }

    /** A context with a registry of processes of its own (nobody joined). */
    public ServeContext(int memoryNode, long regionBytes, Path dir, int maxFrameBytes, CarrierOptions options) {
        this(memoryNode, regionBytes, dir, maxFrameBytes, options, null);
    }

    /** Where a file-backed region of this memory node lives. */
    public Path regionFile() {
        return dir.resolve("dmtree-mn" + memoryNode + ".region");
    }
}
