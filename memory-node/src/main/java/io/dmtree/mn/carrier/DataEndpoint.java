package io.dmtree.mn.carrier;

import io.dmtree.core.wire.RdmaSegment;

import java.util.List;

/**
 * Where a compute node reaches a memory node's data path, as the region description carries it:
 * a shared-memory file, a host and port, and registered RDMA segments; each carrier fills what it
 * uses and leaves the rest empty.
 */
public record DataEndpoint(String shmPath, String host, int port, List<RdmaSegment> rdmaSegments) {
    public DataEndpoint {
        shmPath = shmPath == null ? "" : shmPath;
        host = host == null ? "" : host;
        rdmaSegments = List.copyOf(rdmaSegments);
    }

    /** The front door itself carries the data (tcp), or nothing does (local). */
    public static DataEndpoint at(String host, int port) {
        return new DataEndpoint("", host, port, List.of());
    }
}
