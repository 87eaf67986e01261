package io.dmtree.cn.carrier.local;

import io.dmtree.cn.carrier.CarrierClient;
import io.dmtree.cn.carrier.CarrierLink;
import io.dmtree.cn.carrier.ConnectContext;

/**
 * The client half of the {@code local} carrier as seen from another process: there is none. A
 * memory node on the local carrier serves only compute nodes in its own JVM (the embedded cluster
 * gives them {@link io.dmtree.mn.carrier.local.LocalVerbs} directly); a compute node that finds one
 * is told which carriers to start memory nodes with instead.
 */
public final class LocalCarrierClient implements CarrierClient {
    @Override
    public String name() {
        return "local";
    }

    @Override
    public CarrierLink connect(ConnectContext context) {
        throw new IllegalStateException("memory node 0 runs the local transport, which serves only compute nodes in its own "
                + "JVM; start memory nodes with --transport shm (one host) or tcp");
    }
}
