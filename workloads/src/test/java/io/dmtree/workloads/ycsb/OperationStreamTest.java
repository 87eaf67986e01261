package io.dmtree.workloads.ycsb;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OperationStreamTest {
    @Test
    void theSameSeedDrawsTheIdenticalStream() {
        for (CoreWorkload w : CoreWorkload.values()) {
            OperationStream a = OperationStream.generate(w, w.distribution(), 5000, 20_000, 99);
            OperationStream b = OperationStream.generate(w, w.distribution(), 5000, 20_000, 99);
            assertEquals(a.size(), b.size());
            for (int j = 0; j < a.size(); j++) {
                assertEquals(a.type(j), b.type(j), w + " op " + j);
                assertEquals(a.record(j), b.record(j), w + " op " + j);
                assertEquals(a.scanLength(j), b.scanLength(j), w + " op " + j);
            }
            assertEquals(a.counts(), b.counts());
            assertEquals(a.inserts(), b.inserts());
        }
    }

    @Test
    void anotherSeedDrawsAnotherStream() {
        OperationStream a = OperationStream.generate(CoreWorkload.A, RequestDistribution.ZIPFIAN, 5000, 1000, 1);
        OperationStream b = OperationStream.generate(CoreWorkload.A, RequestDistribution.ZIPFIAN, 5000, 1000, 2);
        boolean differs = false;
        for (int j = 0; j < a.size(); j++) {
            differs |= a.type(j) != b.type(j) || a.record(j) != b.record(j);
        }
        assertTrue(differs);
    }

    @Test
    void mixesMatchTheCoreWorkloads() {
        int ops = 200_000;
        for (CoreWorkload w : CoreWorkload.values()) {
            OperationStream s = OperationStream.generate(w, w.distribution(), 10_000, ops, 7);
            long sum = 0;
            for (Map.Entry<OperationType, Long> e : s.counts().entrySet()) {
                sum += e.getValue();
                assertEquals(w.proportion(e.getKey()), e.getValue() / (double) ops, 0.005, w + " " + e.getKey());
            }
            assertEquals(ops, sum);
            for (OperationType t : OperationType.values()) {
                assertEquals(w.proportion(t) > 0, s.counts().containsKey(t), w + " " + t);
            }
        }
        assertEquals(0.5, CoreWorkload.A.proportion(OperationType.UPDATE));
        assertEquals(0.05, CoreWorkload.B.proportion(OperationType.UPDATE));
        assertEquals(1.0, CoreWorkload.C.proportion(OperationType.READ));
        assertEquals(RequestDistribution.LATEST, CoreWorkload.D.distribution());
        assertEquals(0.95, CoreWorkload.E.proportion(OperationType.SCAN));
        assertEquals(0.5, CoreWorkload.F.proportion(OperationType.READ_MODIFY_WRITE));
    }

    @Test
    void insertsTakeTheNextRecordNumbersAndOthersOnlyExistingOnes() {
        for (CoreWorkload w : new CoreWorkload[]{CoreWorkload.D, CoreWorkload.E}) {
            long records = 3000;
            OperationStream s = OperationStream.generate(w, w.distribution(), records, 50_000, 3);
            long next = records;
            for (int j = 0; j < s.size(); j++) {
                if (s.type(j) == OperationType.INSERT) {
                    assertEquals(next++, s.record(j));
                } else {
                    assertTrue(s.record(j) >= 0 && s.record(j) < next, w + " op " + j + " names record " + s.record(j));
                }
            }
            assertEquals(next - records, s.inserts());
            assertEquals(s.counts().get(OperationType.INSERT).longValue(), s.inserts());
        }
    }

    @Test
    void scanLengthsAreUniformFromOneToAHundred() {
        OperationStream s = OperationStream.generate(CoreWorkload.E, RequestDistribution.ZIPFIAN, 10_000, 100_000, 4);
        long[] hist = new long[CoreWorkload.MAX_SCAN_LENGTH + 1];
        long scans = 0;
        double sum = 0;
        for (int j = 0; j < s.size(); j++) {
            if (s.type(j) == OperationType.SCAN) {
                int len = s.scanLength(j);
                assertTrue(len >= 1 && len <= 100, "scan length " + len);
                hist[len]++;
                sum += len;
                scans++;
            } else {
                assertEquals(0, s.scanLength(j));
            }
        }
        assertEquals(50.5, sum / scans, 0.5);
        assertTrue(hist[1] > 0 && hist[100] > 0);
    }

    @Test
    void latestReadsStayNearTheNewestRecords() {
        long records = 50_000;
        OperationStream s = OperationStream.generate(CoreWorkload.D, RequestDistribution.LATEST, records, 100_000, 8);
        long reads = 0;
        long recent = 0;
        long inserted = records;
        for (int j = 0; j < s.size(); j++) {
            if (s.type(j) == OperationType.INSERT) {
                inserted++;
            } else {
                reads++;
                if (s.record(j) >= inserted - 1000) {
                    recent++;
                }
            }
        }
        // zeta(1000)/zeta(50000) of the reads fall within the newest 1000 records
        double expected = Zeta.of(1000, 0.99) / Zeta.of(records, 0.99);
        assertEquals(expected, recent / (double) reads, 0.03);
        assertFalse(s.counts().containsKey(OperationType.UPDATE));
    }
}
