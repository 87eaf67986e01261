package io.dmtree.mn.carrier.rdma;

import com.ibm.disni.RdmaPassiveEndpointGroup;
import com.ibm.disni.RdmaServerEndpoint;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvPd;
import com.ibm.disni.verbs.SVCRegMr;
import io.dmtree.core.wire.RdmaSegment;
import io.dmtree.mn.OffHeapRegion;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The memory-node side of the {@code rdma} carrier: registers the region with the RDMA device for
 * remote read, write and atomic access, and accepts reliable-connected queue pairs from compute
 * nodes. After that it does nothing: READ, WRITE, CAS and FAA are executed by the NIC, with no
 * memory-node thread on the data path. A registration covers at most 1 GiB (DiSNI takes an
 * {@code int} length), so the region is registered in pieces; compute nodes learn every piece's
 * address and rkey from the control plane ({@link RdmaSegment}).
 *
 * <p>Start only after {@link RdmaSupport#missing()} returned null.
 */
public final class RdmaRegionServer implements AutoCloseable {
    /** Largest piece registered at once. */
    public static final long MAX_REGISTRATION = 1L << 30;
    private static final int ACCESS = IbvMr.IBV_ACCESS_LOCAL_WRITE | IbvMr.IBV_ACCESS_REMOTE_WRITE
            | IbvMr.IBV_ACCESS_REMOTE_READ | IbvMr.IBV_ACCESS_REMOTE_ATOMIC;

    private final RdmaPassiveEndpointGroup<QueuePairEndpoint> group;
    private final RdmaServerEndpoint<QueuePairEndpoint> server;
    private final List<IbvMr> registrations;
    private final List<RdmaSegment> segments;
    private final List<QueuePairEndpoint> accepted = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private volatile boolean closed;

    private RdmaRegionServer(RdmaPassiveEndpointGroup<QueuePairEndpoint> group, RdmaServerEndpoint<QueuePairEndpoint> server,
                             List<IbvMr> registrations, List<RdmaSegment> segments) {
        this.group = group;
        this.server = server;
        this.registrations = registrations;
        this.segments = List.copyOf(segments);
        this.acceptor = new Thread(this::acceptLoop, "dmtree-rdma-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static RdmaRegionServer start(OffHeapRegion region, InetSocketAddress listen) throws IOException {
        RdmaPassiveEndpointGroup<QueuePairEndpoint> group = null;
        try {
            group = new RdmaPassiveEndpointGroup<>(1000, 64, 4, 256);
            RdmaPassiveEndpointGroup<QueuePairEndpoint> g = group;
            group.init((id, serverSide) -> new QueuePairEndpoint(g, id, serverSide));
            RdmaServerEndpoint<QueuePairEndpoint> server = group.createServerEndpoint();
            server.bind(listen, 64);
            IbvPd pd = server.getPd();
            List<IbvMr> mrs = new ArrayList<>();
            List<RdmaSegment> segments = new ArrayList<>();
            long offset = 0;
            for (int s = 0; s < region.segmentCount(); s++) {
                long base = region.segmentAddress(s);
                long bytes = region.segmentBytes(s);
                for (long done = 0; done < bytes; done += MAX_REGISTRATION) {
                    int len = (int) Math.min(MAX_REGISTRATION, bytes - done);
                    SVCRegMr call = pd.regMr(base + done, len, ACCESS);
                    IbvMr mr = call.execute().getMr();
                    call.free();
                    mrs.add(mr);
                    segments.add(new RdmaSegment(offset + done, base + done, len, mr.getRkey()));
                }
                offset += bytes;
            }
            return new RdmaRegionServer(group, server, mrs, segments);
        } catch (Exception e) {
            if (group != null) {
                try {
                    group.close();
                } catch (Exception ignored) {
                    // reporting the first failure
                }
            }
            throw new IOException("cannot register the region for RDMA on " + listen + ": " + e.getMessage(), e);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                accepted.add(server.accept());
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("dmtree: an RDMA connection attempt failed: " + e.getMessage());
                }
            }
        }
    }

    public List<RdmaSegment> segments() {
        return segments;
    }

    @Override
    public void close() {
        closed = true;
        for (QueuePairEndpoint e : accepted) {
            try {
                e.close();
            } catch (Exception ignored) {
                // closing anyway
            }
        }
        for (IbvMr mr : registrations) {
            try {
                mr.deregMr().execute().free();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        try {
            server.close();
            group.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }
}
