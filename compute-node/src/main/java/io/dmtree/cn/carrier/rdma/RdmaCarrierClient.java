package io.dmtree.cn.carrier.rdma;

import io.dmtree.cn.carrier.CarrierClient;
import io.dmtree.cn.carrier.CarrierLink;
import io.dmtree.cn.carrier.ConnectContext;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.mn.carrier.rdma.RdmaSupport;

/**
 * The client half of the {@code rdma} carrier: reliable-connected queue pairs to every memory
 * node's registered region ({@link RdmaVerbs}) and SEND/RECV messaging between compute nodes
 * ({@link RdmaMessaging}). Refuses at once, saying what is missing, on a host without libdisni or
 * an RDMA device.
 */
public final class RdmaCarrierClient implements CarrierClient {
    @Override
    public String name() {
        return "rdma";
    }

    @Override
    public String unavailableReason() {
        return RdmaSupport.missing();
    }

    @Override
    public CarrierLink connect(ConnectContext c) {
        String missing = RdmaSupport.missing();
        if (missing != null) {
            throw new IllegalStateException(missing);
        }
        RdmaVerbs verbs = RdmaVerbs.connect(c.regions(), c.timeoutMillis());
        RdmaMessaging messaging;
        try {
            messaging = RdmaMessaging.start(c.computeNode(), c.messagingListen(), c.directory(), c.timeoutMillis());
        } catch (RuntimeException e) {
            verbs.close();
            throw e;
        }
        return new CarrierLink() {
            @Override
            public RdmaVerbs verbs() {
                return verbs;
            }

            @Override
            public CnMessaging messaging() {
                return messaging;
            }

            @Override
            public String endpoint() {
                return messaging.endpoint();
            }

            @Override
            public void memoryNodeLost(int mn, String reason) {
                verbs.memoryNodeLost(mn, reason);
            }

            @Override
            public void close() {
                messaging.close();
                verbs.close();
            }
        };
    }
}
