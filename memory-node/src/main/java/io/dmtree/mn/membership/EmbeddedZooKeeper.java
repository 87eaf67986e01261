package io.dmtree.mn.membership;

import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A single ZooKeeper server inside this JVM, so one host needs no separate ZooKeeper: a memory
 * node started without an ensemble address runs one and announces its address. Its data lives
 * in a fresh temporary directory (or a given one), removed on {@link #close()} when temporary.
 *
 * <p>Its tick is short ({@value #DEFAULT_TICK_MILLIS} ms by default) because ZooKeeper grants no
 * session shorter than two ticks and expires sessions up to one tick late: the default lease of
 * {@link io.dmtree.core.membership.MembershipOptions} (60 ms) needs a tick of at most 30 ms, and
 * 10 ms keeps the lateness small. The longest session it grants is {@value #MAX_SESSION_MILLIS} ms,
 * so watchers may ask for long ones. A tick costs the server one wake-up of its session tracker,
 * nothing per client.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
    public static final int DEFAULT_TICK_MILLIS = 10;
    public static final int MAX_SESSION_MILLIS = 120_000;

    private final Path dir;
    private final boolean temporary;
    private final boolean forceSync;
    private final ZooKeeperServer server;
    private final ServerCnxnFactory factory;

    private EmbeddedZooKeeper(Path dir, boolean temporary, boolean forceSync, ZooKeeperServer server, ServerCnxnFactory factory) {
        this.dir = dir;
        this.temporary = temporary;
        this.forceSync = forceSync;
        this.server = server;
        this.factory = factory;
    }

    /** Starts a server on {@code bind} (port 0: any free port) with data in a temporary directory. */
    public static EmbeddedZooKeeper start(InetSocketAddress bind, int tickMillis) throws IOException {
        return start(bind, tickMillis, Files.createTempDirectory("dmtree-zk-"), true);
    }

    /**
     * Starts a server on {@code bind} keeping its data in {@code dir} (kept on close unless
     * {@code temporary}); a restart on the same directory recovers the data and the sessions.
     */
    public static EmbeddedZooKeeper start(InetSocketAddress bind, int tickMillis, Path dir, boolean temporary)
            throws IOException {
        return start(bind, tickMillis, dir, temporary, true);
    }

    /**
     * As {@link #start(InetSocketAddress, int, Path, boolean)}; without {@code forceSync} the
     * transaction log is written but not fsynced per transaction (ZooKeeper's
     * {@code zookeeper.forceSync=no}), and {@link #close()} forces every file of the data directory:
     * the data then survives this process being killed (the page cache has it) and a host crash
     * after a clean stop, the guarantee of the durable regions it serves with, and keeps a fsync per
     * transaction (a barrier arrival, a join) off a disk that is also writing back a region's pages.
     */
    public static EmbeddedZooKeeper start(InetSocketAddress bind, int tickMillis, Path dir, boolean temporary,
                                          boolean forceSync) throws IOException {
        if (tickMillis < 1 || tickMillis > 10_000) {
            throw new IllegalArgumentException("ZooKeeper tick of " + tickMillis + " ms is outside [1, 10000]");
        }
        ZooKeeperServer server = null;
        ServerCnxnFactory factory = null;
        boolean started = false;
        try {
            Files.createDirectories(dir);
            server = newServer(dir, tickMillis, forceSync);
            server.setMinSessionTimeout(2 * tickMillis);
            server.setMaxSessionTimeout(Math.max(MAX_SESSION_MILLIS, 2 * tickMillis));
            factory = ServerCnxnFactory.createFactory(bind, 0); // no per-host connection limit
            factory.startup(server);
            started = true;
            return new EmbeddedZooKeeper(dir, temporary, forceSync, server, factory);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting ZooKeeper", e);
        } finally {
            if (!started) { // also when a class is missing (an Error): leave nothing behind
                stop(factory, server);
                if (temporary) {
                    deleteTree(dir);
                }
            }
        }
    }

    /** ZooKeeper reads {@code zookeeper.forceSync} when it makes a server's transaction log: set it for that moment only. */
    private static ZooKeeperServer newServer(Path dir, int tickMillis, boolean forceSync) throws IOException {
        synchronized (EmbeddedZooKeeper.class) {
            String key = "zookeeper.forceSync";
            String before = System.getProperty(key);
            if (!forceSync) {
                System.setProperty(key, "no");
            }
            try {
                return new ZooKeeperServer(dir.toFile(), dir.toFile(), tickMillis);
            } finally {
                if (!forceSync) {
                    if (before == null) {
                        System.clearProperty(key);
                    } else {
                        System.setProperty(key, before);
                    }
                }
            }
        }
    }

    /** {@code host:port} for clients. */
    public String connectString() {
        InetSocketAddress a = factory.getLocalAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
        return host + ":" + a.getPort();
    }

    public int port() {
        return factory.getLocalPort();
    }

    public int tickMillis() {
        return server.getTickTime();
    }

    /** Requests (pings included) this server received since it started. */
    public long packetsReceived() {
        return server.serverStats().getPacketsReceived();
    }

    /** Replies and notifications this server sent since it started. */
    public long packetsSent() {
        return server.serverStats().getPacketsSent();
    }

    /** Open client connections. */
    public int connections() {
        return factory.getNumAliveConnections();
    }

    public Path dataDirectory() {
        return dir;
    }

    @Override
    public void close() {
        stop(factory, server);
        if (temporary) {
            deleteTree(dir);
        } else if (!forceSync) {
            forceTree(dir);
        }
    }

    /** Forces every file under {@code dir} to its storage (what a clean stop leaves must survive a host crash). */
    private static void forceTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            System.err.println("dmtree: could not force ZooKeeper's data in " + dir + " to storage: " + e.getMessage());
        }
    }

    private static void stop(ServerCnxnFactory factory, ZooKeeperServer server) {
        if (factory != null) {
            factory.shutdown();
        }
        if (server != null && server.isRunning()) {
            server.shutdown();
        }
    }

    /** Removes a data directory a server that is not running left (a memory node killed with SIGKILL). */
    public static void removeData(Path dir) {
        deleteTree(dir);
    }

    /**
     * Removes {@code dir} and everything in it; retries a few times (bounded) because a server that
     * just stopped may still be closing its last log file.
     */
    static void deleteTree(Path dir) {
        IOException last = null;
        for (int attempt = 0; attempt < 10; attempt++) {
            if (!Files.exists(dir)) {
                return;
            }
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
                return;
            } catch (IOException | UncheckedIOException e) {
                last = e instanceof IOException io ? io : ((UncheckedIOException) e).getCause();
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw new UncheckedIOException("could not remove " + dir, last);
    }
}
