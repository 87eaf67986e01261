package io.dmtree.mn.carrier.local;

import io.dmtree.mn.carrier.CarrierServer;
import io.dmtree.mn.carrier.OffHeapServedRegion;
import io.dmtree.mn.carrier.ServeContext;
import io.dmtree.mn.carrier.ServedRegion;

import java.util.List;

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
        return new OffHeapServedRegion(context.regionBytes(), region -> List.of());
    }
}
