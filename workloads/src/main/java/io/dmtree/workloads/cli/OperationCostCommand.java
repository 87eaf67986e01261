package io.dmtree.workloads.cli;

import io.dmtree.cn.Cursor;
import io.dmtree.cn.DmIndex;
import io.dmtree.cn.EmbeddedCluster;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.KeyOrder;
import io.dmtree.lock.LockDesigns;
import io.dmtree.workloads.kv.DmtreeSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;

/**
 * {@code dmtree opcost}: the exact MN cost of each index operation, uncontended with a warm cache:
 * round trips, verbs and bytes per operation (and per key for the batches), from the counters.
 */
@Command(name = "opcost", sortOptions = false, mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {
                "Prints the memory-node cost of every index operation: round trips, verbs and bytes per operation.",
                "Loads an embedded cluster with 8-byte keys and values, warms the index cache, then runs each operation"
                        + " --samples times on random keys from one thread and divides the compute node's verb counters"
                        + " (exact counts, not timings). Batches are also shown per key."})
public final class OperationCostCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-r", "--records"}, defaultValue = "100000", description = "keys loaded (0, 2, 4, ...: every other key is absent)")
    int records;

    @Option(names = "--samples", defaultValue = "2000", description = "operations measured per kind")
    int samples;

    @Option(names = "--batch", defaultValue = "100", description = "keys per getAll/putAll and entries per scan")
    int batch;

    @Option(names = "--mns", defaultValue = "1", description = "memory nodes")
    int memoryNodes;

    @Option(names = "--lock", paramLabel = "NAME", description = "lock design (default: ${DEFAULT-VALUE})")
    String lock = LockDesigns.defaultName();

    @Option(names = "--value-length", defaultValue = "-1", paramLabel = "BYTES",
            description = "variable-length values of this many bytes in an index of variable-length values (-1: today's"
                    + " fixed 8-byte values)")
    int valueLength;

    @Option(names = "--value-slot", defaultValue = "32", paramLabel = "BYTES",
            description = "with --value-length: the leaf's value slot (values up to it less 4 bytes stay inline)")
    int valueSlot;

    @Option(names = "--key-length", defaultValue = "-1", paramLabel = "BYTES",
            description = "with --value-length: variable-length string keys of this many bytes (\"user\" and digits, padded"
                    + " with '0'), the index's longest key (-1: 8-byte keys)")
    int keyLength;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the keys drawn")
    long seed;

    private static byte[] k(long key) {
        return KeyOrder.longKeyBytes(key);
    }

    private static byte[] v(long value) {
        return ByteBuffer.allocate(8).putLong(value).array();
    }

    @Override
    public Integer call() {
        OptionChecks.inRange(spec, "--records", records, 1, 50_000_000);
        OptionChecks.inRange(spec, "--samples", samples, 1, 10_000_000);
        OptionChecks.inRange(spec, "--batch", batch, 1, 100_000);
        OptionChecks.inRange(spec, "--mns", memoryNodes, 1, 64);
        if (!LockDesigns.names().contains(lock)) {
            throw OptionChecks.usage(spec, "unknown lock design '" + lock + "'; known: " + String.join(", ", LockDesigns.names()));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (valueLength >= 0) {
            return variable(out);
        }
        EmbeddedCluster.Builder builder = EmbeddedCluster.builder().memoryNodes(memoryNodes).lock(lock);
        builder.regionBytes(DmtreeSystem.regionBytes(builder.config(), 2L * records));
        try (EmbeddedCluster cluster = builder.start()) {
            DmIndex index = cluster.index(0);
            List<DmIndex.Entry> load = new ArrayList<>();
            for (long i = 0; i < records; i++) {
                load.add(new DmIndex.Entry(k(2 * i), v(i)));
                if (load.size() == 1000) {
                    index.putAll(load);
                    load.clear();
                }
            }
            index.putAll(load);
            for (long i = 0; i < records; i++) {
                index.get(k(2 * i)); // warm the cache
            }
            Random rnd = new Random(seed);
            long span = 2L * records;
            out.printf(Locale.ROOT, "dmtree opcost: %,d keys (8-byte keys and values), %d MN, lock %s, height %d, %,d samples"
                    + " per kind, batches of %d; uncontended, warm cache; exact counters%n", records, memoryNodes, lock,
                    index.check().height(), samples, batch);
            out.printf(Locale.ROOT, "%-34s %12s %10s %12s %12s%n", "operation", "round trips", "verbs", "bytes", "per key RT");
            measure(out, index, "get (present)", 1, i -> index.get(k(2L * rnd.nextInt(records))));
            measure(out, index, "put (overwrite)", 1, i -> index.put(k(2L * rnd.nextInt(records)), v(i)));
            measure(out, index, "putIfAbsent (present: refused)", 1, i -> index.putIfAbsent(k(2L * rnd.nextInt(records)), v(i)));
            measure(out, index, "getAndPut", 1, i -> index.getAndPut(k(2L * rnd.nextInt(records)), v(i)));
            measure(out, index, "replace(key, expected, value)", 1, i -> {
                byte[] key = k(2L * rnd.nextInt(records));
                byte[] old = index.get(key);
                index.replace(key, old, v(i));
            });
            out.println("  (replace(key, expected, value) above includes the get that fetched the expected value)");
            measure(out, index, "compute (increment)", 1, i -> index.compute(k(2L * rnd.nextInt(records)),
                    old -> v(ByteBuffer.wrap(old).getLong() + 1)));
            measure(out, index, "ceiling (absent key)", 1, i -> index.ceiling(k(2L * rnd.nextInt(records) + 1)));
            measure(out, index, "floor (absent key)", 1, i -> index.floor(k(2L * rnd.nextInt(records) + 1)));
            measure(out, index, "higher", 1, i -> index.higher(k(2L * rnd.nextInt(records))));
            measure(out, index, "lower", 1, i -> index.lower(k(2L * rnd.nextInt(records))));
            measure(out, index, "first", 1, i -> index.first());
            measure(out, index, "last", 1, i -> index.last());
            measure(out, index, "getAll (" + batch + " random keys)", batch, i -> {
                List<byte[]> keys = new ArrayList<>(batch);
                for (int j = 0; j < batch; j++) {
                    keys.add(k(rnd.nextInt((int) Math.min(Integer.MAX_VALUE, span))));
                }
                index.getAll(keys);
            });
            measure(out, index, "putAll (" + batch + " random keys)", batch, i -> {
                List<DmIndex.Entry> entries = new ArrayList<>(batch);
                for (int j = 0; j < batch; j++) {
                    entries.add(new DmIndex.Entry(k(2L * rnd.nextInt(records)), v(j)));
                }
                index.putAll(entries);
            });
            measure(out, index, "putAll (" + batch + " adjacent keys)", batch, i -> {
                long start = 2L * rnd.nextInt(Math.max(1, records - batch));
                List<DmIndex.Entry> entries = new ArrayList<>(batch);
                for (int j = 0; j < batch; j++) {
                    entries.add(new DmIndex.Entry(k(start + 2L * j), v(j)));
                }
                index.putAll(entries);
            });
            measure(out, index, "scan (" + batch + " entries)", batch, i -> index.scan(k(2L * rnd.nextInt(records)), batch));
            measure(out, index, "reverseScan (" + batch + " entries)", batch,
                    i -> index.reverseScan(k(2L * rnd.nextInt(records)), batch));
            measure(out, index, "cursor (" + batch + " entries, batch 32)", batch, i -> {
                Cursor c = index.cursor(k(2L * rnd.nextInt(records)), null, rnd.nextBoolean(), 32);
                for (int j = 0; j < batch && c.hasNext(); j++) {
                    c.next();
                }
            });
            int sizeSamples = Math.max(1, Math.min(samples, 20));
            VerbCounts before = index.memoryNodeTraffic();
            for (int i = 0; i < sizeSamples; i++) {
                index.approximateSize();
            }
            VerbCounts size = index.memoryNodeTraffic().minus(before);
            out.printf(Locale.ROOT, "%-34s %12.2f %10.2f %12.0f   (one READ per leaf: %,d leaves)%n", "approximateSize",
                    size.roundTrips() / (double) sizeSamples, size.verbs() / (double) sizeSamples,
                    size.bytes() / (double) sizeSamples, index.check().nodesPerLevel().get(0));
            out.flush();
        }
        return 0;
    }

    /** The point operations on an index of variable-length values, every value {@code valueLength} bytes. */
    private Integer variable(PrintWriter out) {
        OptionChecks.inRange(spec, "--value-length", valueLength, 0, io.dmtree.core.tree.ValueLayout.MAX_VALUE_BYTES);
        OptionChecks.inRange(spec, "--value-slot", valueSlot, io.dmtree.core.tree.ValueLayout.MIN_SLOT_BYTES,
                io.dmtree.core.tree.TreeConfig.MAX_VALUE_BYTES);
        EmbeddedCluster.Builder builder = EmbeddedCluster.builder().memoryNodes(memoryNodes).lock(lock).valueBytes(valueSlot)
                .variableValues(true);
        if (keyLength >= 0) {
            OptionChecks.inRange(spec, "--key-length", keyLength, 12, io.dmtree.core.tree.KeyLayout.MAX_KEY_BYTES);
            builder.variableKeys(keyLength);
        }
        java.util.function.LongFunction<byte[]> k = keyLength < 0 ? OperationCostCommand::k : i -> stringKey(i, keyLength);
        long blockBytes = (long) (valueLength + 16 + builder.config().tree().nodeBytes()) / builder.config().tree().nodeBytes()
                * builder.config().tree().nodeBytes();
        builder.regionBytes(DmtreeSystem.regionBytes(builder.config(), 2L * records)
                + (valueLength > valueSlot - 4 ? 2L * (records + 3L * samples) * blockBytes / memoryNodes : 0));
        try (EmbeddedCluster cluster = builder.start()) {
            DmIndex index = cluster.index(0);
            io.dmtree.core.tree.VariableValues values = index.values();
            Random rnd = new Random(seed);
            byte[] value = new byte[valueLength];
            rnd.nextBytes(value);
            for (long i = 0; i < records; i++) {
                values.put(k.apply(2 * i), value);
            }
            for (long i = 0; i < records; i++) {
                values.get(k.apply(2 * i)); // warm the cache
            }
            out.printf(Locale.ROOT, "dmtree opcost: %,d keys (%s keys, %d-byte values, variable-length values in"
                    + " %d-byte slots: %s), %d MN, lock %s, height %d, %,d samples per kind; uncontended, warm cache;"
                    + " exact counters%n", records, keyLength < 0 ? "8-byte" : keyLength + "-byte variable-length string",
                    valueLength, valueSlot,
                    valueLength > valueSlot - 4 ? "value blocks" : "inline", memoryNodes, lock, index.check().height(),
                    samples);
            out.printf(Locale.ROOT, "%-34s %12s %10s %12s %12s%n", "operation", "round trips", "verbs", "bytes", "per key RT");
            measure(out, index, "get (present)", 1, i -> values.get(k.apply(2L * rnd.nextInt(records))));
            measure(out, index, "put (overwrite)", 1, i -> values.put(k.apply(2L * rnd.nextInt(records)), value));
            measure(out, index, "putIfAbsent (present: refused)", 1, i -> values.putIfAbsent(k.apply(2L * rnd.nextInt(records)), value));
            measure(out, index, "getAndPut", 1, i -> values.getAndPut(k.apply(2L * rnd.nextInt(records)), value));
            measure(out, index, "compute (same length)", 1, i -> values.compute(k.apply(2L * rnd.nextInt(records)), old -> value));
            out.printf(Locale.ROOT, "value blocks written %,d, freed blocks %,d, stale value reads %,d; leaked bytes %,d%n",
                    values.blocksWritten(), values.blocksFreed(), values.staleReads(), index.check().leakedBytes());
            out.flush();
        }
        return 0;
    }

    /** "user" and {@code i}, padded with '0' to {@code len} bytes (YCSB's key names, of one length). */
    private static byte[] stringKey(long i, int len) {
        String digits = Long.toString(i);
        StringBuilder b = new StringBuilder(len).append("user");
        while (b.length() + digits.length() < len) {
            b.append('0');
        }
        return b.append(digits).toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    private void measure(PrintWriter out, DmIndex index, String name, int keysPerOp, IntConsumer op) {
        for (int i = 0; i < Math.min(100, samples); i++) {
            op.accept(i); // warm: the JIT and any cache entry the first operations miss
        }
        VerbCounts before = index.memoryNodeTraffic();
        for (int i = 0; i < samples; i++) {
            op.accept(i);
        }
        VerbCounts c = index.memoryNodeTraffic().minus(before);
        double rt = c.roundTrips() / (double) samples;
        out.printf(Locale.ROOT, "%-34s %12.2f %10.2f %12.0f %12s%n", name, rt, c.verbs() / (double) samples,
                c.bytes() / (double) samples, keysPerOp > 1 ? String.format(Locale.ROOT, "%.3f", rt / keysPerOp) : "");
    }
}
