package io.dmtree.cn.carrier.tcp;

import io.dmtree.cn.carrier.CarrierClient;
import io.dmtree.cn.carrier.CarrierLink;
import io.dmtree.cn.carrier.ConnectContext;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.wire.HelloFrame;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The client half of the {@code tcp} carrier: pipelined verb connections to every memory node's
 * verbs service ({@link TcpVerbs}) and a messaging endpoint of this compute node's own
 * ({@link TcpMessaging}). Options: {@code tcp.connections} per memory node, {@code tcp.outstanding}
 * requests in flight per connection, {@code tcp.spin} busy-wait rounds of a waiting caller before
 * it parks (see {@link TcpVerbsConfig}). With the cluster secret of {@link ConnectContext#secret()}
 * every verb and messaging connection proves it and checks the peer's.
 */
public final class TcpCarrierClient implements CarrierClient {
    public static final String CONNECTIONS = "tcp.connections";
    public static final String OUTSTANDING = "tcp.outstanding";
    public static final String SPIN = "tcp.spin";

    @Override
    public String name() {
        return "tcp";
    }

    /** The tcp client settings {@code options} ask for, over the defaults. */
    public static TcpVerbsConfig config(CarrierOptions options, int timeoutMillis) {
        TcpVerbsConfig d = TcpVerbsConfig.defaults();
        return new TcpVerbsConfig(options.getInt(CONNECTIONS, d.connectionsPerNode(), 1, 64),
                options.getInt(OUTSTANDING, d.maxOutstanding(), 1, 65536), d.maxFrameBytes(), timeoutMillis,
                options.getInt(SPIN, d.spins(), 0, TcpVerbsConfig.MAX_SPINS));
    }

    @Override
    public CarrierLink connect(ConnectContext c) {
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int i = 0; i < c.regions().size(); i++) {
            addresses.add(new InetSocketAddress(c.dataHost(i), c.regions().get(i).port()));
        }
        TcpVerbs verbs = c.epoch() == 0
                ? TcpVerbs.connect(addresses, config(c.options(), c.timeoutMillis()), HelloFrame.NO_COMPUTE_NODE, 0, c.secret())
                : TcpVerbs.connect(addresses, config(c.options(), c.timeoutMillis()), c.computeNode(), c.epoch(), c.secret());
        return CarrierLink.open(verbs, () -> TcpMessaging.start(c.computeNode(), c.messagingListen(),
                c.messagingAdvertise(), c.directory(), c.timeoutMillis(), c.secret()), TcpMessaging::endpoint,
                verbs::memoryNodeLost);
    }
}
