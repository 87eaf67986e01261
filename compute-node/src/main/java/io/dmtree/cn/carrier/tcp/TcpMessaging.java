package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.cn.messaging.MessageDispatcher;
import io.dmtree.cn.messaging.PeerConnections;
import io.dmtree.cn.messaging.PeerDirectory;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.MessageHandler;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ConnectionLimits;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameServer;
import io.dmtree.core.wire.FrameService;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.HostPort;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.core.wire.MessageFrame;
import io.dmtree.core.wire.SessionContext;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * CN-to-CN messaging over TCP: every compute node listens on a port of its own (registered in
 * memory node 0's directory as {@code tcp:HOST:PORT}); a sender keeps one connection per receiver
 * and writes one-way {@link MessageFrame}s on it, so messages of one sender to one receiver keep
 * their order. Each inbound connection has a reader thread that hands messages to the
 * {@link MessageDispatcher} (one handler call at a time; no handler yet means wait).
 *
 * <p>With a cluster secret every connection is authenticated both ways ({@link ClusterSecret}) and
 * names its sender in its HELLO; a message whose sender field names another compute node is
 * refused and its connection closed, so a grant reaches the handler only from a member, as itself.
 */
public final class TcpMessaging implements CnMessaging {
    public static final String SCHEME = "tcp:";

    private final int self;
    private final String advertise;
    private final int timeoutMillis;
    private final ClusterSecret secret;
    private final MessageDispatcher dispatcher = new MessageDispatcher();
    private final FrameServer server;
    private final PeerConnections<Peer> peers;
    private final AtomicLong sent = new AtomicLong();
    private volatile boolean closed;

    private static final class Peer {
        final FrameChannel channel;
        final FrameWriter writer = new FrameWriter(512);

        Peer(FrameChannel channel) {
            this.channel = channel;
        }
    }

    private TcpMessaging(int self, InetSocketAddress listen, String advertise, PeerDirectory directory, int timeoutMillis,
                         ClusterSecret secret) throws IOException {
        this.self = self;
        this.secret = secret;
        this.timeoutMillis = timeoutMillis;
        this.peers = new PeerConnections<>(directory, SCHEME, "tcp", timeoutMillis, this::connect);
        FrameService service = new FrameService() {
            @Override
            public int serviceId() {
                return HelloFrame.SERVICE_MESSAGING;
            }

            @Override
            public Session open(SessionContext context) {
                int sender = context.computeNode();
                return (r, w) -> {
                    if (r.type() != FrameHeader.TYPE_MESSAGE) {
                        throw new MalformedFrameException(ErrorCode.UNKNOWN_TYPE, "the messaging service takes MESSAGE frames, not "
                                + FrameHeader.typeName(r.type()));
                    }
                    int from = r.u16("sender");
                    int length = r.u16("payload length");
                    r.skip(4, "padding");
                    if (length > MessageFrame.MAX_PAYLOAD) {
                        throw new MalformedFrameException(ErrorCode.TOO_LARGE, "message of " + length + " bytes", true);
                    }
                    int at = r.skip(length, "payload");
                    r.end();
                    if (sender != HelloFrame.NO_COMPUTE_NODE && from != sender) {
                        throw new MalformedFrameException(ErrorCode.STATE, "a message from compute node " + from
                                + " on the connection of compute node " + sender, true);
                    }
                    dispatcher.deliver(from, r.buffer(), at, length);
                };
            }
        };
        this.server = new FrameServer(listen, self, 4096, Map.of(HelloFrame.SERVICE_MESSAGING, service), "dmtree-cn" + self + "-msg",
                ConnectionLimits.DEFAULTS, secret);
        this.advertise = advertise == null || advertise.isBlank() ? server.address().getHostString() : advertise;
    }

    /**
     * Listens on {@code listen} (port 0: any free port) for compute node {@code self}, announcing
     * itself as {@code advertise} (null: the host it is bound to), then checks that the advertised
     * endpoint reaches this endpoint: it connects to it and says HELLO as a peer would, within
     * {@code timeoutMillis}. An advertised host that is a wildcard, does not resolve, is not
     * answered within the timeout, or reaches another node fails here with a message naming it,
     * instead of making the other compute nodes' grants hang later.
     */
    public static TcpMessaging start(int self, InetSocketAddress listen, String advertise, PeerDirectory directory,
                                     int timeoutMillis) {
        return start(self, listen, advertise, directory, timeoutMillis, null);
    }

    /**
     * ... admitting only peers that prove {@code secret}, and proving it to every peer it sends to
     * (null: no authentication; see {@link ClusterSecret}): a grant from a process that is not a
     * member never reaches the handler.
     */
    public static TcpMessaging start(int self, InetSocketAddress listen, String advertise, PeerDirectory directory,
                                     int timeoutMillis, ClusterSecret secret) {
        TcpMessaging m;
        try {
            m = new TcpMessaging(self, listen, advertise, directory, timeoutMillis, secret);
        } catch (IOException e) {
            throw new IllegalStateException("compute node " + self + " cannot listen for messages on "
                    + HostPort.format(listen) + ": " + e.getMessage(), e);
        }
        try {
            m.probeAdvertised();
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /**
     * Connects to this endpoint through its advertised address and checks that the node answering
     * HELLO is this one; fails naming the address otherwise.
     */
    private void probeAdvertised() {
        String endpoint = HostPort.format(InetSocketAddress.createUnresolved(advertise, server.address().getPort()));
        InetSocketAddress bound = server.address();
        String fix = "; pass --advertise with an address of this host that the other compute nodes can reach (the endpoint is"
                + " bound to " + (bound.getAddress() != null && bound.getAddress().isAnyLocalAddress()
                ? "every interface, port " + bound.getPort() : HostPort.format(bound)) + ")";
        InetSocketAddress target = new InetSocketAddress(advertise, server.address().getPort());
        if (target.isUnresolved()) {
            throw new IllegalStateException("compute node " + self + " advertises its messaging endpoint as " + endpoint
                    + ", but " + advertise + " does not resolve" + fix);
        }
        if (target.getAddress().isAnyLocalAddress()) {
            throw new IllegalStateException("compute node " + self + " advertises its messaging endpoint as " + endpoint
                    + ", a wildcard address no peer can connect to" + fix);
        }
        int answered;
        try (FrameChannel ch = FrameChannel.open(target, HelloFrame.SERVICE_MESSAGING, 4096, timeoutMillis, secret,
                self, 0)) {
            answered = ch.peer().nodeId();
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
            throw new IllegalStateException("compute node " + self + " advertises its messaging endpoint as " + endpoint
                    + ", which does not reach it within " + timeoutMillis + " ms (" + why + ")" + fix, e);
        }
        if (answered != self) {
            throw new IllegalStateException("compute node " + self + " advertises its messaging endpoint as " + endpoint
                    + ", but compute node " + answered + " answers there" + fix);
        }
    }

    /** This endpoint as registered in the directory. */
    public String endpoint() {
        return SCHEME + HostPort.format(InetSocketAddress.createUnresolved(advertise, server.address().getPort()));
    }

    @Override
    public int self() {
        return self;
    }

    @Override
    public void send(int toCn, DirectBuffer message, int offset, int length) {
        CnMessaging.checkSend(closed, self, length);
        for (int attempt = 0; ; attempt++) {
            Peer p = peers.get(toCn);
            try {
                synchronized (p.channel.writeLock()) {
                    p.writer.begin(FrameHeader.TYPE_MESSAGE, 0, 0).u16(self).u16(length).i32(0)
                            .bytes(message, offset, length).finish();
                    p.channel.write(p.writer);
                }
                sent.incrementAndGet();
                return;
            } catch (IOException e) {
                peers.forget(toCn, p);
                p.channel.close();
                if (attempt > 0) {
                    throw new RemoteAccessException("compute node " + toCn + " is unreachable for messages at "
                            + peers.endpointOf(toCn) + ": " + e.getMessage(), e);
                }
            }
        }
    }

    private Peer connect(int cn, String address) throws IOException {
        InetSocketAddress a = HostPort.parse("endpoint of compute node " + cn, address);
        FrameChannel ch = FrameChannel.open(a, HelloFrame.SERVICE_MESSAGING, 4096, timeoutMillis, secret, self, 0);
        if (ch.peer().nodeId() != cn) {
            ch.close();
            throw new RemoteAccessException("the endpoint " + address + " belongs to compute node " + ch.peer().nodeId()
                    + ", not " + cn);
        }
        return new Peer(ch);
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
        server.close();
        for (Peer p : peers.all()) {
            p.channel.close();
        }
    }
}
