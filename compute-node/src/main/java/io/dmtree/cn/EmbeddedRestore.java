package io.dmtree.cn;

import io.dmtree.cn.crash.LivenessBoundDesign;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.lock.InProcessMemberLiveness;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.messaging.InJvmMessageBus;
import io.dmtree.core.tree.RepairReport;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.tree.TreeRecovery;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.local.LocalVerbs;
import io.dmtree.mn.durable.DurableRegionFile;
import io.dmtree.mn.local.LocalControlPlane;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * An embedded cluster's memory nodes kept in a data directory ({@code DmTree.embedded().data(dir)}):
 * memory node {@code i}'s region is {@code DIR/dmtree-mnI.data} ({@link DurableRegionFile}), formatted
 * at the first open and restored at every later one, in this JVM or another.
 *
 * <h2>Restoring</h2>
 * <ol>
 *   <li>The directory must hold exactly the configured number of memory nodes' regions (or none),
 *   each of the configured sizes, all of one cluster (memory node 0's random cluster id, recorded in
 *   every region), each with an intact header; anything else is refused, saying what differs.</li>
 *   <li>If the last process did not stop cleanly (it was killed), the compute nodes of that life
 *   left state: half-written nodes, held or queued locks, half-done splits. Every slot with a redo
 *   block in some region is recovered as a departed compute node is, in the order fence, repair,
 *   locks, splits: its fence is trivial (its process is gone), node repair replays its redo records
 *   ({@link TreeRecovery#recover}), the lock design's own recovery releases what it held, and its
 *   pending splits are completed. The recoverer is a compute node of its own, with an id no earlier
 *   slot has, that every earlier slot sees as departed; its own redo block is retired afterwards.
 *   All this happens before any compute node of the new life opens the index, so it reuses its
 *   slot only once the slot is recovered.</li>
 *   <li>The tree checker then runs ({@link ReopenReport#check()}).</li>
 * </ol>
 */
final class EmbeddedRestore {
    private EmbeddedRestore() {
    }

    /** Opens (or creates) the regions of {@code count} memory nodes in {@code dir}; on failure nothing stays open. */
    static List<MemoryNode> open(Path dir, int count, MemoryNodeConfig config) {
        if (Files.exists(DurableRegionFile.file(dir, count))) {
            throw new IllegalStateException("data directory " + dir + " holds the region of memory node " + count
                    + ", but this index is configured with " + count + " memory node(s): open it with memoryNodes("
                    + countIn(dir, count) + ")");
        }
        List<DurableRegionFile> files = new ArrayList<>();
        List<MemoryNode> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                DurableRegionFile f = DurableRegionFile.open(dir, i, config.regionBytes(), DurableRegionFile.Options.DEFAULTS);
                files.add(f);
                if (i > 0 && f.created() != files.get(0).created()) {
                    throw new IllegalStateException("data directory " + dir + " holds the region of memory node "
                            + (f.created() ? 0 : i) + " but not of memory node " + (f.created() ? i : 0)
                            + ": it is not the directory of an index of " + count + " memory node(s)");
                }
                nodes.add(new MemoryNode(i, config, f.region(), f, !f.created()));
            }
            long cluster = nodes.get(0).clusterId();
            if (cluster == 0) {
                do {
                    cluster = new SecureRandom().nextLong();
                } while (cluster == 0);
            }
            for (MemoryNode mn : nodes) {
                mn.bindCluster(cluster, "the embedded index in " + dir);
            }
            return nodes;
        } catch (IOException e) {
            closeAll(nodes, files);
            throw new IllegalStateException("cannot open data directory " + dir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeAll(nodes, files);
            throw e;
        }
    }

    private static int countIn(Path dir, int from) {
        int n = from;
        while (Files.exists(DurableRegionFile.file(dir, n)) && n < ClusterConfig.MAX_NODES) {
            n++;
        }
        return n;
    }

    private static void closeAll(List<MemoryNode> nodes, List<DurableRegionFile> files) {
        for (DurableRegionFile f : files) {
            f.close(); // not MemoryNode.close: a refused region is not marked stopped
            if (f.created()) {
                try {
                    Files.deleteIfExists(f.path()); // made by this refused open: leave the directory as it was
                } catch (IOException e) {
                    System.err.println("dmtree: could not remove " + f.path() + ": " + e.getMessage());
                }
            }
        }
    }

    /** Whether any memory node restored its region from an earlier life. */
    static boolean restored(List<MemoryNode> nodes) {
        return nodes.get(0).restored();
    }

    /**
     * Recovers the compute nodes of an earlier life that did not stop cleanly (see the class
     * comment); returns the slots recovered, none after a clean stop or when no index exists.
     */
    static List<Integer> recoverEarlierLife(List<MemoryNode> nodes, TreeConfig tree, LockDesign design, int threads) {
        boolean clean = true;
        TreeSet<Integer> slots = new TreeSet<>();
        for (MemoryNode mn : nodes) {
            clean &= mn.previousStopWasClean();
            slots.addAll(mn.slotsWithRedoBlocks());
        }
        long indexState = nodes.get(0).region().getLongVolatile(RegionLayout.INDEX_STATE_OFFSET);
        if (clean || slots.isEmpty() || indexState != RegionLayout.INDEX_READY) {
            return List.of();
        }
        int recoverer = 0;
        while (slots.contains(recoverer)) {
            recoverer++;
        }
        int count = Math.max(recoverer, slots.last()) + 1;
        InProcessMemberLiveness liveness = new InProcessMemberLiveness(count);
        for (int s = 0; s < count; s++) {
            if (s != recoverer) {
                liveness.depart(s); // gone with the process that died: nothing of it can run any more
            }
        }
        LocalControlPlane plane = new LocalControlPlane(nodes);
        ComputeNode by = new ComputeNode(recoverer, count, LocalVerbs.counted(nodes), plane, new InJvmMessageBus().join(),
                tree, new LivenessBoundDesign(design, liveness), threads);
        try {
            for (int slot : slots) {
                RepairReport repair = TreeRecovery.recover(by.verbs(), tree, slot);
                RecoveryReport locks = by.lockDesign().recover(RecoveryContext.of(by.lockClient(), by.lockTable(), nodes.size()), slot);
                TreeRecovery.completeSplits(by.tree(), repair);
                if (repair == null || locks == null) {
                    throw new IllegalStateException("recovery of compute node " + slot + " returned no report");
                }
            }
            // retire the recoverer's own redo block (it wrote nothing): its directory words are cleared
            TreeRecovery.completeSplits(by.tree(), TreeRecovery.recover(by.verbs(), tree, recoverer));
        } finally {
            by.close();
        }
        return List.copyOf(slots);
    }
}
