package io.dmtree.cn;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.tree.BLinkTree;
import io.dmtree.core.tree.NodeImage;
import io.dmtree.core.tree.NodeLayout;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.core.tree.TreeStats;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Deletes merge underfull nodes at every level and shrink the root ({@link BLinkTree}'s class
 * comment states the protocol): the tree returns to one leaf after a drain, the checker passes
 * after every step, removed nodes are flagged and never reachable, and readers holding stale
 * pointers (a cached parent on another compute node) go round them.
 */
class ShrinkingTreeTest {

    private static EmbeddedCluster cluster(int cns) {
        return DmTree.embedded().computeNodes(cns).nodeBytes(256).regionBytes(128L << 20).chunkBytes(1L << 20).start();
    }

    /** Ascending deletes of a three-level tree, the checker after each: leaf and internal merges, root shrinks, one leaf left. */
    @Test
    void aDrainMergesEveryLevelAndShrinksTheRootToOneLeaf() {
        try (EmbeddedCluster cluster = cluster(1)) {
            DmIndex index = cluster.index(0);
            int n = 600;
            for (long k = 0; k < n; k++) {
                index.put(k, k * 10);
            }
            TreeReport full = index.check();
            assertTrue(full.ok(), full::toString);
            assertTrue(full.height() >= 3, "a tree of three levels or more: " + full);
            TreeStats stats = cluster.computeNode(0).tree().stats();
            int heightSeen = full.height();
            for (long k = 0; k < n; k++) {
                assertTrue(index.delete(k), "delete " + k);
                if (k % 7 == 0 || k > n - 40) {
                    TreeReport r = index.check();
                    assertTrue(r.ok(), "after deleting " + k + ": " + r);
                    assertEquals(n - k - 1, r.keys());
                    assertTrue(r.height() <= heightSeen, "the tree never grows on deletes");
                    heightSeen = r.height();
                }
                if (k + 1 < n) {
                    assertEquals(OptionalLong.of((k + 1) * 10), index.get(k + 1));
                }
            }
            TreeReport empty = index.check();
            assertTrue(empty.ok(), empty::toString);
            assertEquals(1, empty.height(), "drained tree: " + empty);
            assertEquals(List.of(1), empty.nodesPerLevel());
            assertTrue(stats.leafMerges.sum() > 0 && stats.internalMerges.sum() > 0 && stats.rootShrinks.sum() >= full.height() - 1,
                    stats::toString);
            BLinkTree tree = cluster.computeNode(0).tree();
            long removed = stats.leafMerges.sum() + stats.internalMerges.sum() + stats.rootShrinks.sum();
            assertEquals(removed, tree.removedNodes().count());
            int nodesBefore = full.nodesPerLevel().stream().mapToInt(Integer::intValue).sum();
            assertEquals(nodesBefore - 1, tree.removedNodes().count(), "every node but the last leaf was removed");
            assertEveryRemovedNodeIsFlagged(cluster, tree);
        }
    }

    /**
     * Insert N, delete all, ten times, in random orders: height 1 and a sound tree after each
     * cycle, no byte leaked, every removed node freed, and the region in use after the tenth fill
     * within 10% of the first (removed nodes are reused).
     */
    @Test
    void fillAndDrainCyclesReturnToOneLeaf() {
        List<Long> used = cycles("fillAndDrainCyclesReturnToOneLeaf", true, 10);
        assertTrue(used.get(9) <= used.get(0) * 11 / 10, "region in use after each fill: " + used);
    }

    /** The same cycles without reuse: removed nodes pile up, so the bound above does fail. */
    @Test
    void withoutReuseTheCyclesGrowTheRegion() {
        List<Long> used = cycles("withoutReuseTheCyclesGrowTheRegion", false, 4);
        assertTrue(used.get(3) > used.get(0) * 3 / 2, "region in use after each fill: " + used);
    }

    /** Runs {@code n} fill-and-drain cycles; the region bytes in use after each fill. */
    private static List<Long> cycles(String test, boolean reuse, int n) {
        long seed = Seeds.seed(test);
        Random rnd = new Random(seed);
        List<Long> used = new ArrayList<>();
        try (EmbeddedCluster cluster = cluster(1)) {
            cluster.computeNode(0).tree().reusing(reuse);
            DmIndex index = cluster.index(0);
            List<Long> keys = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                keys.add(rnd.nextLong(1L << 40));
            }
            for (int cycle = 0; cycle < n; cycle++) {
                Collections.shuffle(keys, rnd);
                for (long k : keys) {
                    index.put(k, k);
                }
                TreeReport full = index.check();
                assertTrue(full.ok(), "seed " + seed + " cycle " + cycle + ": " + full);
                assertEquals(new java.util.HashSet<>(keys).size(), full.keys());
                assertEquals(0, full.region().leaked(), "seed " + seed + " cycle " + cycle + ": " + full);
                used.add(full.region().used());
                System.out.printf("%s cycle %d: %s%n", reuse ? "reuse" : "no reuse", cycle, full.region());
                Collections.shuffle(keys, rnd);
                for (long k : keys) {
                    index.delete(k);
                }
                TreeReport empty = index.check();
                assertTrue(empty.ok(), "seed " + seed + " cycle " + cycle + ": " + empty);
                assertEquals(0, empty.keys());
                assertEquals(1, empty.height(), "seed " + seed + " cycle " + cycle + ": " + empty);
                assertEquals(0, empty.region().leaked(), "seed " + seed + " cycle " + cycle + ": " + empty);
                if (reuse) {
                    assertEquals(0, empty.region().removed(), "every removed node was freed: " + empty);
                }
            }
        }
        return used;
    }

    /** Random puts and deletes against a model, checker every so often: merges never lose or invent a key. */
    @Test
    void mixedPutsAndDeletesMatchAModel() {
        long seed = Seeds.seed("mixedPutsAndDeletesMatchAModel");
        Random rnd = new Random(seed);
        try (EmbeddedCluster cluster = cluster(1)) {
            DmIndex index = cluster.index(0);
            TreeMap<Long, Long> model = new TreeMap<>();
            for (int i = 0; i < 30_000; i++) {
                long k = rnd.nextInt(3000);
                int phase = (i / 5000) % 2; // grow, then shrink, alternately
                if (rnd.nextInt(100) < (phase == 0 ? 70 : 25)) {
                    index.put(k, i);
                    model.put(k, (long) i);
                } else {
                    assertEquals(model.remove(k) != null, index.delete(k), "seed " + seed + " op " + i);
                }
                if (i % 2500 == 0) {
                    TreeReport r = index.check();
                    assertTrue(r.ok(), "seed " + seed + " op " + i + ": " + r);
                    assertEquals(model.size(), r.keys());
                    List<DmIndex.LongEntry> all = index.scan(Long.MIN_VALUE, Integer.MAX_VALUE);
                    assertEquals(new ArrayList<>(model.keySet()), all.stream().map(DmIndex.LongEntry::key).toList());
                }
            }
        }
    }

    /**
     * Compute node 1 warms its index cache over a full tree; compute node 0 then drains most of it
     * (every level merges). Compute node 1's lookups and scans through its stale cache still
     * answer right, and it met removed nodes on the way.
     */
    @Test
    void staleCachedParentsLeadToRemovedNodesThatReadersGoRound() {
        try (EmbeddedCluster cluster = cluster(2)) {
            DmIndex writer = cluster.index(0);
            DmIndex reader = cluster.index(1);
            int n = 1500;
            for (long k = 0; k < n; k++) {
                writer.put(k, k);
            }
            for (long k = 0; k < n; k++) {
                assertEquals(OptionalLong.of(k), reader.get(k)); // caches every internal node
            }
            for (long k = 0; k < n; k++) {
                if (k % 50 != 0) {
                    writer.delete(k);
                }
            }
            TreeStats readerStats = cluster.computeNode(1).tree().stats();
            long reachedBefore = readerStats.removedReached.sum();
            for (long k = 0; k < n; k++) {
                assertEquals(k % 50 == 0 ? OptionalLong.of(k) : OptionalLong.empty(), reader.get(k), "get " + k);
            }
            List<DmIndex.LongEntry> scanned = reader.scan(0L, Integer.MAX_VALUE);
            assertEquals(n / 50, scanned.size());
            for (int i = 0; i < scanned.size(); i++) {
                assertEquals(i * 50L, scanned.get(i).key());
            }
            assertTrue(readerStats.removedReached.sum() > reachedBefore, "the reader never met a removed node: " + readerStats);
            TreeReport r = cluster.check();
            assertTrue(r.ok(), r::toString);
            assertTrue(cluster.computeNode(0).tree().removedNodes().count() > 0);
        }
    }

    /** With shrinking off a delete only clears its entry: nodes stay, the checker still passes. */
    @Test
    void shrinkingOffKeepsEveryNode() {
        try (EmbeddedCluster cluster = cluster(1)) {
            cluster.computeNode(0).tree().shrinking(false);
            DmIndex index = cluster.index(0);
            for (long k = 0; k < 500; k++) {
                index.put(k, k);
            }
            TreeReport full = index.check();
            for (long k = 0; k < 500; k++) {
                index.delete(k);
            }
            TreeReport empty = index.check();
            assertTrue(empty.ok(), empty::toString);
            assertEquals(full.nodesPerLevel(), empty.nodesPerLevel());
            assertEquals(0, cluster.computeNode(0).tree().removedNodes().count());
        }
    }

    private static void assertEveryRemovedNodeIsFlagged(EmbeddedCluster cluster, BLinkTree tree) {
        Verbs verbs = cluster.computeNode(0).verbs();
        NodeLayout layout = cluster.config().tree().layout();
        NodeImage n = new NodeImage(layout);
        for (long address : tree.removedNodes().addresses()) {
            verbs.read(address, n.buffer(), 0, layout.nodeBytes());
            assertTrue(n.checksumValid(), GlobalAddress.toString(address));
            assertTrue(n.isRemoved(), GlobalAddress.toString(address) + " is on the removed list but not flagged");
            assertFalse(n.forward() == GlobalAddress.NULL, "a removed node names where its range went");
            assertEquals(0, n.removedBy(), "removed by compute node 0");
        }
    }
}
