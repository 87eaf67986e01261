package io.dmtree.workloads.netbench;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * The baseline: a blocking {@link SocketChannel} per thread with {@code TCP_NODELAY} to an
 * {@link EchoServer} on loopback; a round trip writes {@code bytes} and reads {@code bytes} back.
 */
final class RawPingPong implements RoundTrips {
    private final int bytes;
    private final EchoServer server;
    private final List<Client> clients = new ArrayList<>();

    RawPingPong(int bytes) throws IOException {
        this.bytes = bytes;
        this.server = new EchoServer(Math.max(bytes, 64 * 1024));
    }

    @Override
    public String name() {
        return "raw";
    }

    @Override
    public String description() {
        return "raw TCP ping-pong (" + bytes + " B out, " + bytes + " B back, blocking echo server)";
    }

    @Override
    public synchronized RoundTrips.Client client(int t) throws IOException {
        while (clients.size() <= t) {
            clients.add(new Client(SocketChannel.open(server.address())));
        }
        return clients.get(t);
    }

    private final class Client implements RoundTrips.Client {
        private final SocketChannel channel;
        private final ByteBuffer out = ByteBuffer.allocateDirect(bytes);
        private final ByteBuffer in = ByteBuffer.allocateDirect(bytes);
        private byte stamp;

        Client(SocketChannel channel) throws IOException {
            this.channel = channel;
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            for (int i = 0; i < bytes; i++) {
                out.put(i, (byte) (i * 31 + 7));
            }
        }

        @Override
        public void once() throws IOException {
            out.put(0, ++stamp);
            out.clear();
            while (out.hasRemaining()) {
                channel.write(out);
            }
            in.clear();
            while (in.hasRemaining()) {
                if (channel.read(in) < 0) {
                    throw new EOFException("the echo server closed the connection");
                }
            }
        }

        @Override
        public void verify() throws IOException {
            if (in.clear().equals(out.clear())) {
                return;
            }
            throw new IOException("the echo server sent back other bytes than it was sent");
        }
    }

    @Override
    public synchronized void close() {
        for (Client c : clients) {
            try {
                c.channel.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        server.close();
    }
}
