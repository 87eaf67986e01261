package io.dmtree.core.wire;

import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.MalformedFrameException;

import java.util.ArrayList;
import java.util.List;

/**
 * What a compute node needs to reach one memory node's region on its carrier: the carrier's name,
 * the region's geometry and, as the carrier uses them, the shared-memory file, the data endpoint's
 * host and port, and the registered RDMA segments with their keys. The body of a DESCRIBE reply; see
 * {@link ControlFrame} for the bytes.
 */
public record RegionDescription(int memoryNode, String transport, long regionBytes, long chunkBytes,
                                long lockTableOffset, long lockTableBytes, long chunkAreaOffset,
                                String shmPath, String host, int port, List<RdmaSegment> rdmaSegments, String coordination) {
    public static final int MAX_STRING_BYTES = 1024;
    public static final int MAX_SEGMENTS = 4096;
    public static final int MAX_TRANSPORT_BYTES = 32;

    public RegionDescription {
        rdmaSegments = List.copyOf(rdmaSegments);
        if (transport == null || transport.isEmpty()) {
            throw new IllegalArgumentException("a region description names its transport");
        }
        shmPath = shmPath == null ? "" : shmPath;
        host = host == null ? "" : host;
        coordination = coordination == null ? "" : coordination;
    }

    /** A description without a coordination service. */
    public RegionDescription(int memoryNode, String transport, long regionBytes, long chunkBytes, long lockTableOffset,
                             long lockTableBytes, long chunkAreaOffset, String shmPath, String host, int port,
                             List<RdmaSegment> rdmaSegments) {
        this(memoryNode, transport, regionBytes, chunkBytes, lockTableOffset, lockTableBytes, chunkAreaOffset, shmPath, host,
                port, rdmaSegments, "");
    }

    /** A copy naming {@code coordination} as the cluster's coordination service. */
    public RegionDescription withCoordination(String coordination) {
        return new RegionDescription(memoryNode, transport, regionBytes, chunkBytes, lockTableOffset, lockTableBytes,
                chunkAreaOffset, shmPath, host, port, rdmaSegments, coordination);
    }

    public void encode(FrameWriter w) {
        w.u16(memoryNode).u16(0).i32(0).string(transport, MAX_TRANSPORT_BYTES)
                .i64(regionBytes).i64(chunkBytes).i64(lockTableOffset).i64(lockTableBytes).i64(chunkAreaOffset);
        w.string(shmPath, MAX_STRING_BYTES).string(host, MAX_STRING_BYTES).u16(port).u16(rdmaSegments.size());
        for (RdmaSegment s : rdmaSegments) {
            w.i64(s.regionOffset()).i64(s.address()).i64(s.length()).i32(s.rkey()).i32(0);
        }
        w.string(coordination, MAX_STRING_BYTES);
    }

    public static RegionDescription decode(FrameReader r) throws MalformedFrameException {
        int mn = r.u16("memory node id");
        r.skip(6, "padding");
        String t = r.string(MAX_TRANSPORT_BYTES, "transport");
        if (t.isEmpty()) {
            throw new MalformedFrameException(ErrorCode.MALFORMED, "a region description without a transport");
        }
        long region = r.i64("region bytes");
        long chunk = r.i64("chunk bytes");
        long lockOffset = r.i64("lock table offset");
        long lockBytes = r.i64("lock table bytes");
        long chunkArea = r.i64("chunk area offset");
        String path = r.string(MAX_STRING_BYTES, "shm path");
        String host = r.string(MAX_STRING_BYTES, "host");
        int port = r.u16("port");
        int n = r.u16("rdma segment count");
        if (n > MAX_SEGMENTS) {
            throw new MalformedFrameException(ErrorCode.TOO_LARGE, n + " rdma segments");
        }
        List<RdmaSegment> segments = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long off = r.i64("segment offset");
            long addr = r.i64("segment address");
            long len = r.i64("segment length");
            int rkey = r.i32("segment rkey");
            r.skip(4, "segment padding");
            segments.add(new RdmaSegment(off, addr, len, rkey));
        }
        String coordination = r.string(MAX_STRING_BYTES, "coordination");
        return new RegionDescription(mn, t, region, chunk, lockOffset, lockBytes, chunkArea, path, host, port, segments,
                coordination);
    }
}
