package io.dmtree.cn.carrier.rdma;

import com.ibm.disni.RdmaPassiveEndpointGroup;
import com.ibm.disni.verbs.IbvSendWR;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbKind;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.wire.RdmaSegment;
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
 * is posted (a bad remote access would break the queue pair).
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
    private final QueuePair[][] lanes;
    private final ReentrantLock[][] locks;
    private final String[] lost;

    private RdmaVerbs(RdmaPassiveEndpointGroup<QueuePairEndpoint> group, List<RegionDescription> regions, QueuePair[][] lanes) {
        this.group = group;
        this.regions = List.copyOf(regions);
        this.lanes = lanes;
        this.locks = new ReentrantLock[lanes.length][LANES];
        this.lost = new String[lanes.length];
        for (int i = 0; i < lanes.length; i++) {
            for (int l = 0; l < LANES; l++) {
                locks[i][l] = new ReentrantLock();
            }
        }
    }

    /**
     * Connects queue pairs to every memory node's registered region; {@code hosts} gives, by
     * memory node, the host its RDMA endpoint is reached at (the description's, or for a wildcard
     * the host the control plane was reached at).
     */
    public static RdmaVerbs connect(List<RegionDescription> regions, List<String> hosts, int timeoutMillis) {
        RdmaPassiveEndpointGroup<QueuePairEndpoint> group = null;
        QueuePair[][] lanes = new QueuePair[regions.size()][LANES];
        try {
            group = new RdmaPassiveEndpointGroup<>(timeoutMillis, 64, 4, 128);
            RdmaPassiveEndpointGroup<QueuePairEndpoint> g = group;
            group.init((id, serverSide) -> new QueuePairEndpoint(g, id, serverSide));
            for (int mn = 0; mn < regions.size(); mn++) {
                RegionDescription d = regions.get(mn);
                for (int l = 0; l < LANES; l++) {
                    QueuePairEndpoint ep = group.createEndpoint();
                    String host = hosts.get(mn);
                    ep.connect(new InetSocketAddress(host, d.port()), timeoutMillis);
                    lanes[mn][l] = new QueuePair("memory node " + mn + " at " + host + ":" + d.port(), ep, STAGING_BYTES,
                            timeoutMillis);
                }
            }
            return new RdmaVerbs(group, regions, lanes);
        } catch (Exception e) {
            for (QueuePair[] row : lanes) {
                for (QueuePair q : row) {
                    if (q != null) {
                        q.close();
                    }
                }
            }
            if (group != null) {
                try {
                    group.close();
                } catch (Exception ignored) {
                    // reporting the first failure
                }
            }
            throw new RemoteAccessException("cannot connect RDMA queue pairs to the memory nodes: " + e.getMessage(), e);
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
                    postTo(lanes[mn][lane], batch, mn);
                } finally {
                    lock.unlock();
                }
            }
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
    }

    /** One remote piece of a request: a request crossing a registration boundary becomes two. */
    private record Piece(int request, int bufferOffset, int length, long remoteAddress, int rkey) {
    }

    private void postTo(QueuePair qp, VerbBatch batch, int mn) {
        List<RdmaSegment> segments = regions.get(mn).rdmaSegments();
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
                        RdmaSegment s = segmentOf(segments, offset + done, mn);
                        int n = (int) Math.min(length - done, s.regionOffset() + s.length() - (offset + done));
                        long remote = s.address() + (offset + done - s.regionOffset());
                        wrs.add(qp.request(kind == VerbKind.READ ? SendWorkRequestLayout.IBV_WR_RDMA_READ
                                : SendWorkRequestLayout.IBV_WR_RDMA_WRITE, stagingAt + done, n, remote, s.rkey(), flags));
                        pieces.add(new Piece(i, stagingAt + done, n, remote, s.rkey()));
                        done += n;
                        if (length == 0) {
                            break;
                        }
                    }
                    stagingAt += (length + 7) & ~7;
                    fenceNext = kind == VerbKind.READ;
                }
                case CAS, FAA -> {
                    RdmaSegment s = segmentOf(segments, offset, mn);
                    long remote = s.address() + (offset - s.regionOffset());
                    atomics.add(new int[] {wrs.size(), i, stagingAt});
                    wrs.add(qp.request(kind == VerbKind.CAS ? SendWorkRequestLayout.IBV_WR_ATOMIC_CMP_AND_SWP
                            : SendWorkRequestLayout.IBV_WR_ATOMIC_FETCH_AND_ADD, stagingAt, 8, remote, s.rkey(), flags));
                    pieces.add(new Piece(i, stagingAt, 8, remote, s.rkey()));
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

    private static RdmaSegment segmentOf(List<RdmaSegment> segments, long offset, int mn) {
        for (RdmaSegment s : segments) {
            if (offset >= s.regionOffset() && offset < s.regionOffset() + s.length()) {
                return s;
            }
        }
        if (!segments.isEmpty()) {
            RdmaSegment last = segments.get(segments.size() - 1);
            if (offset == last.regionOffset() + last.length()) {
                return last; // an empty access at the very end
            }
        }
        throw new RemoteAccessException("memory node " + mn + " registered no RDMA segment for offset " + offset);
    }

    @Override
    public int memoryNodeCount() {
        return lanes.length;
    }

    @Override
    public void close() {
        for (QueuePair[] row : lanes) {
            for (QueuePair q : row) {
                q.close();
            }
        }
        try {
            group.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }
}
