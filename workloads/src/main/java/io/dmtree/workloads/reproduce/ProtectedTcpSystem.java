package io.dmtree.workloads.reproduce;

import io.dmtree.cn.ClusterConfig;
import io.dmtree.cn.DmIndex;
import io.dmtree.cn.EmbeddedCluster;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.cn.control.IndexShape;
import io.dmtree.cn.control.RemoteComputeNode;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.tcp.TcpCarrierServer;
import io.dmtree.mn.control.Coordination;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import io.dmtree.workloads.kv.DmtreeSystem;
import io.dmtree.workloads.kv.IndexSession;
import io.dmtree.workloads.kv.KvSession;
import io.dmtree.workloads.kv.KvShape;
import io.dmtree.workloads.kv.KvSystem;
import io.dmtree.workloads.kv.MemoryNodeMetered;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * dmtree over the {@code tcp} carrier on loopback, in this JVM, with protection on or off: one
 * memory node with membership (its embedded ZooKeeper, leases and epoch checks in both modes) and
 * {@code computeNodes} compute nodes joined through the control plane. Protection on is what a
 * cluster starts with: a cluster secret every connection proves by mutual challenge, and every
 * tcp verb checked against its sender's leased rights. Off: no secret, {@code tcp.rights=off}
 * (bounds checks only). Worker {@code t} uses compute node {@code t mod computeNodes}.
 */
final class ProtectedTcpSystem implements KvSystem, MemoryNodeMetered {
    static final String NAME = "dmtree-tcp";

    private final boolean protection;
    /** With protection: whether the chunk table's per-owner rules are on ({@code tcp.chunk-owners}). */
    private final boolean chunkOwners;
    private final Path dir;
    private final MemoryNodeServer memoryNode;
    private final List<RemoteComputeNode> computeNodes;
    private final String lock;

    private ProtectedTcpSystem(boolean protection, boolean chunkOwners, Path dir, MemoryNodeServer memoryNode,
                               List<RemoteComputeNode> computeNodes, String lock) {
        this.protection = protection;
        this.chunkOwners = chunkOwners;
        this.dir = dir;
        this.memoryNode = memoryNode;
        this.computeNodes = computeNodes;
        this.lock = lock;
    }

    static ProtectedTcpSystem start(boolean protection, KvShape shape, int computeNodes, String lock, Duration lease) {
        return start(protection, protection, shape, computeNodes, lock, lease);
    }

    /**
     * ... and with protection, the chunk table's per-owner rules on or off ({@code chunkOwners}:
     * off leaves the secret and the range rights on, to measure those rules alone).
     */
    static ProtectedTcpSystem start(boolean protection, boolean chunkOwners, KvShape shape, int computeNodes, String lock,
                                    Duration lease) {
        if (chunkOwners && !protection) {
            throw new IllegalArgumentException("the chunk table's per-owner rules need protection on");
        }
        ClusterConfig config = EmbeddedCluster.builder().computeNodes(computeNodes).keyBytes(shape.keyBytes())
                .valueBytes(shape.valueBytes()).lock(lock).config();
        MemoryNodeConfig region = new MemoryNodeConfig(DmtreeSystem.regionBytes(config, shape.entries()), config.chunkBytes(),
                config.lockTableBytes());
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        ClusterSecret secret = protection ? ClusterSecret.generate() : null;
        Path dir = null;
        MemoryNodeServer mn = null;
        List<RemoteComputeNode> cns = new ArrayList<>();
        try {
            dir = Files.createTempDirectory("dmtree-patronus-" + (protection ? "on" : "off"));
            MemoryNodeOptions o = MemoryNodeOptions.of(0, loopback, region, "tcp", dir)
                    .withCoordination(Coordination.embedded(loopback, lease));
            o = protection ? o.withSecret(secret)
                    : o.withCarrierOptions(CarrierOptions.NONE.with(TcpCarrierServer.RIGHTS, "off"));
            if (protection && !chunkOwners) {
                o = o.withCarrierOptions(CarrierOptions.NONE.with(TcpCarrierServer.CHUNK_OWNERS, "off"));
            }
            mn = MemoryNodeServer.start(o);
            ClusterClient.Options co = ClusterClient.Options.of(List.of(mn.address())).withTimeoutMillis(20_000)
                    .withMessaging(loopback, null).withSecret(secret);
            TreeConfig tree = config.tree();
            for (int i = 0; i < computeNodes; i++) {
                cns.add(RemoteComputeNode.join(co, new IndexShape(shape.keyBytes(), shape.valueBytes(), null, lock), tree,
                        RemoteComputeNode.DEFAULT_MAX_COMPUTE_NODES,
                        Math.max(ClusterConfig.defaults().threadsPerComputeNode(), shape.threads() + 1)));
            }
            return new ProtectedTcpSystem(protection, chunkOwners, dir, mn, cns, lock);
        } catch (IOException e) {
            close(cns, mn, dir);
            throw new UncheckedIOException("cannot start the tcp cluster: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close(cns, mn, dir);
            throw e;
        }
    }

    boolean protection() {
        return protection;
    }

    @Override
    public String name() {
        return NAME + (protection ? chunkOwners ? " protection-on" : " protection-on-chunk-owners-off" : " protection-off");
    }

    @Override
    public String setup() {
        return name() + ": 1 memory node (tcp, loopback, in this JVM, leases on), " + computeNodes.size() + " CN, lock " + lock
                + (protection ? ", cluster secret proved by every connection, every verb checked against its sender's rights"
                + (chunkOwners ? " and the chunk table's per-owner rules" : ", tcp.chunk-owners=off")
                : ", no secret, tcp.rights=off (bounds checks only)");
    }

    @Override
    public VerbCounts memoryNodeTraffic() {
        VerbCounts sum = VerbCounts.ZERO;
        for (RemoteComputeNode cn : computeNodes) {
            sum = sum.plus(cn.computeNode().verbs().totalCounts());
        }
        return sum;
    }

    @Override
    public DmIndex.CacheStats cacheStats() {
        long hits = 0;
        long misses = 0;
        long bytes = 0;
        long capacity = 0;
        for (RemoteComputeNode cn : computeNodes) {
            DmIndex.CacheStats s = cn.index().cacheStats();
            hits += s.hits();
            misses += s.misses();
            bytes += s.bytes();
            capacity += s.capacityBytes();
        }
        return new DmIndex.CacheStats(hits, misses, bytes, capacity);
    }

    @Override
    public KvSession openSession(int thread) {
        return new IndexSession(computeNodes.get(thread % computeNodes.size()).index());
    }

    @Override
    public void close() {
        close(computeNodes, memoryNode, dir);
    }

    private static void close(List<RemoteComputeNode> cns, MemoryNodeServer mn, Path dir) {
        for (RemoteComputeNode cn : cns) {
            try {
                cn.close();
            } catch (RuntimeException ignored) {
                // closing the rest anyway
            }
        }
        if (mn != null) {
            mn.close();
        }
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException ignored) {
                // a temporary directory left behind
            }
        }
    }
}
