package io.dmtree.mn.carrier.rdma;

import com.ibm.disni.RdmaPassiveEndpointGroup;
import com.ibm.disni.RdmaServerEndpoint;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvPd;
import com.ibm.disni.verbs.SVCRegMr;
import io.dmtree.core.wire.RdmaSegment;
import io.dmtree.mn.OffHeapRegion;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
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
 *
 * <h2>Fencing</h2>
 * The NIC executes a compute node's verbs with no memory-node thread to refuse them, so a fence
 * takes the queue pairs themselves away: {@link #disconnect} disconnects and destroys (DiSNI's
 * {@code close}: {@code rdma_disconnect}, which moves the queue pair to the error state, then
 * {@code ibv_destroy_qp}) every accepted queue pair whose peer is on the fenced compute node's
 * host, and returns once each is destroyed: a destroyed queue pair executes nothing more, so no
 * verb of the fenced incarnation can take effect after the return. The connection manager tells the
 * memory node the peer's address but not which compute node it is, so the fence is by host (from the
 * compute node's control connection, {@link io.dmtree.mn.carrier.ComputeNodeProcesses}): exact with
 * one compute node per host, the usual RDMA deployment; other compute nodes on that host lose their
 * queue pairs too and see their memory node as unreachable. This cannot run on a host without an
 * RDMA device; it is compiled and reviewed, not tested here.
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

    /**
     * Disconnects and destroys every accepted queue pair whose peer is on {@code host}; returns how
     * many (see the class comment). A queue pair that fails to close is reported by an exception
     * after the others were closed.
     */
    public int disconnect(InetAddress host) throws IOException, InterruptedException {
        int closed = 0;
        IOException first = null;
        for (QueuePairEndpoint e : accepted) {
            SocketAddress peer;
            try {
                peer = e.getDstAddr();
            } catch (IOException gone) {
                peer = null; // its connection manager id is gone: nothing to match it by
            }
            if (!(peer instanceof InetSocketAddress a) || !host.equals(a.getAddress())) {
                continue;
            }
            try {
                e.close();
                accepted.remove(e);
                closed++;
            } catch (IOException ex) {
                if (first == null) {
                    first = new IOException("cannot destroy the queue pair from " + peer + ": " + ex.getMessage(), ex);
                }
            }
        }
        if (first != null) {
            throw first;
        }
        return closed;
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
