package io.dmtree.mn.membership;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP relay in front of one server: it counts the bytes it carries each way, and can be
 * paused, holding every byte (and every new connection) until resumed, as a member frozen by
 * SIGSTOP would look from the server's side. The lease-traffic benchmark measures renewal bytes
 * with it; tests use it to stop a member's renewals without stopping its JVM.
 *
 * <p>Each connection has two pump threads (blocking copies, client to server and back). Bytes are
 * counted when written onward, so a paused relay counts nothing. Listens on 127.0.0.1 only.
 */
public final class TcpRelay implements AutoCloseable {
    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final Thread acceptor;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicLong toServer = new AtomicLong();
    private final AtomicLong toClient = new AtomicLong();
    private final Object pauseLock = new Object();
    private boolean paused;
    private volatile boolean closed;

    private TcpRelay(ServerSocket listener, InetSocketAddress target) {
        this.listener = listener;
        this.target = target;
        this.acceptor = new Thread(this::acceptLoop, "dmtree-relay-accept-" + listener.getLocalPort());
        this.acceptor.setDaemon(true);
    }

    /** A relay on a free loopback port in front of {@code target}. */
    public static TcpRelay start(InetSocketAddress target) throws IOException {
        ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        TcpRelay r = new TcpRelay(s, target);
        r.acceptor.start();
        return r;
    }

    /** {@code 127.0.0.1:port} of the relay. */
    public String address() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    public long bytesToServer() {
        return toServer.get();
    }

    public long bytesToClient() {
        return toClient.get();
    }

    /** Holds every byte from now on, both ways, until {@link #resume()}. */
    public void pause() {
        synchronized (pauseLock) {
            paused = true;
        }
    }

    public void resume() {
        synchronized (pauseLock) {
            paused = false;
            pauseLock.notifyAll();
        }
    }

    private void awaitUnpaused() throws InterruptedException {
        synchronized (pauseLock) {
            while (paused && !closed) {
                pauseLock.wait();
            }
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                client.setTcpNoDelay(true);
                sockets.add(client);
                Thread t = new Thread(() -> connect(client), "dmtree-relay-" + client.getPort());
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void connect(Socket client) {
        try {
            awaitUnpaused();
            Socket server = new Socket();
            sockets.add(server);
            server.setTcpNoDelay(true);
            server.connect(target, 5_000);
            Thread up = new Thread(() -> pump(client, server, toServer), "dmtree-relay-up-" + client.getPort());
            up.setDaemon(true);
            up.start();
            pump(server, client, toClient);
        } catch (IOException | InterruptedException e) {
            closeQuietly(client);
        }
    }

    private void pump(Socket from, Socket to, AtomicLong counter) {
        byte[] buf = new byte[8192];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                awaitUnpaused();
                out.write(buf, 0, n);
                out.flush();
                counter.addAndGet(n);
            }
        } catch (IOException | InterruptedException e) {
            // one side closed: close both below
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            sockets.remove(from);
            sockets.remove(to);
        }
    }

    /** Drops every connection now (the relay keeps listening). */
    public void dropConnections() {
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        sockets.clear();
    }

    @Override
    public void close() {
        closed = true;
        resume();
        closeQuietly(listener);
        dropConnections();
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }
}
