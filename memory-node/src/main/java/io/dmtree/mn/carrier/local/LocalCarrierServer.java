package io.dmtree.mn.carrier.local;

import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.CarrierServer;
import io.dmtree.mn.carrier.DataEndpoint;
import io.dmtree.mn.carrier.ServeContext;
import io.dmtree.mn.carrier.ServedRegion;

import java.net.InetSocketAddress;

/**
 * The server half of the {@code local} carrier: the region is this process's off-heap memory and
 * only compute nodes in the same JVM reach it ({@link LocalVerbs}); a memory-node process with it
 * serves the control plane and no data path.
 */
public final class LocalCarrierServer implements CarrierServer {
    public static final String NAME = "local";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ServedRegion open(ServeContext context) {
        OffHeapRegion region = new OffHeapRegion(context.regionBytes());
        return new ServedRegion() {
            @Override
            public OffHeapRegion region() {
                return region;
            }

            @Override
            public DataEndpoint start(InetSocketAddress bound, String advertisedHost) {
                return DataEndpoint.at(advertisedHost, bound.getPort());
            }

            @Override
            public void close() {
                region.close();
            }
        };
    }
}
