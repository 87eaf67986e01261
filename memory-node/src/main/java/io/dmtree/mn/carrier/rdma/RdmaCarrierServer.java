package io.dmtree.mn.carrier.rdma;

import io.dmtree.core.wire.HostPort;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.CarrierServer;
import io.dmtree.mn.carrier.DataEndpoint;
import io.dmtree.mn.carrier.RegionBacking;
import io.dmtree.mn.carrier.ServeContext;
import io.dmtree.mn.carrier.ServedRegion;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The server half of the {@code rdma} carrier: the region is off-heap memory registered with the
 * RDMA device ({@link RdmaRegionServer}), which accepts queue pairs on {@code rdma.listen}
 * (default: the front door's host, its port + 1). A durable region ({@link RegionBacking}) is its
 * file's mapping, registered like any memory. Refuses to start, saying what is missing, on a
 * host without libdisni or an RDMA device ({@link RdmaSupport}). Each compute node attaches its
 * queue pairs over the authenticated {@link RdmaAttachService} and gets memory windows for its own
 * rights only; a fence (revocation, an ended lease) deregisters the fenced incarnation's windows
 * and destroys its queue pairs ({@link RdmaRegionServer#revoke}), exactly that member's and no
 * other's.
 */
public final class RdmaCarrierServer implements CarrierServer {
    public static final String NAME = "rdma";
    /** {@code rdma.listen}: where queue pairs are accepted, HOST:PORT. */
    public static final String LISTEN = "rdma.listen";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String unavailableReason() {
        return RdmaSupport.missing();
    }

    @Override
    public ServedRegion open(ServeContext context) throws IOException {
        String listen = context.options().get(LISTEN, null);
        InetSocketAddress fixed = listen == null ? null : HostPort.parse("--rdma-listen", listen);
        RegionBacking backing = RegionBacking.open(context); // a durable region's file mapping registers as memory does
        OffHeapRegion region = backing.region();
        return new ServedRegion() {
            private volatile RdmaRegionServer server;
            private final io.dmtree.mn.carrier.FencedEpochs pendingFences = new io.dmtree.mn.carrier.FencedEpochs();
            private InetSocketAddress at;

            @Override
            public OffHeapRegion region() {
                return region;
            }

            @Override
            public io.dmtree.mn.RegionDurability durability() {
                return backing.durability();
            }

            @Override
            public boolean restores() {
                return backing.restores();
            }

            @Override
            public DataEndpoint start(InetSocketAddress bound, String advertisedHost) throws IOException {
                at = fixed != null ? fixed : new InetSocketAddress(bound.getHostString(), bound.getPort() + 1);
                RdmaRegionServer s = RdmaRegionServer.start(region, at);
                synchronized (pendingFences) { // fences from the book (before serving), none lost to a concurrent one
                    for (int cn = 0; cn < io.dmtree.mn.carrier.FencedEpochs.SLOTS; cn++) {
                        long upTo = pendingFences.upTo(cn);
                        if (upTo > 0) {
                            s.revoke(cn, upTo);
                        }
                    }
                    server = s;
                }
                String host = fixed != null ? fixed.getHostString() : advertisedHost;
                return new DataEndpoint("", host, at.getPort(), java.util.List.of()); // windows are per member, given at attach
            }

            @Override
            public java.util.List<io.dmtree.core.wire.FrameService> frameServices() {
                return java.util.List.of(new RdmaAttachService(() -> server));
            }

            @Override
            public String readyDetail() {
                String data = backing.file() == null ? "" : "data=" + backing.file().path().toAbsolutePath();
                return at == null ? data : ("rdma=" + HostPort.format(at) + (data.isEmpty() ? "" : " " + data));
            }

            @Override
            public void fence(int computeNode, long epochUpTo) throws IOException {
                RdmaRegionServer s;
                synchronized (pendingFences) {
                    s = server;
                    if (s == null) {
                        pendingFences.fence(computeNode, epochUpTo); // applied when the endpoint starts
                        return;
                    }
                }
                s.revoke(computeNode, epochUpTo);
            }

            @Override
            public void close() {
                if (server != null) {
                    server.close();
                }
                backing.close();
            }
        };
    }
}
