package io.dmtree.core.tree;

/**
 * How an index stores values, chosen when it is created and recorded in its superblock
 * ({@link IndexSuperblock}): an index keeps its format for life.
 */
public enum ValueFormat {
    /** Every value is exactly the slot width; the slot holds the value ({@link NodeLayout}). */
    FIXED,
    /** Values of any length up to {@link ValueLayout#MAX_VALUE_BYTES}: inline or in a value block ({@link ValueLayout}). */
    VARIABLE
}
