package io.dmtree.mn.carrier.shm;

import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.CarrierServer;
import io.dmtree.mn.carrier.DataEndpoint;
import io.dmtree.mn.carrier.ServeContext;
import io.dmtree.mn.carrier.ServedRegion;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * The server half of the {@code shm} carrier: the region is a {@link SharedRegionFile} in the
 * memory node's directory that compute nodes on this host map; no memory-node thread serves the
 * data path. Checks its ground before it starts: the file system must have room for the whole
 * region (a sparse file that outgrows its file system kills every process mapping it with
 * SIGBUS), and a region file left by a memory node that crashed (the caller holds the id lock, so
 * no live one owns it) is removed.
 */
public final class ShmCarrierServer implements CarrierServer {
    public static final String NAME = "shm";
    /** {@code shm.segment-shift}: log2 of the mapping size (tests use small ones). */
    public static final String SEGMENT_SHIFT = "shm.segment-shift";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ServedRegion open(ServeContext context) throws IOException {
        Path file = context.regionFile();
        RegionFiles.removeStale(file);
        RegionFiles.checkRoom(file.getParent(), context.regionBytes());
        int shift = context.options().getInt(SEGMENT_SHIFT, SharedRegionFile.DEFAULT_SEGMENT_SHIFT, 12, 30);
        SharedRegionFile regionFile = SharedRegionFile.create(file, context.regionBytes(), shift);
        String path = regionFile.path().toAbsolutePath().toString();
        return new ServedRegion() {
            @Override
            public OffHeapRegion region() {
                return regionFile.region();
            }

            @Override
            public DataEndpoint start(InetSocketAddress bound, String advertisedHost) {
                return new DataEndpoint(path, advertisedHost, bound.getPort(), List.of());
            }

            @Override
            public String readyDetail() {
                return "file=" + path;
            }

            @Override
            public void close() {
                regionFile.close();
            }
        };
    }
}
