package io.dmtree.cn.carrier.rdma;

import com.ibm.disni.RdmaPassiveEndpointGroup;
import com.ibm.disni.RdmaServerEndpoint;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvRecvWR;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvSge;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.SVCPollCq;
import io.dmtree.cn.messaging.MessageDispatcher;
import io.dmtree.cn.messaging.PeerConnections;
import io.dmtree.cn.messaging.PeerDirectory;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.MessageHandler;
import io.dmtree.core.wire.HostPort;
import io.dmtree.mn.carrier.rdma.QueuePairEndpoint;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * CN-to-CN messaging by RDMA SEND/RECV: every compute node accepts RC connections on an RDMA
 * address of its own (registered in memory node 0's directory as {@code rdma:HOST:PORT}); a
 * sender connects once per receiver and SENDs each message (a 4-byte header: sender id, length;
 * then the payload) from a registered buffer, waiting for its completion. The receiver keeps
 * {@link #RECEIVES} receive requests posted per inbound connection, and a poller thread per
 * connection hands each received message to the {@link MessageDispatcher} and reposts the buffer.
 * Receiver-not-ready is retried by the NIC without limit (rnr retry 7), so a slow receiver slows
 * senders down instead of losing messages.
 */
public final class RdmaMessaging implements CnMessaging {
    public static final String SCHEME = "rdma:";
    static final int RECEIVES = 64;
    static final int SLOT = 8 + MAX_MESSAGE_BYTES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final int self;
    private final int timeoutMillis;
    private final RdmaPassiveEndpointGroup<QueuePairEndpoint> group;
    private final RdmaServerEndpoint<QueuePairEndpoint> server;
    private final InetSocketAddress address;
    private final String advertise;
    private final MessageDispatcher dispatcher = new MessageDispatcher();
    private final PeerConnections<QueuePair> peers;
    private final List<QueuePairEndpoint> inbound = new CopyOnWriteArrayList<>();
    private final AtomicLong sent = new AtomicLong();
    private final Thread acceptor;
    private volatile boolean closed;

    private RdmaMessaging(int self, InetSocketAddress listen, String advertise, PeerDirectory directory, int timeoutMillis)
            throws Exception {
        this.self = self;
        this.timeoutMillis = timeoutMillis;
        this.peers = new PeerConnections<>(directory, SCHEME, "rdma", timeoutMillis, this::connect);
        this.group = new RdmaPassiveEndpointGroup<>(timeoutMillis, RECEIVES + 16, 1, 2 * RECEIVES + 32);
        RdmaPassiveEndpointGroup<QueuePairEndpoint> g = group;
        group.init((id, serverSide) -> new QueuePairEndpoint(g, id, serverSide));
        group.getConnParam().setRnr_retry_count((byte) 7);
        this.server = group.createServerEndpoint();
        server.bind(listen, 64);
        this.address = (InetSocketAddress) server.getSrcAddr();
        this.advertise = advertise == null || advertise.isBlank() ? address.getHostString() : advertise.trim();
        this.acceptor = new Thread(this::acceptLoop, "dmtree-cn" + self + "-rdma-msg");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /**
     * Accepts RDMA connections on {@code listen} for compute node {@code self} and registers itself
     * as {@code advertise} (null: the host it is bound to, which for a wildcard listen address no
     * peer can reach, so a compute node on several hosts names its RDMA interface's address).
     */
    public static RdmaMessaging start(int self, InetSocketAddress listen, String advertise, PeerDirectory directory,
                                      int timeoutMillis) {
        try {
            return new RdmaMessaging(self, listen, advertise, directory, timeoutMillis);
        } catch (Exception e) {
            throw new IllegalStateException("compute node " + self + " cannot listen for RDMA messages on " + listen + ": "
                    + e.getMessage(), e);
        }
    }

    /** This endpoint as registered in the directory: the advertised host and the bound port. */
    public String endpoint() {
        return SCHEME + HostPort.format(InetSocketAddress.createUnresolved(advertise, address.getPort()));
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                QueuePairEndpoint ep = server.accept();
                inbound.add(ep);
                Thread t = new Thread(() -> receive(ep), "dmtree-cn" + self + "-rdma-recv");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("dmtree: an RDMA messaging connection failed: " + e.getMessage());
                }
            }
        }
    }

    private void receive(QueuePairEndpoint ep) {
        try {
            ByteBuffer slots = ByteBuffer.allocateDirect(RECEIVES * SLOT);
            IbvMr mr = ep.registerMemory(slots).execute().free().getMr();
            UnsafeBuffer view = new UnsafeBuffer(slots);
            for (int i = 0; i < RECEIVES; i++) {
                postReceive(ep, mr, i);
            }
            IbvWC[] wcs = new IbvWC[RECEIVES];
            for (int i = 0; i < wcs.length; i++) {
                wcs[i] = new IbvWC();
            }
            SVCPollCq poll = ep.getCqProvider().getCQ().poll(wcs, wcs.length);
            while (!closed && !ep.isClosed()) {
                int n = poll.execute().getPolls();
                for (int i = 0; i < n; i++) {
                    IbvWC wc = wcs[i];
                    if (wc.getStatus() != IbvWC.IbvWcStatus.IBV_WC_SUCCESS.ordinal()) {
                        return; // the sender went away: its queue pair flushed
                    }
                    int slot = (int) wc.getWr_id();
                    int at = slot * SLOT;
                    int from = view.getShort(at, LE) & 0xFFFF;
                    int length = view.getShort(at + 2, LE) & 0xFFFF;
                    if (length <= MAX_MESSAGE_BYTES && 8 + length <= wc.getByte_len()) {
                        dispatcher.deliver(from, view, at + 8, length);
                    }
                    postReceive(ep, mr, slot);
                }
                if (n == 0) {
                    Thread.onSpinWait();
                }
            }
        } catch (IOException | InterruptedException e) {
            if (!closed) {
                System.err.println("dmtree: an RDMA messaging connection of compute node " + self + " ended: " + e.getMessage());
            }
        }
    }

    private static void postReceive(QueuePairEndpoint ep, IbvMr mr, int slot) throws IOException {
        IbvSge sge = new IbvSge();
        sge.setAddr(mr.getAddr() + (long) slot * SLOT);
        sge.setLength(SLOT);
        sge.setLkey(mr.getLkey());
        LinkedList<IbvSge> sges = new LinkedList<>();
        sges.add(sge);
        IbvRecvWR wr = new IbvRecvWR();
        wr.setWr_id(slot);
        wr.setSg_list(sges);
        wr.setNum_sge(1);
        LinkedList<IbvRecvWR> list = new LinkedList<>();
        list.add(wr);
        ep.postRecv(list).execute().free();
    }

    @Override
    public int self() {
        return self;
    }

    @Override
    public void send(int toCn, DirectBuffer message, int offset, int length) {
        CnMessaging.checkSend(closed, self, length);
        QueuePair qp = peers.get(toCn);
        synchronized (qp) {
            UnsafeBuffer staging = new UnsafeBuffer(qp.staging());
            staging.putShort(0, (short) self, LE);
            staging.putShort(2, (short) length, LE);
            staging.putInt(4, 0, LE);
            staging.putBytes(8, message, offset, length);
            IbvSendWR wr = qp.request(SendWorkRequestLayout.IBV_WR_SEND, 0, 8 + length, 0, 0, SendWorkRequestLayout.IBV_SEND_SIGNALED);
            qp.post(List.of(wr), null);
        }
        sent.incrementAndGet();
    }

    private QueuePair connect(int cn, String address) throws Exception {
        InetSocketAddress a = HostPort.parse("endpoint of compute node " + cn, address);
        QueuePairEndpoint ep = group.createEndpoint();
        ep.connect(a, timeoutMillis);
        return new QueuePair("compute node " + cn + " at " + address, ep, SLOT, timeoutMillis);
    }

    @Override
    public void onMessage(MessageHandler handler) {
        dispatcher.setHandler(handler);
    }

    @Override
    public long messagesSent() {
        return sent.get();
    }

    @Override
    public void close() {
        closed = true;
        dispatcher.close();
        peers.all().forEach(QueuePair::close);
        for (QueuePairEndpoint ep : inbound) {
            try {
                ep.close();
            } catch (IOException | InterruptedException ignored) {
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
