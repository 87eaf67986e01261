package io.dmtree.mn.carrier;

import io.dmtree.core.carrier.NamedCarrier;

import java.io.IOException;

/**
 * The memory-node half of a carrier: how a memory node's region is backed and served. The
 * memory node asks the half for its region ({@link #open}), adds the half's frame services to its
 * front door, binds it, then {@linkplain ServedRegion#start starts} the data path and puts the
 * endpoint the half returns into its region description. Halves are found by name through
 * {@link io.dmtree.core.carrier.CarrierRegistry}; each lives in a package of its own beside this
 * one and is listed in {@code META-INF/services}.
 */
public interface CarrierServer extends NamedCarrier {
    /** Makes the region for the memory node {@code context} describes; nothing is served yet. */
    ServedRegion open(ServeContext context) throws IOException;
}
