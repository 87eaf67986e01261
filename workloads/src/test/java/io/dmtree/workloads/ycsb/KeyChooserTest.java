package io.dmtree.workloads.ycsb;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Uniform, zipfian and latest choosers: ranges and shapes, seeded. */
class KeyChooserTest {
    @Test
    void uniformPassesChiSquare() {
        int records = 10_000;
        int buckets = 100;
        int draws = 1_000_000;
        KeyChooser c = KeyChooser.of(RequestDistribution.UNIFORM, records, 0);
        SplittableRandom random = new SplittableRandom(11);
        long[] counts = new long[buckets];
        for (int i = 0; i < draws; i++) {
            long r = c.next(random, records);
            assertTrue(r >= 0 && r < records);
            counts[(int) (r * buckets / records)]++;
        }
        double expected = (double) draws / buckets;
        double chi2 = 0;
        for (long n : counts) {
            chi2 += (n - expected) * (n - expected) / expected;
        }
        // 99 degrees of freedom: P(chi2 > 148.2) = 0.001
        assertTrue(chi2 < 148.2, "chi-square " + chi2);
    }

    @Test
    void zipfianNeverNamesARecordNotInsertedYet() {
        long records = 1000;
        KeyChooser c = KeyChooser.of(RequestDistribution.ZIPFIAN, records, 500);
        SplittableRandom random = new SplittableRandom(12);
        for (long existing = records; existing < records + 1000; existing++) {
            for (int i = 0; i < 50; i++) {
                long r = c.next(random, existing);
                assertTrue(r >= 0 && r < existing, r + " of " + existing);
            }
        }
    }

    @Test
    void latestFavoursTheNewestRecords() {
        long records = 100_000;
        int draws = 500_000;
        KeyChooser c = KeyChooser.of(RequestDistribution.LATEST, records, 0);
        SplittableRandom random = new SplittableRandom(13);
        long newest = 0;
        long newestHundred = 0;
        for (int i = 0; i < draws; i++) {
            long r = c.next(random, records);
            assertTrue(r >= 0 && r < records);
            if (r == records - 1) {
                newest++;
            }
            if (r >= records - 100) {
                newestHundred++;
            }
        }
        double zeta = Zeta.of(records, ZipfianGenerator.YCSB_THETA);
        assertEquals(1 / zeta, newest / (double) draws, 0.02 / zeta);
        assertEquals(Zeta.of(100, ZipfianGenerator.YCSB_THETA) / zeta, newestHundred / (double) draws, 0.02);
    }
}
