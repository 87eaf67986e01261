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
 *
 * <p>Its fence is a no-op, and a correct one: no compute node outside this JVM has a data path to
 * the region, so no verb of a remote incarnation can take effect here; compute nodes inside the
 * JVM (the embedded cluster) share the process with the region and are fenced on their own side
 * (they stop issuing verbs once their lease lapsed), which is all a shared address space allows.
 */
public final class LocalCarrierServer implements CarrierServer {
    public static final String NAME = "local";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ServedRegion open(ServeContext context) throws java.io.IOException {
        return new OffHeapServedRegion(io.dmtree.mn.carrier.RegionBacking.open(context), region -> List.of(), (cn, epochUpTo) -> {
            // nothing to stop: see the class comment
        });
    }
}
