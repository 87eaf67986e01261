package io.dmtree.workloads.ycsb;

import java.util.SplittableRandom;

/**
 * Zipfian popularity spread over the item range instead of piled on its low end: a zipfian draw
 * over a fixed space of {@link #SPACE} items is FNV-1a hashed and reduced modulo the item count,
 * so the most popular items are scattered and the same item stays popular however many items
 * there are. The constant {@code zeta(SPACE, 0.99)} is computed once and shared.
 */
public final class ScrambledZipfianGenerator {
    /** Size of the hidden zipfian space. */
    public static final long SPACE = 10_000_000_000L;
    private static volatile double zetaSpace099 = Double.NaN;

    private final long items;
    private final ZipfianGenerator zipfian;

    public ScrambledZipfianGenerator(long items, double theta) {
        if (items < 1) {
            throw new IllegalArgumentException("a zipfian distribution needs at least one item: " + items);
        }
        this.items = items;
        this.zipfian = new ZipfianGenerator(SPACE, theta, zetaOfSpace(theta));
    }

    private static double zetaOfSpace(double theta) {
        if (theta != ZipfianGenerator.YCSB_THETA) {
            return Zeta.of(SPACE, theta);
        }
        double z = zetaSpace099;
        if (Double.isNaN(z)) {
            z = Zeta.of(SPACE, theta);
            zetaSpace099 = z;
        }
        return z;
    }

    public long items() {
        return items;
    }

    /** An item in {@code 0 .. items-1}. */
    public long next(SplittableRandom random) {
        return Fnv64.hash(zipfian.next(random)) % items;
    }
}
