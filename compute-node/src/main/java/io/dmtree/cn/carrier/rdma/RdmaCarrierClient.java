package io.dmtree.cn.carrier.rdma;

import io.dmtree.cn.carrier.CarrierClient;
import io.dmtree.cn.carrier.CarrierLink;
import io.dmtree.cn.carrier.ConnectContext;
import io.dmtree.mn.carrier.rdma.RdmaSupport;

import java.util.ArrayList;
import java.util.List;

/**
 * The client half of the {@code rdma} carrier: reliable-connected queue pairs to every memory
 * node's registered region ({@link RdmaVerbs}) and SEND/RECV messaging between compute nodes
 * ({@link RdmaMessaging}); the queue pairs reach only this member's memory windows, with a spare
 * per lane. Refuses at once, saying what is missing, on a host without libdisni or
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
        List<String> hosts = new ArrayList<>();
        for (int mn = 0; mn < c.regions().size(); mn++) {
            hosts.add(c.dataHost(mn));
        }
        RdmaVerbs verbs = RdmaVerbs.connect(c.regions(), hosts, new RdmaVerbs.Attachment(c.computeNode(), c.epoch(),
                c.controlAddresses(), c.secret()), c.timeoutMillis());
        return CarrierLink.open(verbs, () -> RdmaMessaging.start(c.computeNode(), c.messagingListen(), c.messagingAdvertise(),
                c.directory(), c.timeoutMillis()), RdmaMessaging::endpoint, verbs::memoryNodeLost);
    }
}
