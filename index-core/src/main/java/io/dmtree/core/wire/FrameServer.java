package io.dmtree.core.wire;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The TCP front door of a memory node: accepts connections on one address, reads each
 * connection's {@link HelloFrame}, and serves it with the named {@link FrameService} on a thread
 * of its own, one request frame and one reply at a time (a client pipelines by sending several
 * frames before reading replies; replies come back in request order).
 *
 * <p>Robustness invariants: a frame with a bad length or version gets an error reply and its
 * connection closed (the stream cannot be resynchronised); any other refused frame gets an error
 * reply and the connection goes on; an unexpected exception in a session closes that connection
 * only and is counted in {@link #internalErrors()}. No failure of one connection touches another.
 */
public final class FrameServer implements AutoCloseable {
    private final ServerSocketChannel server;
    private final Map<Integer, FrameService> services;
    private final int maxFrameBytes;
    private final int nodeId;
    private final Set<FrameChannel> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong framesServed = new AtomicLong();
    private final AtomicLong errorReplies = new AtomicLong();
    private final AtomicLong internalErrors = new AtomicLong();
    private final AtomicLong connectionsAccepted = new AtomicLong();
    private final Thread acceptor;
    private volatile boolean closed;

    /**
     * Binds {@code listen} (port 0 picks a free port) and starts accepting.
     *
     * @param nodeId the id this server reports in HELLO replies
     */
    public FrameServer(InetSocketAddress listen, int nodeId, int maxFrameBytes, Map<Integer, FrameService> services,
                       String threadPrefix) throws IOException {
        this.services = Map.copyOf(services);
        this.maxFrameBytes = maxFrameBytes;
        this.nodeId = nodeId;
        this.server = ServerSocketChannel.open();
        try {
            server.bind(listen, 128);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + listen.getHostString() + ":" + listen.getPort() + ": "
                    + e.getMessage(), e);
        }
        this.acceptor = new Thread(this::acceptLoop, threadPrefix + "-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException("server socket closed", e);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                internalErrors.incrementAndGet();
                continue;
            }
            connectionsAccepted.incrementAndGet();
            Thread t = new Thread(() -> serve(ch), acceptor.getName().replace("-accept", "-conn"));
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(SocketChannel socket) {
        FrameChannel ch;
        try {
            ch = new FrameChannel(socket, maxFrameBytes);
        } catch (IOException e) {
            closeQuietly(socket);
            return;
        }
        connections.add(ch);
        if (closed) {
            ch.close();
            connections.remove(ch);
            return;
        }
        FrameReader reader = new FrameReader();
        FrameWriter writer = new FrameWriter();
        FrameService.Session session = null;
        try {
            session = hello(ch, reader, writer);
            if (session == null) {
                return;
            }
            while (!closed) {
                try {
                    ch.read();
                } catch (MalformedFrameException e) {
                    replyError(ch, writer, 0, e);
                    return;
                }
                reader.wrap(ch.frame(), 0, ch.frameLength());
                try {
                    writer.reset();
                    session.handle(reader, writer);
                    framesServed.incrementAndGet();
                } catch (MalformedFrameException e) {
                    replyError(ch, writer, reader.correlationId(), e);
                    if (e.fatal()) {
                        return;
                    }
                    continue;
                }
                if (writer.length() > 0) {
                    ch.write(writer);
                }
            }
        } catch (EOFException | ClosedChannelException e) {
            // the peer or the server closed the connection
        } catch (IOException e) {
            // a broken or truncated connection: drop it, keep serving the others
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            if (!closed) {
                internalErrors.incrementAndGet();
                System.err.println("dmtree: connection from " + ch.remoteAddress() + " dropped after an internal error: " + e);
            }
        } finally {
            connections.remove(ch);
            ch.close();
            if (session != null) {
                try {
                    session.closed();
                } catch (RuntimeException e) {
                    internalErrors.incrementAndGet();
                }
            }
        }
    }

    private FrameService.Session hello(FrameChannel ch, FrameReader reader, FrameWriter writer) throws IOException {
        try {
            ch.read();
            reader.wrap(ch.frame(), 0, ch.frameLength());
            if (reader.type() != FrameHeader.TYPE_HELLO) {
                throw new MalformedFrameException(FrameHeader.ERROR_STATE, "the first frame must be HELLO, not "
                        + FrameHeader.typeName(reader.type()), true);
            }
            int magic = reader.i32("magic");
            int service = reader.u8("service");
            reader.skip(3, "padding");
            reader.end();
            if (magic != HelloFrame.MAGIC) {
                throw new MalformedFrameException(FrameHeader.ERROR_MALFORMED, "HELLO has a wrong magic 0x"
                        + Integer.toHexString(magic) + ": not a dmtree peer", true);
            }
            FrameService s = services.get(service);
            if (s == null) {
                throw new MalformedFrameException(FrameHeader.ERROR_UNAVAILABLE, "this node does not offer the "
                        + HelloFrame.serviceName(service) + " service (it offers " + offered() + ")", true);
            }
            writer.begin(FrameHeader.TYPE_HELLO | FrameHeader.REPLY_BIT, 0, reader.correlationId())
                    .i32(HelloFrame.MAGIC).i32(nodeId).i32(maxFrameBytes).i32(0).finish();
            ch.write(writer);
            return s.open(ch.remoteAddress());
        } catch (MalformedFrameException e) {
            replyError(ch, writer, ch.frameLength() >= FrameHeader.LENGTH ? reader.correlationId() : 0, e);
            return null;
        }
    }

    private String offered() {
        StringBuilder b = new StringBuilder();
        for (int id : services.keySet()) {
            b.append(b.length() == 0 ? "" : ", ").append(HelloFrame.serviceName(id));
        }
        return b.toString();
    }

    private void replyError(FrameChannel ch, FrameWriter writer, long correlationId, MalformedFrameException e) throws IOException {
        errorReplies.incrementAndGet();
        writer.error(correlationId, e.code(), e.getMessage());
        ch.write(writer);
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    public long framesServed() {
        return framesServed.get();
    }

    public long errorReplies() {
        return errorReplies.get();
    }

    /** Connections dropped after an unexpected exception: zero unless there is a bug. */
    public long internalErrors() {
        return internalErrors.get();
    }

    public long connectionsAccepted() {
        return connectionsAccepted.get();
    }

    public int openConnections() {
        return connections.size();
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (FrameChannel ch : connections) {
            ch.close();
        }
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** For log lines: host:port. */
    public static String describe(SocketAddress a) {
        if (a instanceof InetSocketAddress i) {
            return HostPort.format(i);
        }
        return String.valueOf(a);
    }
}
