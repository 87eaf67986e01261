package io.dmtree.mn.carrier.tcp;

import io.dmtree.core.wire.FrameService;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.CarrierServer;
import io.dmtree.mn.carrier.DataEndpoint;
import io.dmtree.mn.carrier.ServeContext;
import io.dmtree.mn.carrier.ServedRegion;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * The server half of the {@code tcp} carrier: the region is off-heap memory, and the memory node's
 * front door offers the verbs service ({@link VerbService}) beside the control plane, so the
 * data path shares the control address.
 */
public final class TcpCarrierServer implements CarrierServer {
    public static final String NAME = "tcp";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ServedRegion open(ServeContext context) {
        OffHeapRegion region = new OffHeapRegion(context.regionBytes());
        VerbService verbs = new VerbService(region, context.maxFrameBytes());
        return new ServedRegion() {
            @Override
            public OffHeapRegion region() {
                return region;
            }

            @Override
            public List<FrameService> frameServices() {
                return List.of(verbs);
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
