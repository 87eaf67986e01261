package io.dmtree.cn.control;

import io.dmtree.core.tree.IndexSuperblock.StoredIndex;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.lock.LockDesigns;

import java.util.Optional;

/**
 * What a joining compute node asks of the index: key and value widths, node size and lock design,
 * each either given or left open (null). An open setting takes what the cluster's index already
 * has (its superblock), or the project default when there is no index yet; a given one must
 * match an existing index (the superblock refuses a mismatch with a message naming both). So a
 * compute node, the YCSB binding and the cluster scripts started with defaults all join whatever
 * index the first of them created.
 *
 * @param keyBytes   key width, or null
 * @param valueBytes value width, or null
 * @param nodeBytes  node size (0 = automatic), or null
 * @param lock       lock design name, or null
 */
public record IndexShape(Integer keyBytes, Integer valueBytes, Integer nodeBytes, String lock) {
    /** Everything open: the cluster's index as it is, or the project defaults. */
    public static final IndexShape AS_STORED = new IndexShape(null, null, null, null);

    public IndexShape {
        if (lock != null && !LockDesigns.names().contains(lock)) {
            throw new IllegalArgumentException("unknown lock design '" + lock + "'; known: " + String.join(", ", LockDesigns.names()));
        }
    }

    /**
     * The tree configuration and lock design to open, given the index the cluster holds (if any);
     * {@code fresh} gives the widths, node size and cache budget for a new index (normally
     * {@link TreeConfig#defaults()}).
     */
    public Resolved resolve(Optional<StoredIndex> stored, TreeConfig fresh) {
        TreeConfig d = fresh;
        int k = keyBytes != null ? keyBytes : stored.map(StoredIndex::keyBytes).orElse(d.keyBytes());
        int v = valueBytes != null ? valueBytes : stored.map(StoredIndex::valueBytes).orElse(d.valueBytes());
        // a new index keeps the fresh node size only for the fresh widths; other widths size it automatically
        int n = nodeBytes != null ? nodeBytes
                : stored.map(StoredIndex::nodeBytes).orElse(k == d.keyBytes() && v == d.valueBytes() ? d.nodeBytes() : 0);
        String l = lock != null ? lock : stored.map(StoredIndex::lockDesign).orElse(LockDesigns.defaultName());
        return new Resolved(new TreeConfig(k, v, n, d.cacheBytes(),
                stored.map(StoredIndex::valueFormat).orElse(d.valueFormat()),
                stored.map(StoredIndex::keyFormat).orElse(d.keyFormat())), l);
    }

    /** A shape with every setting decided. */
    public record Resolved(TreeConfig tree, String lock) {
    }
}
