package io.dmtree.cn.carrier.rdma;

import com.ibm.disni.RdmaPassiveEndpointGroup;
import com.ibm.disni.verbs.IbvSendWR;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbKind;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.wire.RegionDescription;
import io.dmtree.mn.carrier.rdma.QueuePairEndpoint;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The {@code rdma} carrier: one-sided READ, WRITE, CAS and FAA executed by the RDMA NICs on
 * memory-node regions, through DiSNI. Each memory node gets {@code LANES} RC queue pairs; a thread
 * always uses the same lane, locked while it posts and polls. READ and WRITE go through DiSNI's
 * post-send calls with a registered staging buffer (data is copied between it and the caller's
 * buffer); CAS and FAA are completed with {@link AtomicFieldsEncoder} because DiSNI 2.1 does not
 * write the atomic member. A batch to one memory node is one chain of work requests, the last one
 * signalled; requests after a READ or an atomic carry the fence flag so that none overtakes an
 * earlier one, which keeps batch order. Addresses are checked against the region before anything
 * is posted (a bad remote access would break the queue pair), and against this member's memory
 * windows ({@link MemberWindowTable}): a verb outside its rights fails with an
 * {@link io.dmtree.core.memory.AccessDeniedException} without posting anything.
 *
 * <h2>Windows and spare queue pairs</h2>
 * Each lane is a {@link SpareLane}: an active queue pair and a spare, both connected and attached
 * (over the memory node's authenticated attach service, {@link RdmaAttachClient}) before the
 * first verb; the memory node registers this member's windows in each one's own protection
 * domain, so their rkeys work on no other queue pair. An error completion (the memory node's NIC
 * refused a request, or the connection broke) takes the queue pair to the error state; the verb
 * fails and the spare takes over for the next verb while a new spare is connected and attached in
 * the background. A revoked member's windows and queue pairs are destroyed by the memory node; its
 * attach of a new spare is then refused and the lane reports it fenced.
 *
 * <p>Not runnable without libdisni and an RDMA device; {@code RdmaSupport} says what is missing
 * before this class is used.
 */
public final class RdmaVerbs implements Verbs {
    static final int LANES = 4;
    static final int STAGING_BYTES = 1 << 20;
    private static final ByteOrder HOST = ByteOrder.nativeOrder();

    private final RdmaPassiveEndpointGroup<QueuePairEndpoint> group;
    private final List<RegionDescription> regions;
    private final SpareLane<QueuePair>[][] lanes;
    private final ReentrantLock[][] locks;
    private final String[] lost;
    private final java.util.concurrent.ExecutorService replenisher;

    private RdmaVerbs(RdmaPassiveEndpointGroup<QueuePairEndpoint> group, List<RegionDescription> regions,
                      SpareLane<QueuePair>[][] lanes, java.util.concurrent.ExecutorService replenisher) {
        this.group = group;
        this.regions = List.copyOf(regions);
        this.lanes = lanes;
        this.replenisher = replenisher;
        this.locks = new ReentrantLock[lanes.length][LANES];
        this.lost = new String[lanes.length];
        for (int i = 0; i < lanes.length; i++) {
            for (int l = 0; l < LANES; l++) {
                locks[i][l] = new ReentrantLock();
            }
        }
    }

    /** Where and as whom queue pairs are connected and attached. */
    record Attachment(int computeNode, long epoch, List<InetSocketAddress> controlAddresses,
                      io.dmtree.core.wire.ClusterSecret secret) {
    }

    /**
     * Connects {@code 2 * LANES} queue pairs (active and spare per lane) to every memory node's
     * rdma endpoint and attaches them ({@link RdmaAttachClient}); {@code hosts} gives, by memory
     * node, the host its RDMA endpoint is reached at (the description's, or for a wildcard the host
     * the control plane was reached at).
     */
    @SuppressWarnings("unchecked")
    public static RdmaVerbs connect(List<RegionDescription> regions, List<String> hosts, Attachment as, int timeoutMillis) {
        RdmaPassiveEndpointGroup<QueuePairEndpoint> group = null;
        SpareLane<QueuePair>[][] lanes = new SpareLane[regions.size()][LANES];
        java.util.concurrent.ExecutorService replenisher = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dmtree-rdma-spares");
            t.setDaemon(true);
            return t;
        });
        List<QueuePair> opened = new ArrayList<>();
        try {
            group = new RdmaPassiveEndpointGroup<>(timeoutMillis, 64, 4, 128);
            RdmaPassiveEndpointGroup<QueuePairEndpoint> g = group;
            group.init((id, serverSide) -> new QueuePairEndpoint(g, id, serverSide));
            for (int mn = 0; mn < regions.size(); mn++) {
                int m = mn;
                List<QueuePair> qps = new ArrayList<>();
                for (int i = 0; i < 2 * LANES; i++) {
                    QueuePair q = open(g, regions.get(mn), hosts.get(mn), mn, timeoutMillis);
                    opened.add(q);
                    qps.add(q);
                }
                attach(mn, qps, as, timeoutMillis);
                for (int l = 0; l < LANES; l++) {
                    lanes[mn][l] = new SpareLane<>(qps.get(2 * l), qps.get(2 * l + 1), () -> {
                        QueuePair q = open(g, regions.get(m), hosts.get(m), m, timeoutMillis);
                        try {
                            attach(m, List.of(q), as, timeoutMillis);
                            return q;
                        } catch (RuntimeException e) {
                            q.close();
                            throw e;
                        }
                    }, replenisher);
                }
            }
            return new RdmaVerbs(group, regions, lanes, replenisher);
        } catch (Exception e) {
            for (QueuePair q : opened) {
                q.close();
            }
            replenisher.shutdownNow();
            if (group != null) {
                try {
                    group.close();
                } catch (Exception ignored) {
                    // reporting the first failure
                }
            }
            if (e instanceof io.dmtree.core.memory.FencedException f) {
                throw f;
            }
            throw new RemoteAccessException("cannot connect RDMA queue pairs to the memory nodes: " + e.getMessage(), e);
        }
    }

    private static QueuePair open(RdmaPassiveEndpointGroup<QueuePairEndpoint> group, RegionDescription d, String host, int mn,
                                  int timeoutMillis) throws Exception {
        QueuePairEndpoint ep = group.createEndpoint();
        ep.connect(new InetSocketAddress(host, d.port()), timeoutMillis);
        return new QueuePair("memory node " + mn + " at " + host + ":" + d.port(), ep, STAGING_BYTES, timeoutMillis);
    }

    private static void attach(int mn, List<QueuePair> qps, Attachment as, int timeoutMillis) throws IOException {
        List<InetSocketAddress> sources = new ArrayList<>();
        for (QueuePair q : qps) {
            sources.add(q.source());
        }
        List<List<io.dmtree.core.wire.RdmaWindow>> windows = RdmaAttachClient.attach(mn, as.controlAddresses().get(mn),
                as.secret(), as.computeNode(), as.epoch(), sources, timeoutMillis);
        for (int i = 0; i < qps.size(); i++) {
            qps.get(i).attached(new MemberWindowTable(mn, windows.get(i)));
        }
    }

    /** Verbs to memory node {@code mn} fail from now on, saying why. */
    public void memoryNodeLost(int mn, String reason) {
        synchronized (lost) {
            lost[mn] = reason;
        }
    }

    private final ThreadLocal<VerbBatch> single = ThreadLocal.withInitial(VerbBatch::new);

    @Override
    public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        VerbBatch b = single.get();
        b.clear();
        post(b.read(address, dst, dstOffset, length));
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        VerbBatch b = single.get();
        b.clear();
        post(b.write(address, src, srcOffset, length));
    }

    @Override
    public long cas(long address, long expected, long desired) {
        VerbBatch b = single.get();
        b.clear();
        post(b.cas(address, expected, desired));
        return b.result(0);
    }

    @Override
    public long faa(long address, long delta) {
        VerbBatch b = single.get();
        b.clear();
        post(b.faa(address, delta));
        return b.result(0);
    }

    @Override
    public void post(VerbBatch batch) {
        int n = batch.size();
        for (int i = 0; i < n; i++) {
            check(batch, i);
        }
        int lane = (int) (Thread.currentThread().getId() % LANES);
        for (int mn = 0; mn < lanes.length; mn++) {
            if (touches(batch, mn)) {
                ReentrantLock lock = locks[mn][lane];
                lock.lock();
                try {
                    postOnLane(lanes[mn][lane], batch, mn);
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** Posts on the lane's active queue pair; a failure that broke it hands the lane to its spare. */
    private void postOnLane(SpareLane<QueuePair> lane, VerbBatch batch, int mn) {
        QueuePair qp;
        try {
            qp = lane.active();
        } catch (io.dmtree.core.memory.FencedException | RemoteAccessException e) {
            throw e;
        } catch (Exception e) {
            throw new RemoteAccessException("no RDMA queue pair to memory node " + mn + ": " + e.getMessage()
                    + (lane.lastFailure() == null ? "" : " (" + lane.lastFailure() + ")"), e);
        }
        try {
            postTo(qp, batch, mn);
        } catch (RemoteAccessException e) {
            if (qp.broken() != null) {
                lane.failed(qp, qp.broken());
            }
            throw e;
        }
    }

    private static boolean touches(VerbBatch batch, int mn) {
        for (int i = 0; i < batch.size(); i++) {
            if (GlobalAddress.memoryNode(batch.address(i)) == mn) {
                return true;
            }
        }
        return false;
    }

    private void check(VerbBatch batch, int i) {
        long address = batch.address(i);
        int mn = GlobalAddress.memoryNode(address);
        if (mn >= lanes.length) {
            throw new RemoteAccessException("no memory node " + mn + " (address " + GlobalAddress.toString(address)
                    + "); this compute node knows " + lanes.length);
        }
        synchronized (lost) {
            if (lost[mn] != null) {
                throw new RemoteAccessException("memory node " + mn + " is gone: " + lost[mn]);
            }
        }
        long offset = GlobalAddress.offset(address);
        int length = batch.length(i);
        long size = regions.get(mn).regionBytes();
        if (offset > size - length) {
            throw new RemoteAccessException("access [" + offset + ", " + offset + "+" + length + ") outside the region of "
                    + size + " bytes of memory node " + mn);
        }
        if ((batch.kind(i) == VerbKind.CAS || batch.kind(i) == VerbKind.FAA) && (offset & 7) != 0) {
            throw new RemoteAccessException("atomic at unaligned offset " + offset);
        }
        rightsLayout(mn).check(offset, length, rightOf(batch.kind(i))); // every queue pair's windows have this layout
    }

    private MemberWindowTable rightsLayout(int mn) {
        try {
            return lanes[mn][0].active().windows();
        } catch (RemoteAccessException e) {
            throw e;
        } catch (Exception e) {
            throw new RemoteAccessException("no RDMA queue pair to memory node " + mn + ": " + e.getMessage(), e);
        }
    }

    private static io.dmtree.core.memory.AccessRight rightOf(VerbKind kind) {
        return switch (kind) {
            case READ -> io.dmtree.core.memory.AccessRight.READ;
            case WRITE -> io.dmtree.core.memory.AccessRight.WRITE;
            default -> io.dmtree.core.memory.AccessRight.ATOMIC;
        };
    }

    /** One remote piece of a request: a request crossing a registration boundary becomes two. */
    private record Piece(int request, int bufferOffset, int length, long remoteAddress, int rkey) {
    }

    private void postTo(QueuePair qp, VerbBatch batch, int mn) {
        MemberWindowTable windows = qp.windows();
        UnsafeBuffer staging = new UnsafeBuffer(qp.staging());
        List<IbvSendWR> wrs = new ArrayList<>();
        List<Piece> pieces = new ArrayList<>();
        List<int[]> atomics = new ArrayList<>(); // {wr index, request index, staging offset}
        int stagingAt = 0;
        boolean fenceNext = false;
        for (int i = 0; i < batch.size(); i++) {
            if (GlobalAddress.memoryNode(batch.address(i)) != mn) {
                continue;
            }
            long offset = GlobalAddress.offset(batch.address(i));
            VerbKind kind = batch.kind(i);
            int length = batch.length(i);
            if (stagingAt + length + 8 > STAGING_BYTES) {
                throw new RemoteAccessException("a batch of more than " + STAGING_BYTES + " bytes to memory node " + mn
                        + " does not fit the RDMA staging buffer; split it");
            }
            int flags = fenceNext ? io.dmtree.cn.carrier.rdma.SendWorkRequestLayout.IBV_SEND_FENCE : 0;
            switch (kind) {
                case READ, WRITE -> {
                    if (kind == VerbKind.WRITE) {
                        staging.putBytes(stagingAt, batch.writeBuffer(i), batch.bufferOffset(i), length);
                    }
                    int done = 0;
                    while (done < length || (length == 0 && done == 0)) {
                        int w = windows.check(offset + done, length - done, rightOf(kind));
                        int n = (int) Math.min(length - done, windows.windowEnd(w) - (offset + done));
                        long remote = windows.remoteAddress(w, offset + done);
                        wrs.add(qp.request(kind == VerbKind.READ ? SendWorkRequestLayout.IBV_WR_RDMA_READ
                                : SendWorkRequestLayout.IBV_WR_RDMA_WRITE, stagingAt + done, n, remote, windows.rkey(w), flags));
                        pieces.add(new Piece(i, stagingAt + done, n, remote, windows.rkey(w)));
                        done += n;
                        if (length == 0) {
                            break;
                        }
                    }
                    stagingAt += (length + 7) & ~7;
                    fenceNext = kind == VerbKind.READ;
                }
                case CAS, FAA -> {
                    int w = windows.check(offset, 8, io.dmtree.core.memory.AccessRight.ATOMIC);
                    long remote = windows.remoteAddress(w, offset);
                    atomics.add(new int[] {wrs.size(), i, stagingAt});
                    wrs.add(qp.request(kind == VerbKind.CAS ? SendWorkRequestLayout.IBV_WR_ATOMIC_CMP_AND_SWP
                            : SendWorkRequestLayout.IBV_WR_ATOMIC_FETCH_AND_ADD, stagingAt, 8, remote, windows.rkey(w), flags));
                    pieces.add(new Piece(i, stagingAt, 8, remote, windows.rkey(w)));
                    stagingAt += 8;
                    fenceNext = true;
                }
                default -> throw new IllegalStateException("unknown verb " + kind);
            }
        }
        IbvSendWR last = wrs.get(wrs.size() - 1);
        last.setSend_flags(last.getSend_flags() | SendWorkRequestLayout.IBV_SEND_SIGNALED);
        qp.post(wrs, atomics.isEmpty() ? null : (call, count) -> {
            for (int[] a : atomics) {
                int wrIndex = a[0];
                int req = a[1];
                Piece p = pieces.get(wrIndex);
                UnsafeBuffer wr = new UnsafeBuffer(DisniWorkRequests.address(call, wrIndex, count), SendWorkRequestLayout.ATOMIC_END);
                if (batch.kind(req) == VerbKind.CAS) {
                    AtomicFieldsEncoder.compareAndSwap(wr, 0, p.remoteAddress(), p.rkey(), batch.operand1(req), batch.operand2(req));
                } else {
                    AtomicFieldsEncoder.fetchAndAdd(wr, 0, p.remoteAddress(), p.rkey(), batch.operand1(req));
                }
            }
        });
        for (int w = 0; w < pieces.size(); w++) {
            Piece p = pieces.get(w);
            VerbKind kind = batch.kind(p.request());
            if (kind == VerbKind.READ) {
                int start = pieces.get(w).bufferOffset();
                int first = w;
                while (first > 0 && pieces.get(first - 1).request() == p.request()) {
                    first--;
                }
                int into = start - pieces.get(first).bufferOffset();
                batch.readBuffer(p.request()).putBytes(batch.bufferOffset(p.request()) + into, staging, start, p.length());
            } else if (kind == VerbKind.CAS || kind == VerbKind.FAA) {
                batch.setResult(p.request(), staging.getLong(p.bufferOffset(), HOST));
            }
        }
    }

    @Override
    public int memoryNodeCount() {
        return lanes.length;
    }

    @Override
    public void close() {
        for (SpareLane<QueuePair>[] row : lanes) {
            for (SpareLane<QueuePair> q : row) {
                q.close();
            }
        }
        replenisher.shutdownNow();
        try {
            group.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }
}
