package io.dmtree.cn.history;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The history checker on hand-written histories: each check passes what it must and catches what it must. */
class HistoryCheckTest {
    @TempDir
    Path dir;

    private HistoryFile file(String name, int cn, String... lines) throws IOException {
        List<String> all = new ArrayList<>();
        all.add(HistoryFile.HEADER + " cn=" + cn + " epoch=" + (cn + 1));
        all.addAll(List.of(lines));
        Path p = dir.resolve(name);
        Files.write(p, all, StandardCharsets.US_ASCII);
        return HistoryFile.read(p);
    }

    private static HistoryCheck.Result check(HistoryFile... files) {
        return new HistoryCheck(List.of(files)).run();
    }

    @Test
    void sequentialAndOverlappingHistoriesPass() throws IOException {
        HistoryFile a = file("a", 0, "I 0 1 PUT 5 100 10", "R 0 1 absent 20", "I 0 2 GET 5 0 30", "R 0 2 200 40", "D");
        HistoryFile b = file("b", 1, "I 0 1 PUT 5 200 25", "R 0 1 absent 35", "I 0 2 GET 5 0 50", "R 0 2 200 60",
                "F 5 200", "D");
        HistoryCheck.Result r = check(a, b);
        assertTrue(r.ok(), r.violations().toString());
        assertEquals(4, r.operations());
    }

    @Test
    void aStaleReadIsCaught() throws IOException {
        // put 100 ends, put 200 ends, then a read returns 100
        HistoryFile a = file("a", 0, "I 0 1 PUT 5 100 10", "R 0 1 absent 20", "I 0 2 PUT 5 200 30", "R 0 2 absent 40",
                "I 0 3 GET 5 0 50", "R 0 3 100 60");
        assertFalse(check(a).ok());
    }

    @Test
    void aLostAcknowledgedWriteIsCaughtInTheFinalState() throws IOException {
        HistoryFile a = file("a", 0, "I 0 1 PUT 5 100 10", "R 0 1 absent 20", "F 5 absent", "D");
        assertFalse(check(a).ok());
    }

    @Test
    void aPendingWriteMayOrMayNotHaveTakenEffect() throws IOException {
        HistoryFile dead = file("dead", 2, "I 0 1 PUT 5 300 10");
        HistoryFile seen = file("seen", 0, "I 0 1 GET 5 0 50", "R 0 1 300 60", "F 5 300", "D");
        HistoryFile unseen = file("unseen", 1, "I 0 1 GET 5 0 50", "R 0 1 absent 60", "D");
        assertTrue(check(dead, seen).ok());
        assertTrue(check(dead, unseen).ok());
        // but not seen and then unseen again with nothing in between
        HistoryFile flip = file("flip", 1, "I 0 1 GET 5 0 50", "R 0 1 300 60", "I 0 2 GET 5 0 70", "R 0 2 absent 80", "D");
        assertFalse(check(dead, flip).ok());
    }

    @Test
    void aWriteAfterTheFenceMustNotShow() throws IOException {
        HistoryFile zombie = file("zombie", 2, "I 0 1 PUT 5 300 100", "R 0 1 absent 110");
        HistoryFile reader = file("reader", 0, "I 0 1 GET 5 0 120", "R 0 1 300 130", "D");
        assertTrue(check(zombie, reader).ok(), "without the fence the read is explained by the write");
        HistoryCheck.Result r = new HistoryCheck(List.of(zombie, reader)).noEffectAfter(2, 50).run();
        assertFalse(r.ok());
        assertTrue(r.violations().toString().contains("after its fence"), r.violations().toString());
        HistoryFile blind = file("blind", 0, "I 0 1 GET 5 0 120", "R 0 1 absent 130", "F 5 absent", "D");
        assertTrue(new HistoryCheck(List.of(zombie, blind)).noEffectAfter(2, 50).run().ok());
    }

    @Test
    void countersAreBoundedByAcknowledgedAndInFlightIncrements() throws IOException {
        HistoryFile live = file("live", 0, "C 0 0", "C 0 10", "C 1 0", "C 1 10", "V 3 25 26 20", "D");
        HistoryFile dead = file("dead", 1, "C 0 0", "C 0 5", "C 1 0", "C 1 0"); // 2 threads may have had one in flight
        assertTrue(check(live, dead).ok(), check(live, dead).violations().toString());
        HistoryFile tooLow = file("low", 0, "C 0 10", "V 3 14 16 10", "D");
        HistoryFile dead2 = file("dead2", 1, "C 0 5");
        assertFalse(check(tooLow, dead2).ok(), "an acknowledged increment lost");
        HistoryFile exact = file("exact", 0, "C 0 10", "V 1 11 11 10", "D");
        assertFalse(check(exact).ok(), "with every node done the counters are exact");
    }

    @Test
    void aCutLastLineIsIgnored() throws IOException {
        Path p = dir.resolve("cut");
        Files.writeString(p, HistoryFile.HEADER + " cn=0 epoch=1\nI 0 1 PUT 5 100 10\nR 0 1 abs", StandardCharsets.US_ASCII);
        HistoryFile f = HistoryFile.read(p);
        assertEquals(1, f.ops().size());
        assertTrue(f.ops().get(0).pending());
    }
}
