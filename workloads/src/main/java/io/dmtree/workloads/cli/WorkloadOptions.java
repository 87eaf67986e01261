package io.dmtree.workloads.cli;

import io.dmtree.workloads.kv.Peer;
import io.dmtree.workloads.ycsb.CoreWorkload;
import io.dmtree.workloads.ycsb.KeySpace;
import io.dmtree.workloads.ycsb.OperationStream;
import io.dmtree.workloads.ycsb.RequestDistribution;
import io.dmtree.workloads.ycsb.YcsbSettings;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;

/**
 * The workload options {@code dmtree ycsb} and {@code dmtree cn} share (a picocli mixin): which
 * core workload, how many records and operations, threads, key and value widths, seed. Every check
 * is a usage error of the command that mixes them in.
 */
final class WorkloadOptions {
    @Option(names = {"-w", "--workload"}, defaultValue = "A", description = "core workload: A, B, C, D, E or F")
    String workload;

    @Option(names = "--distribution", paramLabel = "NAME",
            description = "request distribution instead of the workload's own: zipfian, uniform or latest")
    String distribution;

    @Option(names = {"-r", "--records"}, defaultValue = "100000", description = "records loaded before the run phase")
    long records;

    @Option(names = {"-n", "--operations"}, defaultValue = "200000", description = "operations in the run phase")
    long operations;

    @Option(names = {"-t", "--threads"}, defaultValue = "2", description = "worker threads")
    int threads;

    /** Checks the workload choice and the counts; called before the command's own checks. */
    void checkHead(CommandSpec spec) {
        workload(spec);
        distribution(spec);
        OptionChecks.inRange(spec, "--records", records, 1, Long.MAX_VALUE / 2);
        OptionChecks.inRange(spec, "--operations", operations, 1, OperationStream.MAX_OPERATIONS);
        OptionChecks.inRange(spec, "--threads", threads, 1, 4096);
    }

    private CoreWorkload workload(CommandSpec spec) {
        try {
            return CoreWorkload.byName(workload);
        } catch (IllegalArgumentException e) {
            throw OptionChecks.usage(spec, e.getMessage());
        }
    }

    private RequestDistribution distribution(CommandSpec spec) {
        if (distribution == null) {
            return workload(spec).distribution();
        }
        try {
            return RequestDistribution.valueOf(distribution.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw OptionChecks.usage(spec, "unknown distribution '" + distribution + "'; known: zipfian, uniform, latest");
        }
    }

    /** The widths, seed and sizes checked; the settings with the command's own choices. */
    YcsbSettings settings(CommandSpec spec, WidthOptions widths, int computeNodes, int memoryNodes, List<String> locks,
                          List<Peer> peers, int slices) {
        checkHead(spec);
        OptionChecks.inRange(spec, "--key-size", widths.keySize, 1, 64);
        OptionChecks.inRange(spec, "--value-size", widths.valueSize, 1, 256);
        long streamBytes = operations * (Long.BYTES + 2);
        if (streamBytes > Runtime.getRuntime().maxMemory() / 2) {
            throw OptionChecks.usage(spec, "--operations " + operations + " needs about " + (streamBytes >> 20)
                    + " MiB for the pre-drawn stream, more than half the heap (" + (Runtime.getRuntime().maxMemory() >> 20)
                    + " MiB); raise it with -Xmx (DMTREE_JAVA_OPTS for scripts/dmtree) or run fewer operations");
        }
        KeySpace keys = new KeySpace(widths.keySize, widths.seed);
        if (records > keys.capacity()) {
            throw OptionChecks.usage(spec, "--records " + records + " does not fit into " + widths.keySize
                    + "-byte keys (at most " + keys.capacity() + " distinct keys)");
        }
        return new YcsbSettings(workload(spec), distribution(spec), records, (int) operations, threads, computeNodes,
                memoryNodes, widths.keySize, widths.valueSize, widths.seed, locks, peers, (int) Math.min(slices, operations));
    }

    /** Draws the settings' stream and checks its inserts fit the key space. */
    static OperationStream stream(CommandSpec spec, YcsbSettings settings) {
        OperationStream stream = OperationStream.generate(settings.workload(), settings.distribution(), settings.records(),
                settings.operations(), settings.seed());
        KeySpace keys = new KeySpace(settings.keyBytes(), settings.seed());
        if (settings.records() + stream.inserts() > keys.capacity()) {
            throw OptionChecks.usage(spec, "--records " + settings.records() + " plus the run phase's " + stream.inserts()
                    + " inserts do not fit into " + settings.keyBytes() + "-byte keys (at most " + keys.capacity()
                    + " distinct keys)");
        }
        return stream;
    }

    /** Key and value widths and the seed (a second mixin, so they keep their place in the help). */
    static final class WidthOptions {
        @Option(names = "--key-size", defaultValue = "8", description = "key width in bytes, 1..64")
        int keySize;

        @Option(names = "--value-size", defaultValue = "8", description = "value width in bytes, 1..256")
        int valueSize;

        @Option(names = "--seed", defaultValue = "1", description = "seed of the operation stream, keys and values")
        long seed;
    }
}
