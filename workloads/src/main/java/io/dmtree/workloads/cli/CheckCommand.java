package io.dmtree.workloads.cli;

import io.dmtree.cn.EmbeddedCluster;
import io.dmtree.lock.LockDesigns;
import io.dmtree.workloads.check.MutationCheck;
import io.dmtree.workloads.kv.DmtreeSystem;
import io.dmtree.workloads.ycsb.KeySpace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code dmtree check}: concurrent puts and deletes on an embedded cluster, then the tree checker. */
@Command(name = "check", sortOptions = false, mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {
                "Runs concurrent puts and deletes on an embedded cluster, then checks the tree.",
                "Starts an embedded cluster, runs a seeded concurrent mix of puts and deletes (each key written by one"
                        + " thread, neighbouring keys by different threads), then runs the tree checker and compares every"
                        + " key with a model. Prints the tree report; exits 1 when the tree or its contents are wrong.",
                "--drain then deletes every key and checks that merges and root shrinks took the tree back to one leaf."})
public final class CheckCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    private static int total(io.dmtree.core.tree.TreeReport report) {
        return report.nodesPerLevel().stream().mapToInt(Integer::intValue).sum();
    }

    @Option(names = {"-r", "--records"}, defaultValue = "20000", description = "distinct keys the threads write")
    long records;

    @Option(names = {"-n", "--operations"}, defaultValue = "200000", description = "puts and deletes in all")
    long operations;

    @Option(names = "--deletes", defaultValue = "30", paramLabel = "PERCENT", description = "share of deletes, 0..100")
    int deletePercent;

    @Option(names = {"-t", "--threads"}, defaultValue = "2", description = "threads")
    int threads;

    @Option(names = "--cns", defaultValue = "2", description = "compute nodes; thread t uses node t mod cns")
    int computeNodes;

    @Option(names = "--mns", defaultValue = "1", description = "memory nodes")
    int memoryNodes;

    @Option(names = "--key-size", defaultValue = "8", description = "key width in bytes, 1..64")
    int keySize;

    @Option(names = "--value-size", defaultValue = "8", description = "value width in bytes, 1..256")
    int valueSize;

    @Option(names = "--seed", description = "seed (default: drawn at random and printed)")
    Long seed;

    @Option(names = "--lock", paramLabel = "NAME", description = "lock design (default: ${DEFAULT-VALUE})")
    String lock = LockDesigns.defaultName();

    @Option(names = "--drain", description = "then delete every key concurrently and check that the tree shrank back to one"
            + " leaf; prints the nodes per level before and after and the nodes removed")
    boolean drain;

    @Option(names = "--reuse", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "free merged-away nodes' blocks for reuse (on by default; --no-reuse keeps removed nodes)")
    boolean reuse = true;

    @Override
    public Integer call() {
        OptionChecks.inRange(spec, "--records", records, 1, Integer.MAX_VALUE - 16);
        OptionChecks.inRange(spec, "--operations", operations, 1, Long.MAX_VALUE / 2);
        OptionChecks.inRange(spec, "--deletes", deletePercent, 0, 100);
        OptionChecks.inRange(spec, "--threads", threads, 1, 4096);
        OptionChecks.inRange(spec, "--cns", computeNodes, 1, 64);
        OptionChecks.inRange(spec, "--mns", memoryNodes, 1, 64);
        OptionChecks.inRange(spec, "--key-size", keySize, 1, 64);
        OptionChecks.inRange(spec, "--value-size", valueSize, 1, 256);
        if (!LockDesigns.names().contains(lock)) {
            throw OptionChecks.usage(spec, "unknown lock design '" + lock + "'; known: " + String.join(", ", LockDesigns.names()));
        }
        long s = seed != null ? seed : new java.security.SecureRandom().nextLong();
        KeySpace keys = new KeySpace(keySize, s);
        if (records > keys.capacity()) {
            throw OptionChecks.usage(spec, "--records " + records + " does not fit into " + keySize + "-byte keys (at most "
                    + keys.capacity() + " distinct keys)");
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "dmtree check: seed %d, %,d keys, %,d operations (%d%% deletes), %d threads, %d CN, %d MN, "
                        + "lock %s, %d-byte keys, %d-byte values%n", s, records, operations, deletePercent, threads,
                computeNodes, memoryNodes, lock, keySize, valueSize);
        out.flush();
        MutationCheck.Result result;
        MutationCheck.Drain drained = null;
        EmbeddedCluster.Builder builder = EmbeddedCluster.builder()
                .computeNodes(computeNodes)
                .memoryNodes(memoryNodes)
                .keyBytes(keySize)
                .valueBytes(valueSize)
                .lock(lock)
                .threadsPerComputeNode(Math.max(256, threads));
        builder.regionBytes(DmtreeSystem.regionBytes(builder.config(), records));
        try (EmbeddedCluster cluster = builder.start()) {
            for (int cn = 0; cn < computeNodes; cn++) {
                cluster.computeNode(cn).tree().reusing(reuse);
            }
            MutationCheck.Settings settings = new MutationCheck.Settings(records, operations, threads, deletePercent, s);
            result = MutationCheck.run(cluster, settings);
            if (drain && result.ok()) {
                drained = MutationCheck.drain(cluster, settings);
            }
        }
        out.printf(Locale.ROOT, "mutations: %,d in %.2f s%n", operations, result.mutationNanos() / 1e9);
        out.println(result.report());
        if (result.problemCount() == 0 && result.report().keys() == result.expectedKeys()) {
            out.printf(Locale.ROOT, "contents: %,d keys present, every key as the model says%n", result.expectedKeys());
        } else {
            out.printf(Locale.ROOT, "contents: WRONG: %,d disagreements with the model; the model holds %,d keys, the checker"
                    + " counted %,d%n", result.problemCount(), result.expectedKeys(), result.report().keys());
            for (String p : result.problems()) {
                out.println("  " + p);
            }
        }
        boolean ok = result.ok();
        if (result.report().region() == null || result.report().region().leaked() != 0) {
            out.println("region: WRONG: " + (result.report().region() == null ? "not accounted for"
                    : result.report().region().leaked() + " bytes leaked"));
        }
        if (drained != null) {
            out.printf(Locale.ROOT, "drain: every key deleted in %.2f s, %,d nodes removed (nodes per level before %s, %d in all;"
                            + " after %s, %d in all)%n", drained.nanos() / 1e9, drained.nodesRemoved(),
                    result.report().nodesPerLevel(), total(result.report()), drained.report().nodesPerLevel(),
                    total(drained.report()));
            out.println(drained.report());
            if (!drained.ok()) {
                out.println("drain: WRONG: the drained tree should be one sound, empty leaf");
            }
            ok &= drained.ok();
        }
        out.println(ok ? "OK" : "BROKEN (seed " + s + ")");
        out.flush();
        return ok ? 0 : DmtreeCli.EXIT_FAILED;
    }
}
