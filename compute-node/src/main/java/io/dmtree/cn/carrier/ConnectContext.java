package io.dmtree.cn.carrier;

import io.dmtree.cn.messaging.PeerDirectory;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.RegionDescription;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * What a carrier's client half needs to connect one compute node.
 *
 * @param computeNode      this compute node's id
 * @param epoch            this incarnation's epoch from the cluster's membership, or 0 in a cluster
 *                         without one; carriers that fence present it to the memory nodes
 * @param regions          every memory node's region description, by id
 * @param controlAddresses the control address this compute node reached each memory node at, by id
 * @param directory        where other compute nodes' messaging endpoints are looked up
 * @param messagingListen  where this compute node's messaging endpoint binds (port 0: any)
 * @param messagingAdvertise the host other compute nodes reach that endpoint by
 * @param timeoutMillis    connections, verbs and messages give up after this
 * @param options          carrier-specific options, read by the half itself
 * @param secret           the cluster secret connections prove ({@link ClusterSecret}), or null: a cluster
 *                         without one
 */
public record ConnectContext(int computeNode, long epoch, List<RegionDescription> regions, List<InetSocketAddress> controlAddresses,
                             PeerDirectory directory, InetSocketAddress messagingListen, String messagingAdvertise,
                             int timeoutMillis, CarrierOptions options, ClusterSecret secret) {
    /** A context without a cluster secret. */
    public ConnectContext(int computeNode, long epoch, List<RegionDescription> regions, List<InetSocketAddress> controlAddresses,
                          PeerDirectory directory, InetSocketAddress messagingListen, String messagingAdvertise,
                          int timeoutMillis, CarrierOptions options) {
        this(computeNode, epoch, regions, controlAddresses, directory, messagingListen, messagingAdvertise, timeoutMillis,
                options, null);
    }

    public ConnectContext {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch " + epoch + " is negative");
        }
        regions = List.copyOf(regions);
        controlAddresses = List.copyOf(controlAddresses);
        if (regions.size() != controlAddresses.size()) {
            throw new IllegalArgumentException("one control address per region description");
        }
    }

    /**
     * The host at which memory node {@code mn}'s data endpoint is reached: the host its description
     * names, or, when it names none or a wildcard (the memory node listens on every interface),
     * the host this compute node reached its control plane at.
     */
    public String dataHost(int mn) {
        String host = regions.get(mn).host();
        if (host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0")) {
            return controlAddresses.get(mn).getHostString();
        }
        return host;
    }
}
