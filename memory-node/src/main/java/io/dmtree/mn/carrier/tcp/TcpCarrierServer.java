package io.dmtree.mn.carrier.tcp;

import io.dmtree.mn.carrier.CarrierServer;
import io.dmtree.mn.carrier.OffHeapServedRegion;
import io.dmtree.mn.carrier.ServeContext;
import io.dmtree.mn.carrier.ServedRegion;

import java.util.List;

/**
 * The server half of the {@code tcp} carrier: the region is off-heap memory, and the memory node's
 * front door offers the verbs service ({@link VerbService}) beside the control plane, so the
 * data path shares the control address. A fence is the verb service's ({@link VerbService}: the
 * epoch of every verb frame is checked).
 */
public final class TcpCarrierServer implements CarrierServer {
    public static final String NAME = "tcp";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ServedRegion open(ServeContext context) throws java.io.IOException {
        VerbService[] verbs = new VerbService[1];
        return new OffHeapServedRegion(io.dmtree.mn.carrier.RegionBacking.open(context), region -> {
            verbs[0] = new VerbService(region, context.maxFrameBytes());
            return List.of(verbs[0]);
        }, (cn, epochUpTo) -> verbs[0].fence(cn, epochUpTo));
    }
}
