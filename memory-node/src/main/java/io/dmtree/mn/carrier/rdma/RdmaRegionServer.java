package io.dmtree.mn.carrier.rdma;

import com.ibm.disni.RdmaServerEndpoint;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvPd;
import com.ibm.disni.verbs.SVCRegMr;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.wire.RdmaWindow;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.FencedEpochs;
import io.dmtree.mn.carrier.MemberRights;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The memory-node side of the {@code rdma} carrier: accepts reliable-connected queue pairs from
 * compute nodes, each in a protection domain of its own ({@link OwnDomainGroup}), and gives each
 * member's queue pairs memory windows for exactly its rights ({@link MemberWindows}) when the
 * member attaches them ({@link #attach}, over the authenticated {@link RdmaAttachService}). After
 * that it does nothing: READ, WRITE, CAS and FAA are executed by the NIC, with no memory-node
 * thread on the data path, and a verb outside the member's windows is refused by the NIC
 * (a remote access error, which takes that queue pair to the error state; the compute node's spare
 * takes over).
 *
 * <h2>Invariants</h2>
 * <ul>
 *   <li>A queue pair reaches memory only through windows registered in its own protection domain,
 *   and only {@link #attach} registers them: for the incarnation the attaching connection
 *   authenticated as, on queue pairs whose connection-manager peer address that member named and
 *   whose host is the host of the attaching connection, not attached before.</li>
 *   <li>{@link #revoke} (a fence: revocation or an ended lease) first raises the slot's fenced
 *   epoch, so no later attach of that incarnation succeeds, then deregisters every window of the
 *   slot's fenced incarnations (their rkeys are invalid from then on) and destroys their queue
 *   pairs, and returns only after; attach and revoke exclude each other (one monitor), so no
 *   window of a fenced incarnation outlives the return.</li>
 * </ul>
 * Start only after {@link RdmaSupport#missing()} returned null. This cannot run on a host without
 * an RDMA device: it is compiled, and its window plan, access flags and attach frames are tested.
 */
public final class RdmaRegionServer implements AutoCloseable {
    private final OffHeapRegion region;
    private final OwnDomainGroup group;
    private final RdmaServerEndpoint<QueuePairEndpoint> server;
    private final List<QueuePairEndpoint> accepted = new CopyOnWriteArrayList<>();
    private final FencedEpochs fenced = new FencedEpochs();
    /** Attached queue pairs by compute node. Guarded by {@code this}. */
    private final Map<Integer, List<Attached>> members = new HashMap<>();
    private final Thread acceptor;
    private volatile boolean closed;

    /** One attached queue pair with its windows' registrations. */
    private record Attached(long epoch, QueuePairEndpoint endpoint, List<IbvMr> windows) {
    }

    /** The incarnation is fenced here: nothing of it is attached. */
    public static final class FencedAttach extends IOException {
        private static final long serialVersionUID = 1L;

        FencedAttach(String message) {
            super(message);
        }
    }

    private RdmaRegionServer(OffHeapRegion region, OwnDomainGroup group, RdmaServerEndpoint<QueuePairEndpoint> server) {
        this.region = region;
        this.group = group;
        this.server = server;
        this.acceptor = new Thread(this::acceptLoop, "dmtree-rdma-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static RdmaRegionServer start(OffHeapRegion region, InetSocketAddress listen) throws IOException {
        OwnDomainGroup group = null;
        try {
            group = new OwnDomainGroup(1000, 64, 4, 256);
            OwnDomainGroup g = group;
            group.init((id, serverSide) -> new QueuePairEndpoint(g, id, serverSide));
            RdmaServerEndpoint<QueuePairEndpoint> server = group.createServerEndpoint();
            server.bind(listen, 64);
            return new RdmaRegionServer(region, group, server);
        } catch (Exception e) {
            if (group != null) {
                try {
                    group.close();
                } catch (Exception ignored) {
                    // reporting the first failure
                }
            }
            throw new IOException("cannot listen for RDMA queue pairs on " + listen + ": " + e.getMessage(), e);
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
     * Registers compute node {@code cn}'s windows (incarnation {@code epoch}) on each queue pair
     * named by its connection-manager address in {@code queuePairs}, accepted from {@code host};
     * returns, per queue pair in order, its windows. Refuses a fenced incarnation
     * ({@link FencedAttach}), a queue pair not found, from another host, or already attached.
     */
    public synchronized List<List<RdmaWindow>> attach(int cn, long epoch, InetAddress host, List<InetSocketAddress> queuePairs)
            throws IOException {
        if (closed) {
            throw new IOException("the rdma endpoint is closing");
        }
        if (fenced.isFenced(cn, epoch)) {
            throw new FencedAttach("compute node " + cn + " epoch " + epoch + " is fenced on this memory node (epochs up to "
                    + fenced.upTo(cn) + "): no memory window is registered for it");
        }
        List<QueuePairEndpoint> endpoints = new ArrayList<>();
        for (InetSocketAddress qp : queuePairs) {
            if (!host.equals(qp.getAddress())) {
                throw new IOException("queue pair " + qp + " is not on the attaching host " + host.getHostAddress());
            }
            QueuePairEndpoint e = acceptedFrom(qp);
            if (e == null) {
                throw new IOException("no queue pair from " + qp + " was accepted here");
            }
            if (attachedAnywhere(e) || endpoints.contains(e)) {
                throw new IOException("the queue pair from " + qp + " is attached already");
            }
            endpoints.add(e);
        }
        MemberRights rights = MemberRights.of(region, cn);
        boolean ready = region.getLongVolatile(RegionLayout.INDEX_STATE_OFFSET) == RegionLayout.INDEX_READY;
        List<MemberWindows.Planned> plan = MemberWindows.plan(rights, region, ready);
        List<List<RdmaWindow>> out = new ArrayList<>();
        List<Attached> mine = members.computeIfAbsent(cn, k -> new ArrayList<>());
        for (QueuePairEndpoint e : endpoints) {
            IbvPd pd = e.protectionDomain();
            List<IbvMr> mrs = new ArrayList<>();
            List<RdmaWindow> windows = new ArrayList<>();
            try {
                for (MemberWindows.Planned p : plan) {
                    SVCRegMr call = pd.regMr(p.address(), p.length(), RdmaAccess.of(p.rights()));
                    IbvMr mr = call.execute().getMr();
                    call.free();
                    mrs.add(mr);
                    windows.add(new RdmaWindow(p.regionOffset(), p.address(), p.length(), mr.getRkey(), p.rights()));
                }
            } catch (IOException | RuntimeException ex) {
                deregister(mrs);
                throw new IOException("cannot register compute node " + cn + "'s windows: " + ex.getMessage(), ex);
            }
            mine.add(new Attached(epoch, e, mrs));
            out.add(windows);
        }
        return out;
    }

    private QueuePairEndpoint acceptedFrom(InetSocketAddress qp) {
        for (QueuePairEndpoint e : accepted) {
            SocketAddress peer;
            try {
                peer = e.getDstAddr();
            } catch (IOException gone) {
                continue; // its connection manager id is gone
            }
            if (qp.equals(peer)) {
                return e;
            }
        }
        return null;
    }

    private boolean attachedAnywhere(QueuePairEndpoint e) {
        for (List<Attached> l : members.values()) {
            for (Attached a : l) {
                if (a.endpoint == e) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Fences compute node {@code cn}'s incarnations up to {@code epochUpTo}: deregisters their
     * windows and destroys their queue pairs (see the class comment); returns how many queue pairs.
     * A failure to destroy one is reported after the others were handled.
     */
    public synchronized int revoke(int cn, long epochUpTo) throws IOException {
        fenced.fence(cn, epochUpTo);
        List<Attached> mine = members.getOrDefault(cn, List.of());
        List<Attached> kept = new ArrayList<>();
        int destroyed = 0;
        IOException first = null;
        for (Attached a : mine) {
            if (a.epoch > epochUpTo && a.epoch != 0) {
                kept.add(a);
                continue;
            }
            first = keep(first, deregister(a.windows));
            try {
                a.endpoint.close(); // rdma_disconnect (the queue pair to the error state), then ibv_destroy_qp
                a.endpoint.protectionDomain().deallocPd();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                first = keep(first, new IOException("interrupted destroying compute node " + cn + "'s queue pair", ex));
            } catch (Exception ex) {
                first = keep(first, new IOException("cannot destroy compute node " + cn + "'s queue pair: " + ex.getMessage(), ex));
            }
            accepted.remove(a.endpoint);
            destroyed++;
        }
        members.put(cn, kept);
        if (first != null) {
            throw first;
        }
        return destroyed;
    }

    private static IOException keep(IOException first, IOException next) {
        return first != null ? first : next;
    }

    private static IOException deregister(List<IbvMr> mrs) {
        IOException first = null;
        for (IbvMr mr : mrs) {
            try {
                mr.deregMr().execute().free();
            } catch (IOException e) {
                first = first != null ? first : new IOException("cannot deregister a window: " + e.getMessage(), e);
            }
        }
        return first;
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (List<Attached> l : members.values()) {
            for (Attached a : l) {
                deregister(a.windows);
            }
        }
        members.clear();
        for (QueuePairEndpoint e : accepted) {
            try {
                e.close();
            } catch (Exception ignored) {
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
