package io.dmtree.workloads.ycsb;

/**
 * The generalized harmonic number {@code zeta(n, theta) = sum_{i=1..n} i^-theta} that normalizes a
 * zipfian distribution over {@code n} items.
 *
 * <p>Up to {@link #EXACT_LIMIT} terms are summed directly. Beyond, the first {@code EXACT_LIMIT}
 * terms are summed and the tail {@code sum_{i=m+1..n} f(i)} with {@code f(x) = x^-theta} is taken
 * from the Euler-Maclaurin formula
 * {@code integral_m^n f + (f(n) - f(m)) / 2 + (f'(n) - f'(m)) / 12}; with {@code m = 10^6} the
 * neglected terms are below {@code 10^-20}, far under the rounding of the direct sum.
 */
public final class Zeta {
    public static final long EXACT_LIMIT = 1_000_000L;

    private Zeta() {
    }

    /** {@code zeta(n, theta)} for {@code n >= 0} and {@code 0 < theta < 1}. */
    public static double of(long n, double theta) {
        checkTheta(theta);
        if (n < 0) {
            throw new IllegalArgumentException("item count must not be negative: " + n);
        }
        if (n <= EXACT_LIMIT) {
            return extend(0, n, theta, 0.0);
        }
        double m = EXACT_LIMIT;
        double x = n;
        double head = extend(0, EXACT_LIMIT, theta, 0.0);
        double integral = (Math.pow(x, 1 - theta) - Math.pow(m, 1 - theta)) / (1 - theta);
        double ends = (Math.pow(x, -theta) - Math.pow(m, -theta)) / 2;
        double slopes = (-theta * Math.pow(x, -theta - 1) + theta * Math.pow(m, -theta - 1)) / 12;
        return head + integral + ends + slopes;
    }

    /** {@code zetaOfFrom + sum_{i=from+1..to} i^-theta}: grows a known {@code zeta(from)} to {@code zeta(to)}. */
    public static double extend(long from, long to, double theta, double zetaOfFrom) {
        if (to < from) {
            throw new IllegalArgumentException("cannot shrink zeta from " + from + " to " + to);
        }
        double sum = zetaOfFrom;
        for (long i = from + 1; i <= to; i++) {
            sum += 1.0 / Math.pow(i, theta);
        }
        return sum;
    }

    static void checkTheta(double theta) {
        if (!(theta > 0 && theta < 1)) {
            throw new IllegalArgumentException("zipfian constant must be in (0, 1): " + theta);
        }
    }
}
