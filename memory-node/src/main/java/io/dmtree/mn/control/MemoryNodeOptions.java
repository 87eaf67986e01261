package io.dmtree.mn.control;

import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.shm.SharedRegionFile;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * How to run one memory node process.
 *
 * @param id            memory-node id; 0 coordinates the cluster
 * @param listen        control plane (and tcp verbs) address; port 0 picks a free port
 * @param region        region, chunk and lock-table sizes
 * @param transport     the carrier compute nodes use for the data path
 * @param dir           where the id lock and, for shm, the region file live
 * @param maxFrameBytes the largest frame the memory node accepts
 * @param rdmaListen    where the rdma carrier accepts queue-pair connections (null: listen host, port + 1)
 */
public record MemoryNodeOptions(int id, InetSocketAddress listen, MemoryNodeConfig region, Transport transport, Path dir,
                                int maxFrameBytes, InetSocketAddress rdmaListen) {
    public static final int DEFAULT_MAX_FRAME_BYTES = 16 << 20;
    public static final int SEGMENT_SHIFT = SharedRegionFile.DEFAULT_SEGMENT_SHIFT;

    public MemoryNodeOptions {
        if (id < 0 || id >= 0xFFFF) {
            throw new IllegalArgumentException("memory node id must be in [0, 65535): " + id);
        }
        if (maxFrameBytes < 64 * 1024) {
            throw new IllegalArgumentException("frame limit must be at least 64 KiB: " + maxFrameBytes);
        }
    }

    public Path lockFile() {
        return dir.resolve("dmtree-mn" + id + ".lock");
    }

    public Path regionFile() {
        return dir.resolve("dmtree-mn" + id + ".region");
    }
}
