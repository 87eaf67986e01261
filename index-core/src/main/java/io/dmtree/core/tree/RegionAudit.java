package io.dmtree.core.tree;

import io.dmtree.core.layout.ChunkTableLayout;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.region.ChunkTable;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;

/**
 * Accounts for every byte of every chunk area of a quiescent cluster ({@link RegionUse}) from the
 * chunk tables and the set of nodes a tree walk reached, and reports as problems what breaks the
 * allocation invariants: a reachable node outside the chunk area, or whose block word does not
 * record it as a node (a freed or never handed-out block the tree points to: a double free or a
 * wild pointer). In an index of variable-length values, a value block run counts as reachable
 * while a reachable leaf's descriptor names its first block. A block counts as leaked when it is recorded as a node but is neither reachable
 * nor removed, as metadata of a member whose redo directory word names no block on that memory
 * node, or as an unused reserve block of an adopted chunk (adoption frees those).
 */
final class RegionAudit {
    private RegionAudit() {
    }

    static RegionUse audit(Verbs verbs, TreeConfig config, Set<Long> reachable, long records, List<String> problems) {
        ChunkTable table = ChunkTable.open(verbs);
        NodeLayout layout = config.layout();
        int nodeBytes = layout.nodeBytes();
        NodeImage image = new NodeImage(layout, ByteBuffer.allocate(nodeBytes));
        Set<Long> values = IndexSuperblock.valueFormat(verbs) == ValueFormat.VARIABLE
                ? valueBlocks(verbs, layout, reachable, problems) : Set.of();
        long capacity = 0, allocated = 0, reach = 0, meta = 0, removed = 0, pinned = 0, free = 0, leaked = 0;
        for (int mn = 0; mn < table.memoryNodes(); mn++) {
            ChunkTableLayout t = table.layout(mn);
            long chunkBytes = t.chunkBytes();
            int blocks = (int) t.blocksPerChunk(nodeBytes);
            long slack = chunkBytes - (long) blocks * nodeBytes;
            capacity += t.chunkCount() * chunkBytes;
            boolean[] hasDirectory = directoryEntries(verbs, mn);
            long[] owners = table.ownerWords(mn);
            for (long c = 0; c < owners.length; c++) {
                int state = ChunkTableLayout.state(owners[(int) c]);
                if (state == ChunkTableLayout.CHUNK_FREE) {
                    continue;
                }
                allocated += chunkBytes;
                if (state == ChunkTableLayout.CHUNK_PINNED) {
                    pinned += chunkBytes;
                    continue;
                }
                free += slack;
                long[] words = table.blockWords(mn, c, blocks);
                boolean liveRun = false; // the blocks since the last value head belong to a value a leaf names
                for (int b = 0; b < blocks; b++) {
                    long w = words[b];
                    long address = GlobalAddress.plus(table.chunkAddress(mn, c), (long) b * nodeBytes);
                    switch (ChunkTableLayout.state(w)) {
                        case ChunkTableLayout.BLOCK_NODE -> {
                            if (reachable.contains(address)) {
                                reach += nodeBytes;
                            } else {
                                verbs.read(address, image.buffer(), 0, nodeBytes);
                                if (image.checksumValid() && image.isRemoved()) {
                                    removed += nodeBytes;
                                } else {
                                    leaked += nodeBytes;
                                }
                            }
                        }
                        case ChunkTableLayout.BLOCK_META -> {
                            int m = ChunkTableLayout.member(w);
                            if (m < hasDirectory.length && hasDirectory[m]) {
                                meta += nodeBytes;
                            } else {
                                leaked += nodeBytes;
                            }
                        }
                        case ChunkTableLayout.BLOCK_VALUE -> {
                            liveRun = values.contains(address);
                            if (liveRun) {
                                reach += nodeBytes;
                            } else {
                                leaked += nodeBytes;
                            }
                        }
                        case ChunkTableLayout.BLOCK_VALUE_TAIL -> {
                            if (liveRun) {
                                reach += nodeBytes;
                            } else {
                                leaked += nodeBytes;
                            }
                        }
                        case ChunkTableLayout.BLOCK_FREE, ChunkTableLayout.BLOCK_VALUE_SPARE -> free += nodeBytes;
                        case ChunkTableLayout.BLOCK_RESERVE -> {
                            if (state == ChunkTableLayout.CHUNK_OWNED) {
                                free += nodeBytes;
                            } else {
                                leaked += nodeBytes;
                            }
                        }
                        default -> leaked += nodeBytes;
                    }
                    if (ChunkTableLayout.state(w) != ChunkTableLayout.BLOCK_VALUE_TAIL) {
                        liveRun &= ChunkTableLayout.state(w) == ChunkTableLayout.BLOCK_VALUE;
                    }
                    if (values.contains(address) && ChunkTableLayout.state(w) != ChunkTableLayout.BLOCK_VALUE) {
                        problems.add("value block " + GlobalAddress.toString(address) + " is named by a leaf but its block is"
                                + " recorded " + ChunkTableLayout.describe(w, true));
                    }
                    if (reachable.contains(address) && ChunkTableLayout.state(w) != ChunkTableLayout.BLOCK_NODE) {
                        problems.add("node " + GlobalAddress.toString(address) + " is reachable but its block is recorded "
                                + ChunkTableLayout.describe(w, true));
                    }
                }
            }
        }
        for (long address : reachable) {
            int mn = GlobalAddress.memoryNode(address);
            ChunkTableLayout t = mn < table.memoryNodes() ? table.layout(mn) : null;
            long c = t == null ? -1 : t.chunkOf(GlobalAddress.offset(address));
            if (c < 0 || (GlobalAddress.offset(address) - t.chunkOffset(c)) % nodeBytes != 0) {
                problems.add("node " + GlobalAddress.toString(address) + " is reachable but is no block of a chunk");
            }
        }
        return new RegionUse(capacity, allocated, reach, meta, removed, pinned, free, leaked, records,
                config.keyBytes() + config.valueBytes());
    }

    /** The value blocks the reachable leaves name ({@link ValueLayout}). */
    static Set<Long> valueBlocks(Verbs verbs, NodeLayout layout, Set<Long> reachable, List<String> problems) {
        Set<Long> values = new java.util.HashSet<>();
        NodeImage image = new NodeImage(layout, ByteBuffer.allocate(layout.nodeBytes()));
        for (long node : reachable) {
            verbs.read(node, image.buffer(), 0, layout.nodeBytes());
            if (!image.checksumValid() || !image.isLeaf()) {
                continue;
            }
            for (int slot = 0; slot < layout.leafCapacity(); slot++) {
                if (image.leafUsed(slot) && ValueLayout.outOfLine(image.buffer(), image.leafValueOffset(slot))
                        && !values.add(ValueLayout.address(image.buffer(), image.leafValueOffset(slot)))) {
                    problems.add("value block " + GlobalAddress.toString(ValueLayout.address(image.buffer(),
                            image.leafValueOffset(slot))) + " is named by two entries");
                }
            }
        }
        return values;
    }

    private static boolean[] directoryEntries(Verbs verbs, int mn) {
        int n = RegionLayout.REDO_DIRECTORY_ENTRIES;
        UnsafeBuffer words = new UnsafeBuffer(new byte[n * Long.BYTES]);
        verbs.read(GlobalAddress.of(mn, RegionLayout.REDO_DIRECTORY_OFFSET), words, 0, n * Long.BYTES);
        boolean[] present = new boolean[n];
        for (int m = 0; m < n; m++) {
            present[m] = words.getLong(m * Long.BYTES) != 0;
        }
        return present;
    }
}
