package io.dmtree.core.tree;

/**
 * How an index stores keys, chosen when it is created and recorded in its superblock
 * ({@link IndexSuperblock}): an index keeps its format for life.
 */
public enum KeyFormat {
    /** Every key is exactly the slot width, compared as unsigned bytes ({@link KeyOrder}). */
    FIXED,
    /** Keys of 0 up to the slot width less 2 bytes, in unsigned lexicographic order ({@link KeyLayout}). */
    VARIABLE
}
