package io.dmtree.workloads.ycsb;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shape of the zipfian draws, compared with the exact probabilities of Gray et al.'s method. */
class ZipfianGeneratorTest {
    private static final double THETA = ZipfianGenerator.YCSB_THETA;

    @Test
    void zetaOfTheScrambledSpaceMatchesThePublishedConstant() {
        // zeta(10^10, 0.99) as published with YCSB's scrambled zipfian generator.
        assertEquals(26.46902820178302, Zeta.of(ScrambledZipfianGenerator.SPACE, THETA), 26.47 * 1e-10);
    }

    @Test
    void eulerMaclaurinTailAgreesWithTheDirectSum() {
        long n = 3_000_000;
        double direct = Zeta.extend(0, n, THETA, 0.0);
        assertEquals(direct, Zeta.of(n, THETA), direct * 1e-12);
        assertEquals(1 + Math.pow(0.5, THETA), Zeta.of(2, THETA), 1e-15);
    }

    /** P(draw = k) under Gray et al.'s method for {@code n} items (not the ideal zipfian, which it approximates). */
    static double grayProbability(long n, long k) {
        double zetaN = Zeta.of(n, THETA);
        double alpha = 1 / (1 - THETA);
        double eta = (1 - Math.pow(2.0 / n, 1 - THETA)) / (1 - Zeta.of(2, THETA) / zetaN);
        if (k == 0) {
            return 1 / zetaN;
        }
        if (k == 1) {
            return Math.pow(0.5, THETA) / zetaN;
        }
        // draw = floor(n * (eta*u - eta + 1)^alpha) = k  <=>  u in [lo(k), lo(k+1))
        double lo = (Math.pow((double) k / n, 1 / alpha) - 1 + eta) / eta;
        double hi = k + 1 >= n ? 1.0 : (Math.pow((double) (k + 1) / n, 1 / alpha) - 1 + eta) / eta;
        return Math.max(0, hi - Math.max(lo, (1 + Math.pow(0.5, THETA)) / zetaN));
    }

    @Test
    void drawsFollowGraysMethodRankByRank() {
        int n = 1000;
        int draws = 2_000_000;
        long seed = 20240607L;
        ZipfianGenerator g = new ZipfianGenerator(n, THETA);
        SplittableRandom random = new SplittableRandom(seed);
        long[] counts = new long[n];
        for (int i = 0; i < draws; i++) {
            long d = g.next(random);
            assertTrue(d >= 0 && d < n, "draw out of range: " + d);
            counts[(int) d]++;
        }
        double total = 0;
        for (int k = 0; k < n; k++) {
            total += grayProbability(n, k);
        }
        assertEquals(1.0, total, 1e-9, "Gray's probabilities must sum to 1");
        for (int k : new int[]{0, 1, 2, 3, 5, 10, 20, 50, 100, 300, 999}) {
            double p = grayProbability(n, k);
            double sigma = Math.sqrt(draws * p * (1 - p));
            assertEquals(draws * p, counts[k], 5 * sigma + 1, "rank " + k + " (seed " + seed + ")");
        }
        // Ranks 0 and 1 are exact zipfian: 1/zeta and 2^-theta/zeta.
        double zeta = Zeta.of(n, THETA);
        assertEquals(1 / zeta, counts[0] / (double) draws, 0.02 / zeta);
        assertEquals(Math.pow(0.5, THETA) / zeta, counts[1] / (double) draws, 0.02 / zeta);
        // Overall the skew is zipfian: the top 10% of items get about H(100)/H(1000) of the draws.
        long top = 0;
        for (int k = 0; k < 100; k++) {
            top += counts[k];
        }
        assertEquals(Zeta.of(100, THETA) / zeta, top / (double) draws, 0.02);
    }

    @Test
    void growingTheItemCountMatchesAFreshGenerator() {
        ZipfianGenerator grown = new ZipfianGenerator(1000, THETA);
        SplittableRandom a = new SplittableRandom(5);
        for (long items = 1001; items <= 5000; items++) {
            grown.next(a, items);
        }
        ZipfianGenerator fresh = new ZipfianGenerator(5000, THETA);
        assertEquals(fresh.zetaN(), grown.zetaN(), fresh.zetaN() * 1e-13);
        SplittableRandom r1 = new SplittableRandom(9);
        SplittableRandom r2 = new SplittableRandom(9);
        for (int i = 0; i < 10_000; i++) {
            assertEquals(fresh.next(r1), grown.next(r2, 5000));
        }
        assertThrows(IllegalArgumentException.class, () -> grown.next(new SplittableRandom(1), 10));
    }

    @Test
    void scrambledZipfianPutsTheHottestItemsWhereFnvSends() {
        long n = 10_000;
        int draws = 1_000_000;
        ScrambledZipfianGenerator g = new ScrambledZipfianGenerator(n, THETA);
        SplittableRandom random = new SplittableRandom(77);
        long[] counts = new long[(int) n];
        for (int i = 0; i < draws; i++) {
            long d = g.next(random);
            assertTrue(d >= 0 && d < n);
            counts[(int) d]++;
        }
        long hottest = Fnv64.hash(0) % n;
        long second = Fnv64.hash(1) % n;
        double zeta = Zeta.of(ScrambledZipfianGenerator.SPACE, THETA);
        assertTrue(hottest != second);
        assertEquals(1 / zeta, counts[(int) hottest] / (double) draws, 0.03 / zeta);
        assertEquals(Math.pow(0.5, THETA) / zeta, counts[(int) second] / (double) draws, 0.03 / zeta);
        int argmax = 0;
        for (int i = 1; i < n; i++) {
            if (counts[i] > counts[argmax]) {
                argmax = i;
            }
        }
        assertEquals(hottest, argmax, "the most popular item is FNV(0) mod n");
        // popularity is scattered, not piled on the low item numbers
        long low = 0;
        for (int i = 0; i < n / 10; i++) {
            low += counts[i];
        }
        assertEquals(0.1, low / (double) draws, 0.05);
    }

    @Test
    void fnvMatchesTheReferenceFnv1aOverLittleEndianBytes() {
        assertEquals(0xaf63dc4c8601ec8cL, fnv1a(new byte[]{'a'}));
        assertEquals(0x85944171f73967e8L, fnv1a("foobar".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 1000; i++) {
            long v = random.nextLong();
            byte[] le = new byte[8];
            for (int b = 0; b < 8; b++) {
                le[b] = (byte) (v >>> (8 * b));
            }
            assertEquals(fnv1a(le) & Long.MAX_VALUE, Fnv64.hash(v));
        }
    }

    private static long fnv1a(byte[] bytes) {
        long h = 0xcbf29ce484222325L;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
