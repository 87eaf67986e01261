package io.dmtree.cn.tcp;

import io.dmtree.cn.messaging.MessageDispatcher;
import io.dmtree.cn.messaging.PeerDirectory;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.MessageHandler;
import io.dmtree.mn.tcp.FrameChannel;
import io.dmtree.mn.tcp.FrameHeader;
import io.dmtree.mn.tcp.FrameServer;
import io.dmtree.mn.tcp.FrameService;
import io.dmtree.mn.tcp.FrameWriter;
import io.dmtree.mn.tcp.HelloFrame;
import io.dmtree.mn.tcp.MalformedFrameException;
import io.dmtree.mn.tcp.MessageFrame;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * CN-to-CN messaging over TCP: every compute node listens on a port of its own (registered in
 * memory node 0's directory as {@code tcp:HOST:PORT}); a sender keeps one connection per receiver
 * and writes one-way {@link MessageFrame}s on it, so messages of one sender to one receiver keep
 * their order. Each inbound connection has a reader thread that hands messages to the
 * {@link MessageDispatcher} (one handler call at a time; no handler yet means wait).
 */
public final class TcpMessaging implements CnMessaging {
    public static final String SCHEME = "tcp:";

    private final int self;
    private final PeerDirectory directory;
    private final int timeoutMillis;
    private final MessageDispatcher dispatcher = new MessageDispatcher();
    private final FrameServer server;
    private final Map<Integer, Peer> peers = new ConcurrentHashMap<>();
    private final AtomicLong sent = new AtomicLong();
    private volatile boolean closed;

    private static final class Peer {
        final FrameChannel channel;
        final FrameWriter writer = new FrameWriter(512);

        Peer(FrameChannel channel) {
            this.channel = channel;
        }
    }

    private TcpMessaging(int self, InetSocketAddress listen, PeerDirectory directory, int timeoutMillis) throws IOException {
        this.self = self;
        this.directory = directory;
        this.timeoutMillis = timeoutMillis;
        FrameService service = new FrameService() {
            @Override
            public int serviceId() {
                return HelloFrame.SERVICE_MESSAGING;
            }

            @Override
            public Session open(SocketAddress peer) {
                return (r, w) -> {
                    if (r.type() != FrameHeader.TYPE_MESSAGE) {
                        throw new MalformedFrameException(FrameHeader.ERROR_UNKNOWN_TYPE, "the messaging service takes MESSAGE frames, not "
                                + FrameHeader.typeName(r.type()));
                    }
                    int from = r.u16("sender");
                    int length = r.u16("payload length");
                    r.skip(4, "padding");
                    if (length > MessageFrame.MAX_PAYLOAD) {
                        throw new MalformedFrameException(FrameHeader.ERROR_TOO_LARGE, "message of " + length + " bytes", true);
                    }
                    int at = r.skip(length, "payload");
                    r.end();
                    dispatcher.deliver(from, r.buffer(), at, length);
                };
            }
        };
        this.server = new FrameServer(listen, self, 4096, Map.of(HelloFrame.SERVICE_MESSAGING, service), "dmtree-cn" + self + "-msg");
    }

    /** Listens on {@code listen} (port 0: any free port) for compute node {@code self}. */
    public static TcpMessaging start(int self, InetSocketAddress listen, PeerDirectory directory, int timeoutMillis) {
        try {
            return new TcpMessaging(self, listen, directory, timeoutMillis);
        } catch (IOException e) {
            throw new IllegalStateException("compute node " + self + " cannot listen for messages: " + e.getMessage(), e);
        }
    }

    /** This endpoint as registered in the directory. */
    public String endpoint() {
        return SCHEME + FrameServer.describe(server.address());
    }

    @Override
    public int self() {
        return self;
    }

    @Override
    public void send(int toCn, DirectBuffer message, int offset, int length) {
        if (closed) {
            throw new IllegalStateException("messaging endpoint of compute node " + self + " is closed");
        }
        if (length < 0 || length > MAX_MESSAGE_BYTES) {
            throw new IllegalArgumentException("message length " + length + " outside [0, " + MAX_MESSAGE_BYTES + "]");
        }
        for (int attempt = 0; ; attempt++) {
            Peer p = peer(toCn);
            try {
                synchronized (p.channel.writeLock()) {
                    p.writer.begin(FrameHeader.TYPE_MESSAGE, 0, 0).u16(self).u16(length).i32(0)
                            .bytes(message, offset, length).finish();
                    p.channel.write(p.writer);
                }
                sent.incrementAndGet();
                return;
            } catch (IOException e) {
                peers.remove(toCn, p);
                p.channel.close();
                if (attempt > 0) {
                    throw new RemoteAccessException("compute node " + toCn + " is unreachable for messages: " + e.getMessage(), e);
                }
            }
        }
    }

    private Peer peer(int cn) {
        Peer p = peers.get(cn);
        if (p != null) {
            return p;
        }
        synchronized (peers) {
            p = peers.get(cn);
            if (p != null) {
                return p;
            }
            Optional<String> endpoint = directory.lookup(cn, timeoutMillis);
            if (endpoint.isEmpty()) {
                throw new RemoteAccessException("compute node " + cn + " has no messaging endpoint in the directory (not joined "
                        + "within " + timeoutMillis + " ms)");
            }
            String e = endpoint.get();
            if (!e.startsWith(SCHEME)) {
                throw new RemoteAccessException("compute node " + cn + " listens on '" + e + "', not a tcp endpoint: "
                        + "every compute node of a cluster must use the same transport");
            }
            InetSocketAddress address = io.dmtree.mn.tcp.HostPort.parse("endpoint of compute node " + cn,
                    e.substring(SCHEME.length()));
            try {
                FrameChannel ch = FrameChannel.open(address, HelloFrame.SERVICE_MESSAGING, 4096, timeoutMillis);
                if (ch.peer().nodeId() != cn) {
                    ch.close();
                    throw new RemoteAccessException("the endpoint " + e + " belongs to compute node " + ch.peer().nodeId()
                            + ", not " + cn);
                }
                p = new Peer(ch);
            } catch (IOException ex) {
                throw new RemoteAccessException("cannot connect to compute node " + cn + " at " + e + ": " + ex.getMessage(), ex);
            }
            peers.put(cn, p);
            return p;
        }
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
        for (Peer p : peers.values()) {
            p.channel.close();
        }
    }
}
