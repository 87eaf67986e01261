package io.dmtree.workloads.ycsb;

import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The run phase of a workload, drawn in full before anything runs so that every system executes
 * the identical sequence: same operation types, same records, same scan lengths, same insert
 * records. Operation {@code j} goes to thread {@code j mod threads}.
 *
 * <p>Drawing follows YCSB's core workload from one seeded generator, in stream order: the type
 * from the workload's mix; an insert takes the next record number ({@code records},
 * {@code records + 1}, ...); every other operation asks the {@link KeyChooser} for a record among
 * those inserted earlier in the stream; a scan also draws its length uniformly from
 * {@code 1 .. MAX_SCAN_LENGTH}.
 */
public final class OperationStream {
    public static final int MAX_OPERATIONS = Integer.MAX_VALUE - 16;

    private final CoreWorkload workload;
    private final RequestDistribution distribution;
    private final long records;
    private final long seed;
    private final byte[] types;
    private final long[] recordOf;
    private final byte[] scanLengths;
    private final long inserts;
    private final Map<OperationType, Long> counts;

    private OperationStream(CoreWorkload workload, RequestDistribution distribution, long records, long seed,
                            byte[] types, long[] recordOf, byte[] scanLengths, long inserts,
                            Map<OperationType, Long> counts) {
        this.workload = workload;
        this.distribution = distribution;
        this.records = records;
        this.seed = seed;
        this.types = types;
        this.recordOf = recordOf;
        this.scanLengths = scanLengths;
        this.inserts = inserts;
        this.counts = counts;
    }

    /** Draws {@code operations} operations of {@code workload} over {@code records} loaded records. */
    public static OperationStream generate(CoreWorkload workload, RequestDistribution distribution, long records,
                                           int operations, long seed) {
        if (records < 1) {
            throw new IllegalArgumentException("records must be positive: " + records);
        }
        if (operations < 1 || operations > MAX_OPERATIONS) {
            throw new IllegalArgumentException("operations must be in [1, " + MAX_OPERATIONS + "]: " + operations);
        }
        OperationType[] all = OperationType.values();
        double[] cumulative = new double[all.length];
        double sum = 0;
        for (OperationType t : all) {
            sum += workload.proportion(t);
            cumulative[t.ordinal()] = sum;
        }
        long expectedInserts = (long) (operations * workload.proportion(OperationType.INSERT));
        KeyChooser chooser = KeyChooser.of(distribution, records, expectedInserts);
        boolean scans = workload.proportion(OperationType.SCAN) > 0;

        SplittableRandom random = new SplittableRandom(seed);
        byte[] types = new byte[operations];
        long[] recordOf = new long[operations];
        byte[] scanLengths = scans ? new byte[operations] : null;
        long[] perType = new long[all.length];
        long existing = records;
        for (int j = 0; j < operations; j++) {
            double u = random.nextDouble() * sum;
            OperationType type = all[all.length - 1];
            for (OperationType t : all) {
                if (workload.proportion(t) > 0 && u < cumulative[t.ordinal()]) {
                    type = t;
                    break;
                }
            }
            types[j] = type.code();
            perType[type.ordinal()]++;
            if (type == OperationType.INSERT) {
                recordOf[j] = existing++;
            } else {
                recordOf[j] = chooser.next(random, existing);
            }
            if (type == OperationType.SCAN) {
                scanLengths[j] = (byte) (1 + random.nextInt(CoreWorkload.MAX_SCAN_LENGTH));
            }
        }
        Map<OperationType, Long> counts = new EnumMap<>(OperationType.class);
        for (OperationType t : all) {
            if (perType[t.ordinal()] > 0) {
                counts.put(t, perType[t.ordinal()]);
            }
        }
        return new OperationStream(workload, distribution, records, seed, types, recordOf, scanLengths,
                existing - records, counts);
    }

    public CoreWorkload workload() {
        return workload;
    }

    public RequestDistribution distribution() {
        return distribution;
    }

    public long seed() {
        return seed;
    }

    /** Records loaded before the run phase. */
    public long records() {
        return records;
    }

    public int size() {
        return types.length;
    }

    /** Inserts in the stream; they add records {@code records .. records+inserts-1}. */
    public long inserts() {
        return inserts;
    }

    /** Operations of each type that occurs in the stream. */
    public Map<OperationType, Long> counts() {
        return counts;
    }

    public OperationType type(int j) {
        return OperationType.ofCode(types[j]);
    }

    public int typeCode(int j) {
        return types[j];
    }

    /** The record operation {@code j} touches (the new record for an insert). */
    public long record(int j) {
        return recordOf[j];
    }

    /** Entries operation {@code j} scans; 0 when it is not a scan. */
    public int scanLength(int j) {
        return scanLengths == null ? 0 : scanLengths[j];
    }
}
