package io.dmtree.workloads.netbench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The baseline's far end: a plain blocking TCP echo server on loopback, one thread per connection,
 * writing back whatever it reads, with {@code TCP_NODELAY}. Nothing is parsed, so a round trip
 * through it is the cheapest a request/reply over one TCP connection can be on this host.
 */
final class EchoServer implements AutoCloseable {
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final int bufferBytes;
    private volatile boolean closed;

    EchoServer(int bufferBytes) throws IOException {
        this.bufferBytes = bufferBytes;
        this.server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress("127.0.0.1", 0), 64);
        this.acceptor = new Thread(this::acceptLoop, "netbench-echo-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    InetSocketAddress address() throws IOException {
        return (InetSocketAddress) server.getLocalAddress();
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            } catch (IOException e) {
                return; // closed
            }
            connections.add(ch);
            Thread t = new Thread(() -> echo(ch), "netbench-echo");
            t.setDaemon(true);
            t.start();
        }
    }

    private void echo(SocketChannel ch) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(bufferBytes);
        try (ch) {
            while (!closed) {
                buffer.clear();
                if (ch.read(buffer) < 0) {
                    return;
                }
                buffer.flip();
                while (buffer.hasRemaining()) {
                    ch.write(buffer);
                }
            }
        } catch (ClosedChannelException e) {
            // closed by close()
        } catch (IOException e) {
            // the client went away
        } finally {
            connections.remove(ch);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (SocketChannel ch : connections) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
