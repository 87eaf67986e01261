package io.dmtree.mn.control;

import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.carrier.CarrierRegistry;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.CarrierServer;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * How to run one memory node process.
 *
 * @param id             memory-node id; 0 coordinates the cluster
 * @param listen         control plane (and tcp verbs) bind address; port 0 picks a free port
 * @param advertise      the host peers reach this memory node by, or null: the listen host, and for a
 *                       wildcard listen address the host each compute node used to reach it
 * @param region         region, chunk and lock-table sizes
 * @param transport      the carrier compute nodes use for the data path, by name (local, shm, tcp, rdma)
 * @param dir            where the id lock and, for shm, the region file live
 * @param maxFrameBytes  the largest frame the memory node accepts
 * @param carrierOptions options for the carrier (e.g. {@code rdma.listen})
 */
public record MemoryNodeOptions(int id, InetSocketAddress listen, String advertise, MemoryNodeConfig region, String transport,
                                Path dir, int maxFrameBytes, CarrierOptions carrierOptions) {
    public static final int DEFAULT_MAX_FRAME_BYTES = 16 << 20;

    public MemoryNodeOptions {
        if (id < 0 || id >= 0xFFFF) {
            throw new IllegalArgumentException("memory node id must be in [0, 65535): " + id);
        }
        if (maxFrameBytes < 64 * 1024) {
            throw new IllegalArgumentException("frame limit must be at least 64 KiB: " + maxFrameBytes);
        }
        transport = CarrierRegistry.find(CarrierServer.class, transport).name();
        carrierOptions = carrierOptions == null ? CarrierOptions.NONE : carrierOptions;
        advertise = advertise == null || advertise.isBlank() ? null : advertise.trim();
    }

    /** A memory node with default advertise address, frame limit and carrier options. */
    public static MemoryNodeOptions of(int id, InetSocketAddress listen, MemoryNodeConfig region, String transport, Path dir) {
        return new MemoryNodeOptions(id, listen, null, region, transport, dir, DEFAULT_MAX_FRAME_BYTES, CarrierOptions.NONE);
    }

    public MemoryNodeOptions withMaxFrameBytes(int bytes) {
        return new MemoryNodeOptions(id, listen, advertise, region, transport, dir, bytes, carrierOptions);
    }

    public MemoryNodeOptions withCarrierOptions(CarrierOptions o) {
        return new MemoryNodeOptions(id, listen, advertise, region, transport, dir, maxFrameBytes, o);
    }

    public MemoryNodeOptions withAdvertise(String host) {
        return new MemoryNodeOptions(id, listen, host, region, transport, dir, maxFrameBytes, carrierOptions);
    }

    public Path lockFile() {
        return dir.resolve("dmtree-mn" + id + ".lock");
    }
}
