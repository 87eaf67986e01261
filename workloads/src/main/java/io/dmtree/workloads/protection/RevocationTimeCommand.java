package io.dmtree.workloads.protection;

import io.dmtree.cn.control.ClusterAdmin;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.core.memory.FencedException;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.Coordination;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code dmtree protection revocation}: how long a revocation takes to be in force on every memory
 * node. Each round starts {@code --memory-nodes} tcp memory nodes in this JVM (memory node 0 runs
 * the embedded ZooKeeper; all share a cluster secret). Each trial joins a fresh compute node, which
 * FAAs a chunk of its own on every memory node, then revokes it with {@link ClusterAdmin#revoke}
 * (the fence requested in the book, every memory node fences it on its carrier and control plane
 * and acknowledges, the admin wakes on the book's watch); the figure is {@code revoke}'s time from
 * the request to the last acknowledgement. Then the bench checks the compute node's next verb on
 * every memory node is refused and that none of them landed. Revoked compute nodes stay joined (their leases
 * live) until the round ends, so a round holds at most {@value #MAX_PER_ROUND} trials.
 */
@Command(name = "revocation", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = {"Time for `revoke` to be in force on every memory node (several tcp memory nodes, ZooKeeper"
                + " fence book; measured)."})
public final class RevocationTimeCommand implements Callable<Integer> {
    static final int MAX_PER_ROUND = 14;

    @Spec
    CommandSpec spec;

    @Option(names = "--memory-nodes", defaultValue = "3", description = "memory nodes of each round's cluster")
    int memoryNodes;

    @Option(names = "--trials", defaultValue = "12", description = "revocations per round (at most " + MAX_PER_ROUND + ")")
    int trials;

    @Option(names = "--rounds", defaultValue = "2", description = "rounds, each with a fresh cluster")
    int rounds;

    @Option(names = "--lease", defaultValue = "10000", paramLabel = "MS", description = "lease of every member")
    int leaseMillis;

    @Override
    public Integer call() throws Exception {
        if (memoryNodes < 1 || memoryNodes > 8 || trials < 1 || trials > MAX_PER_ROUND || rounds < 1 || rounds > 100
                || leaseMillis < 1000) {
            throw new ParameterException(spec.commandLine(), "need --memory-nodes in [1, 8], --trials in [1, " + MAX_PER_ROUND
                    + "], --rounds in [1, 100], --lease >= 1000");
        }
        PrintWriter out = spec.commandLine().getOut();
        Histogram took = new Histogram(3);
        for (int r = 0; r < rounds; r++) {
            String failed = round(took, out);
            if (failed != null) {
                spec.commandLine().getErr().println("dmtree protection revocation: " + failed);
                return 1;
            }
        }
        out.printf(Locale.ROOT, "dmtree protection revocation: %d memory nodes (tcp, loopback, one JVM, ZooKeeper fence book),"
                        + " %d revocations in %d rounds, each checked refused on every memory node; %d cores; MEASURED on a"
                        + " shared host%n", memoryNodes, took.getTotalCount(), rounds,
                Runtime.getRuntime().availableProcessors());
        out.printf("%-44s %9s %9s %9s %9s %9s%n", "ms", "p50", "p90", "max", "min", "mean");
        out.printf(Locale.ROOT, "%-44s %9.2f %9.2f %9.2f %9.2f %9.2f%n", "revoke -> fenced on every memory node",
                took.getValueAtPercentile(50) / 1e6, took.getValueAtPercentile(90) / 1e6, took.getMaxValue() / 1e6,
                took.getMinValue() / 1e6, took.getMean() / 1e6);
        out.flush();
        return 0;
    }

    /** One round; null, or why a revocation did not hold. */
    private String round(Histogram took, PrintWriter out) throws Exception {
        Path dir = Files.createTempDirectory("dmtree-revocation");
        ClusterSecret secret = ClusterSecret.generate();
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        Duration lease = Duration.ofMillis(leaseMillis);
        MemoryNodeConfig region = new MemoryNodeConfig(16L << 20, 256L << 10, 64L << 10);
        List<MemoryNodeServer> mns = new ArrayList<>();
        List<ClusterClient> revoked = new ArrayList<>();
        try {
            mns.add(MemoryNodeServer.start(MemoryNodeOptions.of(0, loopback, region, "tcp", dir.resolve("mn0")).withSecret(secret)
                    .withCoordination(Coordination.embedded(loopback, lease))));
            for (int i = 1; i < memoryNodes; i++) {
                mns.add(MemoryNodeServer.start(MemoryNodeOptions.of(i, loopback, region, "tcp", dir.resolve("mn" + i))
                        .withSecret(secret).withCoordination(Coordination.zooKeeper(mns.get(0).membership().connectString(), lease))));
            }
            List<InetSocketAddress> addresses = mns.stream().map(MemoryNodeServer::address).toList();
            ClusterClient.Options o = ClusterClient.Options.of(addresses).withTimeoutMillis(20_000)
                    .withMessaging(loopback, null).withSecret(secret);
            try (ClusterAdmin admin = ClusterAdmin.connect(addresses.get(0), 20_000, secret)) {
                for (int t = 0; t < trials; t++) {
                    ClusterClient cn = ClusterClient.join(o);
                    revoked.add(cn);
                    long[] chunks = new long[memoryNodes];
                    for (int mn = 0; mn < memoryNodes; mn++) {
                        chunks[mn] = cn.chunkSource().allocateChunk(mn);
                        cn.verbs().faa(chunks[mn], 1);
                    }
                    ClusterAdmin.Revocation r = admin.revoke(cn.computeNodeId(), Duration.ofSeconds(30));
                    took.recordValue(r.nanos());
                    for (long c : chunks) {
                        try {
                            cn.verbs().faa(c, 1);
                            return "compute node " + cn.computeNodeId() + "'s verb on memory node " + GlobalAddress.memoryNode(c)
                                    + " was served after revoke returned";
                        } catch (FencedException expected) {
                            // in force there
                        }
                    }
                }
            }
            return null;
        } finally {
            for (ClusterClient c : revoked) {
                try {
                    c.close();
                } catch (RuntimeException ignored) {
                    // a revoked member's close may fail; closing the rest
                }
            }
            for (int i = mns.size() - 1; i >= 0; i--) {
                mns.get(i).close();
            }
            IllegalAccessCommand.deleteTree(dir);
        }
    }
}
