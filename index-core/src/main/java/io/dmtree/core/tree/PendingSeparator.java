package io.dmtree.core.tree;

import io.dmtree.core.memory.GlobalAddress;

import java.util.HexFormat;

/**
 * An intent found by recovery. A split's: node {@code child}, whose low fence is {@code separator},
 * is to be a child in level {@code level}; it may be one already. A merge's ({@code merge}): the
 * parent in level {@code level} gave up the separator of {@code child}, which {@code left} was to
 * absorb; recovery finishes or undoes it ({@link TreeRecovery}).
 */
public record PendingSeparator(int level, byte[] separator, long child, boolean merge, long left) {
    public PendingSeparator {
        separator = separator.clone();
    }

    /** A split's intent. */
    public PendingSeparator(int level, byte[] separator, long child) {
        this(level, separator, child, false, GlobalAddress.NULL);
    }

    @Override
    public byte[] separator() {
        return separator.clone();
    }

    @Override
    public String toString() {
        return (merge ? "merge of " + GlobalAddress.toString(child) + " into " + GlobalAddress.toString(left) + ", separator "
                : "separator ") + HexFormat.of().formatHex(separator) + (merge ? "" : " -> " + GlobalAddress.toString(child))
                + " at level " + level;
    }
}
