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
 */
public record ServeContext(int memoryNode, long regionBytes, Path dir, int maxFrameBytes, CarrierOptions options) {
    /** Where a file-backed region of this memory node lives. */
    public Path regionFile() {
        return dir.resolve("dmtree-mn" + memoryNode + ".region");
    }
}
