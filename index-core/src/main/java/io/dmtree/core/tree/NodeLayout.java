package io.dmtree.core.tree;

/**
 * Byte layout of a tree node of {@code nodeBytes} bytes for keys of {@code K} bytes and values of
 * {@code V} bytes. Integers are little-endian; keys are raw bytes.
 *
 * <pre>
 *   0       4       8     9     10      12      16              24              32              40          44      48          56     64
 *   +-------+-------+-----+-----+-------+-------+---------------+---------------+---------------+-----------+-------+-----------+------+
 *   | crc32c| writes|level|flags| count | rsvd  | sibling       | leftmost child| forward       | removed by| rsvd  | born era  | rsvd |
 *   +-------+-------+-----+-----+-------+-------+---------------+---------------+---------------+-----------+-------+-----------+------+
 *  64 low fence (K bytes, inclusive) | high fence (K bytes, exclusive unless HIGH_INFINITE) |
 *   +--------------------------------+------------------------------------------------------+
 *   E = align8(64 + 2K): entries
 *   leaf entry i at E + i*(1+K+V):      [used:1][key:K][value:V]        (unsorted)
 *   internal entry i at E + i*(K+8):    [key:K][child:8]                (sorted; count entries)
 * </pre>
 *
 * <ul>
 *   <li>{@code crc32c} covers bytes {@code [4, nodeBytes)}. A reader accepts a node image only when
 *   it matches, so a READ torn by a concurrent write-back is detected whatever order its cache
 *   lines arrived in.</li>
 *   <li>{@code writes} counts write-backs, so two successive states of a node never coincide.</li>
 *   <li>{@code flags}: {@link #FLAG_LEAF}, {@link #FLAG_HIGH_INFINITE}, {@link #FLAG_REMOVED}. The
 *   lowest node of each level has the all-zero low fence, the least key.</li>
 *   <li>A node with {@link #FLAG_REMOVED} was unlinked from the tree by a merge or a root shrink
 *   ({@link BLinkTree} states when): no node of the tree points to it any more, but a reader may
 *   still reach it through a stale cached parent or a pointer it read earlier. Such a reader
 *   restarts from the root, as it does on a fence mismatch. {@code forward} names the node its
 *   range went to (the left neighbour that absorbed it, or for a removed root its only child) and
 *   {@code removed by} the member that removed it (recovery marks a lapsed member's unfinished
 *   removal with that member's id); both are 0 in a live node. A removed node keeps its fences
 *   and entries and is never written again by the tree; its remover then frees its block, which a
 *   later allocation may hand out again as a new node.</li>
 *   <li>{@code born era}: 0 for a node in a block used for the first time; for a node in a reused
 *   block, the reuse era ({@code RegionLayout#REUSE_ERA_OFFSET}) its allocation raised. A pointer
 *   read at era e (by an operation that began at e, or from a cache entry stamped e) may follow
 *   only to a node born at or before e: a node born later may be a reuse of the block the pointer
 *   meant, and is treated like a fence mismatch ({@link BLinkTree}).</li>
 *   <li>{@code count}: used entries of a leaf; separator entries of an internal node.</li>
 *   <li>Internal node: child {@code leftmost} covers {@code [low, key0)}, child {@code i} covers
 *   {@code [key i, key i+1)}, the last up to the high fence.</li>
 *   <li>Low fences never change after a node is written: a split only lowers the high fence and
 *   moves entries to a new right sibling.</li>
 * </ul>
 * A leaf write-back of one entry writes that entry and the first {@link #HEADER_WRITE_BYTES} bytes.
 */
public final class NodeLayout {
    public static final int CHECKSUM_OFFSET = 0;
    public static final int CHECKSUM_COVERS_FROM = 4;
    public static final int WRITES_OFFSET = 4;
    public static final int LEVEL_OFFSET = 8;
    public static final int FLAGS_OFFSET = 9;
    public static final int COUNT_OFFSET = 10;
    public static final int SIBLING_OFFSET = 16;
    public static final int LEFTMOST_OFFSET = 24;
    public static final int FORWARD_OFFSET = 32;
    public static final int REMOVED_BY_OFFSET = 40;
    public static final int BORN_ERA_OFFSET = 48;
    public static final int HEADER_BYTES = 64;
    /** The header words an entry write-back rewrites: checksum, writes, level, flags, count. */
    public static final int HEADER_WRITE_BYTES = 16;
    public static final int LOW_FENCE_OFFSET = HEADER_BYTES;

    public static final int FLAG_LEAF = 1;
    public static final int FLAG_HIGH_INFINITE = 2;
    public static final int FLAG_REMOVED = 4;

    public static final int LEAF_USED = 1;

    private final int keyBytes;
    private final int valueBytes;
    private final int nodeBytes;
    private final int highFenceOffset;
    private final int entriesOffset;
    private final int leafEntryBytes;
    private final int internalEntryBytes;
    private final int leafCapacity;
    private final int internalCapacity;

    public NodeLayout(int keyBytes, int valueBytes, int nodeBytes) {
        this.keyBytes = keyBytes;
        this.valueBytes = valueBytes;
        this.nodeBytes = nodeBytes;
        this.highFenceOffset = LOW_FENCE_OFFSET + keyBytes;
        this.entriesOffset = (LOW_FENCE_OFFSET + 2 * keyBytes + 7) & ~7;
        this.leafEntryBytes = 1 + keyBytes + valueBytes;
        this.internalEntryBytes = keyBytes + 8;
        this.leafCapacity = Math.min(0xFFFF, Math.max(0, (nodeBytes - entriesOffset) / leafEntryBytes));
        this.internalCapacity = Math.min(0xFFFF, Math.max(0, (nodeBytes - entriesOffset) / internalEntryBytes));
    }

    public int keyBytes() {
        return keyBytes;
    }

    public int valueBytes() {
        return valueBytes;
    }

    public int nodeBytes() {
        return nodeBytes;
    }

    public int highFenceOffset() {
        return highFenceOffset;
    }

    public int entriesOffset() {
        return entriesOffset;
    }

    public int leafEntryBytes() {
        return leafEntryBytes;
    }

    public int internalEntryBytes() {
        return internalEntryBytes;
    }

    public int leafCapacity() {
        return leafCapacity;
    }

    public int internalCapacity() {
        return internalCapacity;
    }

    /** Offset of leaf entry {@code i} (its used byte). */
    public int leafEntry(int i) {
        return entriesOffset + i * leafEntryBytes;
    }

    public int leafKey(int i) {
        return leafEntry(i) + 1;
    }

    public int leafValue(int i) {
        return leafEntry(i) + 1 + keyBytes;
    }

    public int internalKey(int i) {
        return entriesOffset + i * internalEntryBytes;
    }

    public int internalChild(int i) {
        return internalKey(i) + keyBytes;
    }
}
