package io.dmtree.workloads.ycsb;

import java.util.SplittableRandom;

/**
 * Item numbers {@code 0 .. n-1} drawn with probability proportional to {@code 1 / (rank+1)^theta},
 * item 0 the most popular, by the constant-time method of Gray et al. ("Quickly generating
 * billion-record synthetic databases", SIGMOD 1994): with {@code u} uniform in [0, 1),
 * {@code zeta_n = zeta(n, theta)}, {@code alpha = 1 / (1 - theta)} and
 * {@code eta = (1 - (2/n)^(1-theta)) / (1 - zeta(2, theta) / zeta_n)}, the draw is 0 when
 * {@code u * zeta_n < 1}, 1 when it is below {@code 1 + 0.5^theta}, and otherwise
 * {@code floor(n * (eta * u - eta + 1)^alpha)}.
 *
 * <p>The item count may grow between draws (records inserted while a workload runs):
 * {@code zeta_n} is then extended by the new terms rather than recomputed. Not thread-safe; the
 * runner draws every operation on one thread before the run starts.
 */
public final class ZipfianGenerator {
    public static final double YCSB_THETA = 0.99;

    private final double theta;
    private final double alpha;
    private final double zeta2;
    private final double halfPowTheta;
    private long items;
    private double zetaN;
    private double eta;

    public ZipfianGenerator(long items, double theta) {
        this(items, theta, Zeta.of(items, theta));
    }

    /** With {@code zetaN = zeta(items, theta)} already known. */
    public ZipfianGenerator(long items, double theta, double zetaN) {
        Zeta.checkTheta(theta);
        if (items < 1) {
            throw new IllegalArgumentException("a zipfian distribution needs at least one item: " + items);
        }
        this.theta = theta;
        this.alpha = 1.0 / (1.0 - theta);
        this.zeta2 = Zeta.of(2, theta);
        this.halfPowTheta = Math.pow(0.5, theta);
        this.items = items;
        this.zetaN = zetaN;
        this.eta = eta(items);
    }

    private double eta(long n) {
        return (1 - Math.pow(2.0 / n, 1 - theta)) / (1 - zeta2 / zetaN);
    }

    public long items() {
        return items;
    }

    public double zetaN() {
        return zetaN;
    }

    /** A draw over the current item count. */
    public long next(SplittableRandom random) {
        double u = random.nextDouble();
        double uz = u * zetaN;
        if (uz < 1.0) {
            return 0;
        }
        if (uz < 1.0 + halfPowTheta) {
            return 1;
        }
        long r = (long) (items * Math.pow(eta * u - eta + 1, alpha));
        return Math.min(r, items - 1);
    }

    /** A draw over {@code items} items, first growing the distribution to that count (it never shrinks). */
    public long next(SplittableRandom random, long items) {
        if (items > this.items) {
            zetaN = Zeta.extend(this.items, items, theta, zetaN);
            this.items = items;
            eta = eta(items);
        } else if (items < this.items) {
            throw new IllegalArgumentException("zipfian item count may only grow: " + this.items + " -> " + items);
        }
        return next(random);
    }
}
