package io.dmtree.cn;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.tree.IndexSuperblock;
import io.dmtree.core.tree.NodeImage;
import io.dmtree.core.tree.PendingSeparator;
import io.dmtree.core.tree.RepairReport;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.tree.TreeRecovery;
import io.dmtree.core.tree.TreeReport;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Split intents outlive their splits (a member's cells keep its last ones), so recovery replays
 * stale intents. Replaying one for every separator a tree holds, and for every low fence an
 * internal split pushed up, must change nothing.
 */
class StaleIntentTest {

    @Test
    void replayingEverySeparatorOfATreeAsAnIntentChangesNothing() {
        long seed = Seeds.seed("replayingEverySeparatorOfATreeAsAnIntentChangesNothing");
        Random rnd = new Random(seed);
        try (EmbeddedCluster cluster = DmTree.embedded().nodeBytes(256).regionBytes(64L << 20).start()) {
            DmIndex index = cluster.index(0);
            for (int i = 0; i < 4000; i++) {
                index.put(rnd.nextLong(1 << 24), i);
            }
            TreeReport before = index.check();
            assertTrue(before.ok(), before::toString);
            assertTrue(before.height() >= 4, "internal levels must have split: " + before);
            List<DmIndex.LongEntry> contents = index.scan(Long.MIN_VALUE, Integer.MAX_VALUE);

            ComputeNode cn = cluster.computeNode(0);
            List<PendingSeparator> stale = separators(cn.verbs(), cn.treeConfig());
            assertTrue(stale.size() > before.nodesPerLevel().get(0), "every leaf but the first has a separator above it");
            TreeRecovery.completeSplits(cn.tree(), new RepairReport(0, new long[cn.verbs().memoryNodeCount()], 0, 0, stale,
                    new long[0], 0));

            TreeReport after = index.check();
            assertTrue(after.ok(), after::toString);
            assertEquals(before.nodesPerLevel(), after.nodesPerLevel());
            assertEquals(contents, index.scan(Long.MIN_VALUE, Integer.MAX_VALUE));
        }
    }

    /**
     * Intents outlive merges too: after most keys are deleted (leaves and internal nodes merged,
     * the root shrunk), replaying every separator the full tree had, as split intents and as merge
     * intents, must re-link no removed node and change nothing.
     */
    @Test
    void replayingTheSeparatorsOfATreeSinceShrunkChangesNothing() {
        long seed = Seeds.seed("replayingTheSeparatorsOfATreeSinceShrunkChangesNothing");
        Random rnd = new Random(seed);
        try (EmbeddedCluster cluster = DmTree.embedded().nodeBytes(256).regionBytes(64L << 20).start()) {
            DmIndex index = cluster.index(0);
            List<Long> keys = new ArrayList<>();
            for (int i = 0; i < 4000; i++) {
                long k = rnd.nextLong(1 << 24);
                keys.add(k);
                index.put(k, i);
            }
            ComputeNode cn = cluster.computeNode(0);
            List<PendingSeparator> stale = new ArrayList<>();
            for (PendingSeparator p : separators(cn.verbs(), cn.treeConfig())) {
                stale.add(p);
                stale.add(new PendingSeparator(p.level(), p.separator(), p.child(), true, GlobalAddress.NULL));
            }
            TreeReport full = index.check();
            java.util.Collections.shuffle(keys, rnd);
            for (int i = 0; i < keys.size() - 60; i++) {
                index.delete(keys.get(i));
            }
            TreeReport before = index.check();
            assertTrue(before.ok(), before::toString);
            assertTrue(before.height() < full.height(), "the root shrank: " + full + " then " + before);
            assertTrue(cn.tree().stats().internalMerges.sum() > 0, cn.tree().stats()::toString);
            List<DmIndex.LongEntry> contents = index.scan(Long.MIN_VALUE, Integer.MAX_VALUE);

            TreeRecovery.completeSplits(cn.tree(), new RepairReport(0, new long[cn.verbs().memoryNodeCount()], 0, 0, stale,
                    new long[0], 0));

            TreeReport after = index.check();
            assertTrue(after.ok(), after::toString);
            assertEquals(before.nodesPerLevel(), after.nodesPerLevel());
            assertEquals(contents, index.scan(Long.MIN_VALUE, Integer.MAX_VALUE));
        }
    }

    /** (level, key, child) for every separator and every non-least low fence of every internal node. */
    private static List<PendingSeparator> separators(Verbs verbs, TreeConfig config) {
        UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        verbs.read(IndexSuperblock.ROOT_POINTER, word, 0, 8);
        NodeImage n = new NodeImage(config.layout());
        List<PendingSeparator> out = new ArrayList<>();
        long head = word.getLong(0);
        int lowFences = 0;
        while (true) {
            verbs.read(head, n.buffer(), 0, config.nodeBytes());
            if (n.level() == 0) {
                break;
            }
            long nextHead = n.leftmost();
            for (long at = head; at != GlobalAddress.NULL; at = n.sibling()) {
                verbs.read(at, n.buffer(), 0, config.nodeBytes());
                assertTrue(n.checksumValid());
                byte[] low = new byte[config.keyBytes()];
                n.buffer().getBytes(n.lowFenceOffset(), low);
                if (!isZero(low)) {
                    out.add(new PendingSeparator(n.level(), low, n.leftmost())); // pushed up by an internal split
                    lowFences++;
                }
                for (int i = 0; i < n.count(); i++) {
                    byte[] key = new byte[config.keyBytes()];
                    n.buffer().getBytes(n.internalKeyOffset(i), key);
                    out.add(new PendingSeparator(n.level(), key, n.child(i)));
                }
                if (n.highInfinite()) {
                    break;
                }
            }
            head = nextHead;
        }
        assertTrue(lowFences > 0, "no internal node was split: nothing pushed up");
        return out;
    }

    private static boolean isZero(byte[] key) {
        for (byte b : key) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }
}
