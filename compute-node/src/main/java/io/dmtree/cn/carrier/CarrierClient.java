package io.dmtree.cn.carrier;

import io.dmtree.core.carrier.NamedCarrier;

/**
 * The compute-node half of a carrier: given the memory nodes' region descriptions, it connects a
 * compute node's verbs and its CN-to-CN messaging endpoint ({@link CarrierLink}). The cluster
 * client picks the half named by memory node 0's description through
 * {@link io.dmtree.core.carrier.CarrierRegistry}; each half lives in a package of its own beside
 * this one and is listed in {@code META-INF/services}.
 */
public interface CarrierClient extends NamedCarrier {
    /**
     * Connects compute node {@code context.computeNode()} to every memory node; a failure is a
     * {@link io.dmtree.core.memory.RemoteAccessException} or {@link IllegalStateException} naming the
     * memory node or endpoint and what to do, and leaves nothing open.
     */
    CarrierLink connect(ConnectContext context);
}
