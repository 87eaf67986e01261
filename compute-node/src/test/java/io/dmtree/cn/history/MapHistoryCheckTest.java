package io.dmtree.cn.history;

import io.dmtree.cn.history.MapHistoryCheck.Kind;
import io.dmtree.cn.history.MapHistoryCheck.Op;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.dmtree.cn.history.MapHistoryCheck.ABSENT;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The whole-map checker accepts linearizable histories and names the ones that are not. */
class MapHistoryCheckTest {
    private final MapHistoryCheck check = new MapHistoryCheck(new long[] {8, 13}, Map.of(100L, 1L));

    private static Op put(int p, long key, long value, long invoke, long response) {
        return new Op(p, Kind.PUT, key, value, 0, 0, 0, false, invoke, response);
    }

    private static Op nav(int p, Kind kind, long key, long foundKey, long foundValue, long invoke, long response) {
        return new Op(p, kind, key, 0, 0, foundKey, foundValue, false, invoke, response);
    }

    @Test
    void ceilingThatSkipsAKeyPutEarlierIsCaught() {
        // one thread puts 8 then 13; a ceiling(8) overlapping both answers 13: no instant had 13 without 8
        List<Op> h = List.of(put(0, 8, 1, 10, 20), put(0, 13, 2, 30, 40), nav(1, Kind.CEILING, 8, 13, 2, 15, 50));
        assertNotNull(check.violation(h, new long[] {ABSENT, ABSENT}));
        // answering 8, or none before the put of 8 took effect, is fine
        assertNull(check.violation(List.of(put(0, 8, 1, 10, 20), put(0, 13, 2, 30, 40),
                nav(1, Kind.CEILING, 8, 8, 1, 15, 50)), new long[] {ABSENT, ABSENT}));
        assertNull(check.violation(List.of(put(0, 8, 1, 10, 20), put(0, 13, 2, 30, 40),
                nav(1, Kind.CEILING, 8, 100, 1, 5, 15)), new long[] {ABSENT, ABSENT}));
        // the background answers past the domain
        assertNotNull(check.violation(List.of(nav(1, Kind.CEILING, 8, 100, 1, 30, 40), put(0, 8, 1, 10, 20)),
                new long[] {ABSENT, ABSENT}));
    }

    @Test
    void conditionalOperations() {
        Op cas = new Op(0, Kind.COMPARE_AND_SET, 8, 5, 1, 0, 0, true, 10, 20);
        Op casAgain = new Op(1, Kind.COMPARE_AND_SET, 8, 6, 1, 0, 0, true, 12, 22);
        // two compare-and-sets from the same expected value cannot both succeed
        assertNotNull(check.violation(List.of(cas, casAgain), new long[] {1, ABSENT}));
        Op casFails = new Op(1, Kind.COMPARE_AND_SET, 8, 6, 1, 0, 0, false, 12, 22);
        assertNull(check.violation(List.of(cas, casFails), new long[] {1, ABSENT}));
        Op pia = new Op(0, Kind.PUT_IF_ABSENT, 13, 7, 0, 0, ABSENT, false, 10, 20);
        Op pia2 = new Op(1, Kind.PUT_IF_ABSENT, 13, 9, 0, 0, ABSENT, false, 11, 21);
        assertNotNull(check.violation(List.of(pia, pia2), new long[] {1, ABSENT}), "both inserted");
        Op inc = new Op(0, Kind.COMPUTE_INCREMENT, 8, 1, 0, 0, 2, false, 10, 20);
        Op inc2 = new Op(1, Kind.COMPUTE_INCREMENT, 8, 1, 0, 0, 2, false, 11, 21);
        assertNotNull(check.violation(List.of(inc, inc2), new long[] {1, ABSENT}), "a lost increment");
        Op inc3 = new Op(1, Kind.COMPUTE_INCREMENT, 8, 1, 0, 0, 3, false, 11, 21);
        assertNull(check.violation(List.of(inc, inc3), new long[] {1, ABSENT}));
        Op floor = nav(2, Kind.FLOOR, 12, 8, 3, 30, 40);
        assertNull(check.violation(List.of(inc, inc3, floor), new long[] {1, ABSENT}));
        assertThrows(IllegalArgumentException.class, () -> check.violation(List.of(put(0, 9, 1, 1, 2)), new long[] {ABSENT, ABSENT}));
    }
}
