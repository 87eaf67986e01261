package io.dmtree.workloads.protection;

import io.dmtree.cn.control.ClusterClient;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.AccessDeniedException;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.Coordination;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;
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
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code dmtree protection illegal-access}: how long a member is set back by a verb outside its
 * rights, on tcp. An in-process memory node with a cluster secret and membership serves one
 * compute node over loopback. Each trial posts an illegal verb (in turn: a WRITE and a CAS on the
 * read-only region header, a READ and an FAA on the reserved header bytes, which grant nothing),
 * which is refused with an {@link AccessDeniedException}, then at once a legal READ of the
 * member's own chunk; the figure is the time from posting the illegal verb to the legal verb's
 * completion. Each trial is paired with a baseline, in alternating order: a legal READ followed by
 * the same legal READ, timed alike. The difference of the two distributions is what the refusal
 * costs; on tcp the connection keeps working, so it is about one round trip. Measured with
 * HdrHistogram; a warm-up is not recorded.
 */
@Command(name = "illegal-access", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = {"Time from a verb outside the member's rights (refused) to its next successful verb, on tcp,"
                + " beside two legal verbs timed alike (measured)."})
public final class IllegalAccessCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--trials", defaultValue = "5000", description = "timed trials (each: one illegal pair, one baseline pair)")
    int trials;

    @Option(names = "--warmup", defaultValue = "500", description = "untimed trials first")
    int warmup;

    @Option(names = "--lease", defaultValue = "10000", paramLabel = "MS", description = "the member's lease")
    int leaseMillis;

    @Override
    public Integer call() throws Exception {
        if (trials < 1 || trials > 10_000_000 || warmup < 0 || warmup > 10_000_000 || leaseMillis < 1000) {
            throw new ParameterException(spec.commandLine(), "need --trials in [1, 10^7], --warmup in [0, 10^7], --lease >= 1000");
        }
        PrintWriter out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("dmtree-illegal-access");
        ClusterSecret secret = ClusterSecret.generate();
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        Histogram illegal = new Histogram(3);
        Histogram baseline = new Histogram(3);
        Histogram refusal = new Histogram(3);
        long refused = 0;
        try (MemoryNodeServer mn = MemoryNodeServer.start(MemoryNodeOptions.of(0, loopback,
                new MemoryNodeConfig(64L << 20, 1L << 20, 256L << 10), "tcp", dir).withSecret(secret)
                .withCoordination(Coordination.embedded(loopback, Duration.ofMillis(leaseMillis))));
             ClusterClient cn = ClusterClient.join(ClusterClient.Options.of(List.of(mn.address())).withTimeoutMillis(20_000)
                     .withMessaging(loopback, null).withSecret(secret))) {
            Verbs v = cn.verbs();
            long own = cn.chunkSource().allocateChunk(0);
            long header = GlobalAddress.of(0, RegionLayout.MAGIC_OFFSET);
            long reserved = GlobalAddress.of(0, RegionLayout.COORDINATION_WORDS_END); // the first reserved header byte
            UnsafeBuffer buf = new UnsafeBuffer(new byte[8]);
            for (int t = 0; t < warmup + trials; t++) {
                boolean timed = t >= warmup;
                boolean illegalFirst = (t & 1) == 0;
                for (int pass = 0; pass < 2; pass++) {
                    boolean bad = (pass == 0) == illegalFirst;
                    long start = System.nanoTime();
                    long refusedAt = 0;
                    if (bad) {
                        try {
                            switch (t & 3) {
                                case 0 -> v.write(header, buf, 0, 8);
                                case 1 -> v.cas(header, 0, 1);
                                case 2 -> v.read(reserved, buf, 0, 8);
                                default -> v.faa(reserved, 1);
                            }
                            out.println("dmtree protection illegal-access: an illegal verb was not refused (trial " + t + ")");
                            return 1;
                        } catch (AccessDeniedException e) {
                            refusedAt = System.nanoTime();
                            refused++;
                        }
                    } else {
                        v.read(own, buf, 0, 8);
                    }
                    v.read(own, buf, 0, 8); // the next verb, which must succeed
                    long end = System.nanoTime();
                    if (timed) {
                        (bad ? illegal : baseline).recordValue(end - start);
                        if (bad) {
                            refusal.recordValue(end - refusedAt);
                        }
                    }
                }
            }
        } finally {
            deleteTree(dir);
        }
        out.printf(Locale.ROOT, "dmtree protection illegal-access: tcp on loopback, %d trials after %d warm-up, %d verbs refused"
                + " (AccessDeniedException), connection kept; %d cores; MEASURED on a shared host%n", trials, warmup, refused,
                Runtime.getRuntime().availableProcessors());
        out.printf("%-46s %9s %9s %9s %9s %9s %9s%n", "us", "p50", "p90", "p99", "p99.9", "max", "mean");
        row(out, "illegal verb posted -> next verb succeeded", illegal);
        row(out, "legal verb posted -> next verb succeeded", baseline);
        row(out, "refusal returned -> next verb succeeded", refusal);
        out.printf(Locale.ROOT, "set back by a refusal (p50 difference): %.1f us%n",
                (illegal.getValueAtPercentile(50) - baseline.getValueAtPercentile(50)) / 1e3);
        out.flush();
        return 0;
    }

    private static void row(PrintWriter out, String name, Histogram h) {
        out.printf(Locale.ROOT, "%-46s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f%n", name, h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3,
                h.getMaxValue() / 1e3, h.getMean() / 1e3);
    }

    static void deleteTree(Path dir) {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (java.io.IOException ignored) {
            // a temporary directory left behind
        }
    }
}
