package io.dmtree.cn;

import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.NodeLayout;
import io.dmtree.core.tree.RedoLayout;
import io.dmtree.lock.baseline.CasSpinLock;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exact MN verb costs of tree operations (counters, not timings). */
class VerbBudgetTest {

    @Test
    void warmLookupIsOneReadAndUncontendedUpdateIsThreeRoundTrips() {
        try (EmbeddedCluster cluster = DmTree.embedded().lock(CasSpinLock.NAME).regionBytes(256L << 20).start()) {
            DmIndex index = cluster.index(0);
            for (long k = 0; k < 50_000; k++) {
                index.put(k * 7, k);
            }
            assertTrue(index.check().height() >= 2);
            for (long k = 0; k < 50_000; k += 10) {
                index.get(k * 7); // warm the cache
            }
            VerbCounts before = index.memoryNodeTraffic();
            index.get(7 * 12_345);
            VerbCounts lookup = index.memoryNodeTraffic().minus(before);
            assertEquals(1, lookup.reads(), "warm lookup: " + lookup);
            assertEquals(1, lookup.verbs());
            assertEquals(1, lookup.roundTrips());

            before = index.memoryNodeTraffic();
            index.put(7 * 12_345, 42L);
            VerbCounts update = index.memoryNodeTraffic().minus(before);
            assertEquals(3, update.roundTrips(), "uncontended update: lock, read, write back + unlock: " + update);
            assertEquals(1, update.cas());
            assertEquals(1, update.reads());
            assertEquals(5, update.writes(), "redo record, entry, header words, record retirement, lock word");
            NodeLayout layout = cluster.config().tree().layout();
            int entry = layout.leafEntryBytes();
            int record = RedoLayout.CELL_HEADER_BYTES + NodeLayout.HEADER_WRITE_BYTES + entry;
            assertEquals(2 * Long.BYTES + record + entry + NodeLayout.HEADER_WRITE_BYTES + Long.BYTES + Long.BYTES,
                    update.writeBytes(), "CAS operand pair, record, entry, header words, retirement, lock word: " + update);
        }
    }
}
