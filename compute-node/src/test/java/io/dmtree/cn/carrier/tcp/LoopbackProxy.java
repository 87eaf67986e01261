package io.dmtree.cn.carrier.tcp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on loopback between the tcp carrier and a memory node, for fault tests: it can hold
 * the requests back for a while ({@link #pause}, so the client's socket fills), stop relaying for
 * good (a memory node that hangs) and cut every connection with a reset ({@link #cut}). Its own
 * receive buffer is small, so a paused relay backs the client up quickly.
 */
final class LoopbackProxy implements AutoCloseable {
    private static final int RELAY_BUFFER = 4096;
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    private volatile boolean paused;
    /** Every byte relayed either way, while {@link #record} is on (bounded). */
    private final java.io.ByteArrayOutputStream recorded = new java.io.ByteArrayOutputStream();
    private volatile boolean recording;
    private static final int RECORD_LIMIT = 64 << 20;
    private volatile boolean closed;

    LoopbackProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket();
        server.setReceiveBufferSize(RELAY_BUFFER); // inherited by accepted sockets: a small window
        server.bind(new InetSocketAddress("127.0.0.1", 0));
        start(this::acceptLoop, "proxy-accept");
    }

    InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", server.getLocalPort());
    }

    private void start(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket();
                upstream.setReceiveBufferSize(RELAY_BUFFER);
                upstream.connect(target, 5000);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(upstream);
                start(() -> relay(client, upstream, true), "proxy-up");
                start(() -> relay(upstream, client, false), "proxy-down");
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void relay(Socket from, Socket to, boolean requests) {
        byte[] buffer = new byte[RELAY_BUFFER];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            while (!closed) {
                if (requests) {
                    awaitUnpaused();
                }
                int n = in.read(buffer);
                if (n < 0) {
                    to.shutdownOutput();
                    return;
                }
                if (requests) {
                    awaitUnpaused(); // hold even bytes already read
                }
                if (recording) {
                    synchronized (recorded) {
                        if (recorded.size() + n <= RECORD_LIMIT) {
                            recorded.write(buffer, 0, n);
                        }
                    }
                }
                out.write(buffer, 0, n);
            }
        } catch (IOException | InterruptedException e) {
            // cut or closed
        }
    }

    private void awaitUnpaused() throws InterruptedException {
        synchronized (gate) {
            while (paused && !closed) {
                gate.wait(100);
            }
        }
    }

    /** Records every byte relayed from now on, both ways, up to 64 MiB. */
    void record() {
        recording = true;
    }

    /** The bytes recorded so far. */
    byte[] recorded() {
        synchronized (recorded) {
            return recorded.toByteArray();
        }
    }

    /** Holds requests back until {@link #resume}; a relay paused for good is a memory node that hangs. */
    void pause() {
        paused = true;
    }

    void resume() {
        synchronized (gate) {
            paused = false;
            gate.notifyAll();
        }
    }

    /** Resets every relayed connection at once (SO_LINGER 0), as a crashed host or a broken link would. */
    void cut() {
        for (Socket s : sockets) {
            try {
                s.setSoLinger(true, 0);
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        resume();
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        cut();
        for (Thread t : threads) {
            t.join(5000);
        }
    }
}
