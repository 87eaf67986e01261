package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Memory-node servers with the tcp transport on loopback, each behind a {@link LoopbackProxy}, and
 * the tcp carrier's verbs connected through the proxies. Closing it closes everything it made.
 */
final class TcpTestCluster implements AutoCloseable {
    /** 8 MiB regions, 64 KiB chunks and lock table. */
    static final MemoryNodeConfig CONFIG = new MemoryNodeConfig(8L << 20, 64L << 10, 64L << 10);
    /** The first byte tests may use. */
    static final long SCRATCH = CONFIG.chunkAreaOffset();

    final List<MemoryNodeServer> servers = new ArrayList<>();
    final List<LoopbackProxy> proxies = new ArrayList<>();
    TcpVerbs verbs;

    TcpTestCluster(int memoryNodes, Path dir, TcpVerbsConfig config) throws Exception {
        this(memoryNodes, dir, config, null, null);
    }

    /**
     * ... whose memory nodes hold {@code serverSecret} and whose verbs prove {@code clientSecret}
     * (either null: none; with {@link io.dmtree.core.wire.ClusterTls} key material: TLS).
     */
    TcpTestCluster(int memoryNodes, Path dir, TcpVerbsConfig config, io.dmtree.core.wire.ClusterSecret serverSecret,
                   io.dmtree.core.wire.ClusterSecret clientSecret) throws Exception {
        try {
            List<InetSocketAddress> addresses = new ArrayList<>();
            for (int i = 0; i < memoryNodes; i++) {
                MemoryNodeServer s = MemoryNodeServer.start(MemoryNodeOptions.of(i, new InetSocketAddress("127.0.0.1", 0), CONFIG,
                        "tcp", dir).withSecret(serverSecret));
                servers.add(s);
                LoopbackProxy p = new LoopbackProxy(s.address());
                proxies.add(p);
                addresses.add(p.address());
            }
            verbs = clientSecret == null ? TcpVerbs.connect(addresses, config)
                    : TcpVerbs.connect(addresses, config, io.dmtree.core.wire.HelloFrame.NO_COMPUTE_NODE, 0, clientSecret);
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    static long at(int mn, long offset) {
        return GlobalAddress.of(mn, offset);
    }

    /** Closes the verbs, proxies and servers; fails when a server counted an internal error. */
    @Override
    public void close() throws Exception {
        if (verbs != null) {
            verbs.close();
        }
        for (LoopbackProxy p : proxies) {
            p.close();
        }
        for (MemoryNodeServer s : servers) {
            long internal = s.frameServer().internalErrors();
            s.close();
            assertEquals(0, internal, "internal errors on memory node " + s.options().id());
        }
    }

    /** The seed of a randomized test: {@code -Ddmtree.seed=N} replays a run; otherwise a fresh one, printed. */
    static long seed(String test) {
        String fixed = System.getProperty("dmtree.seed");
        long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime() * 0x9E3779B97F4A7C15L;
        System.out.println(test + " seed=" + seed + " (replay with -Ddmtree.seed=" + seed + ")");
        return seed;
    }
}
