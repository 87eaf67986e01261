package io.dmtree.workloads.ycsb;

import java.util.SplittableRandom;

/**
 * Picks the record number an operation touches, given how many records exist so far
 * ({@code loaded records + inserts earlier in the stream}). Record numbers are insert order;
 * {@link KeySpace} maps them to keys.
 */
public interface KeyChooser {
    long next(SplittableRandom random, long existing);

    /**
     * The chooser for {@code distribution}, as YCSB's core workload builds it: uniform over the
     * loaded records; scrambled zipfian over the loaded records plus room for twice the expected
     * inserts, redrawn while it names a record not inserted yet; latest as a zipfian distance back
     * from the newest record.
     */
    static KeyChooser of(RequestDistribution distribution, long records, long expectedInserts) {
        switch (distribution) {
            case UNIFORM:
                return (random, existing) -> random.nextLong(records);
            case ZIPFIAN: {
                ScrambledZipfianGenerator g = new ScrambledZipfianGenerator(records + 2 * expectedInserts,
                        ZipfianGenerator.YCSB_THETA);
                return (random, existing) -> {
                    long r;
                    do {
                        r = g.next(random);
                    } while (r >= existing);
                    return r;
                };
            }
            case LATEST: {
                ZipfianGenerator g = new ZipfianGenerator(records, ZipfianGenerator.YCSB_THETA);
                return (random, existing) -> existing - 1 - g.next(random, existing);
            }
            default:
                throw new IllegalArgumentException("unknown distribution " + distribution);
        }
    }
}
