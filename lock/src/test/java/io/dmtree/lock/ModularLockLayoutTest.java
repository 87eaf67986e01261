package io.dmtree.lock;

import io.dmtree.lock.modular.ModularLockLayout;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static io.dmtree.lock.modular.ModularLockLayout.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The modular lock word: each compute node's 2-bit field, the head, and the counts derived from
 * them, under random acquires and releases (one request per compute node at a time, as the cohort
 * keeps it): no add borrows or carries across fields, and the head's carry leaves the word.
 */
class ModularLockLayoutTest {
    static final long SEED = Long.getLong("dmtree.seed", System.nanoTime());

    @Test
    void addsNeverCrossFieldsAndTheCountsFollowTheFields() {
        System.out.println("ModularLockLayoutTest seed=" + SEED);
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (int run = 0; run < 200; run++) {
            int head = rnd.nextInt(); // also near the wrap of H
            long word = ModularLockLayout.word(head);
            int[] fields = new int[MAX_COMPUTE_NODES];
            for (int step = 0; step < 2_000; step++) {
                int cn = rnd.nextInt(MAX_COMPUTE_NODES);
                if (fields[cn] == FIELD_NONE) {
                    boolean ex = rnd.nextBoolean();
                    long before = word;
                    word += acquireDelta(cn, ex);
                    assertEquals(head + size(before), tail(before), "position of the request");
                    fields[cn] = fieldOf(ex);
                } else {
                    word += releaseDelta(cn, fields[cn] == FIELD_EXCLUSIVE);
                    fields[cn] = FIELD_NONE;
                    head++;
                }
                int size = 0;
                int exclusive = 0;
                for (int c = 0; c < MAX_COMPUTE_NODES; c++) {
                    assertEquals(fields[c], field(word, c), "field of cn " + c + " (seed " + SEED + ")");
                    size += fields[c] != FIELD_NONE ? 1 : 0;
                    exclusive += fields[c] == FIELD_EXCLUSIVE ? 1 : 0;
                }
                assertEquals(head, head(word), "head (seed " + SEED + ")");
                assertEquals(size, size(word));
                assertEquals(exclusive, exclusive(word));
            }
        }
    }

    @Test
    void wordNamesEveryQueuedComputeNode() {
        long w = ModularLockLayout.word(7, FIELD_SHARED, FIELD_NONE, FIELD_EXCLUSIVE);
        assertEquals(7, head(w));
        assertEquals(2, size(w));
        assertEquals(1, exclusive(w));
        assertEquals(FIELD_SHARED, field(w, 0));
        assertEquals(FIELD_NONE, field(w, 1));
        assertEquals(FIELD_EXCLUSIVE, field(w, 2));
        assertEquals(9, tail(w));
        assertTrue(describe(w).contains("cn0:S") && describe(w).contains("cn2:X"), describe(w));
    }
}
