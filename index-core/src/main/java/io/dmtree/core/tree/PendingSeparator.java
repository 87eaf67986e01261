package io.dmtree.core.tree;

import io.dmtree.core.memory.GlobalAddress;

import java.util.HexFormat;

/**
 * A split intent found by recovery: node {@code child}, whose low fence is {@code separator}, is
 * to be a child in level {@code level}; it may be one already.
 */
public record PendingSeparator(int level, byte[] separator, long child) {
    public PendingSeparator {
        separator = separator.clone();
    }

    @Override
    public byte[] separator() {
        return separator.clone();
    }

    @Override
    public String toString() {
        return "separator " + HexFormat.of().formatHex(separator) + " -> " + GlobalAddress.toString(child) + " at level " + level;
    }
}
