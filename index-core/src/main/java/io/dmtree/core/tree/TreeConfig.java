package io.dmtree.core.tree;

/**
 * Shape of an index, fixed when it is created.
 *
 * @param keyBytes   key width, 1..64 bytes
 * @param valueBytes value width, 1..256 bytes
 * @param nodeBytes  tree node size, a multiple of 64 between 256 and 64 KiB; 0 picks the smallest
 *                   power of two from 1 KiB up that holds {@link #MIN_AUTO_FANOUT} leaf entries
 * @param cacheBytes budget of each compute node's index cache
 * @param valueFormat how a leaf's value slot of {@code valueBytes} bytes is used:
 *                    {@link ValueFormat#FIXED} (the value itself, every value exactly that wide) or
 *                    {@link ValueFormat#VARIABLE} (values of 0 to {@link ValueLayout#MAX_VALUE_BYTES}
 *                    bytes, inline up to {@code valueBytes - 4}, else in a value block;
 *                    {@link ValueLayout}); recorded in the index superblock
 * @param keyFormat   how the key slot of {@code keyBytes} bytes is used: {@link KeyFormat#FIXED}
 *                    (keys of exactly that width) or {@link KeyFormat#VARIABLE} (keys of 0 to
 *                    {@code keyBytes - 2} bytes, {@link KeyLayout}; needs variable-length values);
 *                    recorded in the index superblock
 */
public record TreeConfig(int keyBytes, int valueBytes, int nodeBytes, long cacheBytes, ValueFormat valueFormat,
                         KeyFormat keyFormat) {
    /** The widest fixed-width key. */
    public static final int MAX_KEY_BYTES = 64;
    /** The widest key slot of variable-length keys: {@link KeyLayout#MAX_KEY_BYTES} bytes and the length. */
    public static final int MAX_KEY_SLOT_BYTES = KeyLayout.MAX_KEY_BYTES + KeyLayout.LENGTH_BYTES;
    public static final int MAX_VALUE_BYTES = 256;
    public static final int MIN_NODE_BYTES = 256;
    public static final int MAX_NODE_BYTES = 64 * 1024;
    public static final int DEFAULT_NODE_BYTES = 1024;
    /** Fewest entries a node may hold: splits need at least this many to move half. */
    public static final int MIN_FANOUT = 4;
    public static final int MIN_AUTO_FANOUT = 16;
    public static final long DEFAULT_CACHE_BYTES = 64L << 20;

    /** An index of fixed-width values. */
    public TreeConfig(int keyBytes, int valueBytes, int nodeBytes, long cacheBytes) {
        this(keyBytes, valueBytes, nodeBytes, cacheBytes, ValueFormat.FIXED, KeyFormat.FIXED);
    }

    /** An index of fixed-width keys. */
    public TreeConfig(int keyBytes, int valueBytes, int nodeBytes, long cacheBytes, ValueFormat valueFormat) {
        this(keyBytes, valueBytes, nodeBytes, cacheBytes, valueFormat, KeyFormat.FIXED);
    }

    public TreeConfig {
        if (keyFormat == null) {
            throw new IllegalArgumentException("a key format is needed (FIXED or VARIABLE)");
        }
        if (keyFormat == KeyFormat.VARIABLE && valueFormat != ValueFormat.VARIABLE) {
            throw new IllegalArgumentException("variable-length keys need variable-length values");
        }
        if (keyFormat == KeyFormat.VARIABLE && keyBytes < KeyLayout.LENGTH_BYTES) {
            throw new IllegalArgumentException("a variable-length key slot needs at least " + KeyLayout.LENGTH_BYTES
                    + " bytes (the length): " + keyBytes);
        }
        if (valueFormat == null) {
            throw new IllegalArgumentException("a value format is needed (FIXED or VARIABLE)");
        }
        if (valueFormat == ValueFormat.VARIABLE && valueBytes < ValueLayout.MIN_SLOT_BYTES) {
            throw new IllegalArgumentException("variable-length values need a value slot of at least "
                    + ValueLayout.MIN_SLOT_BYTES + " bytes (a value block descriptor): " + valueBytes);
        }
        int maxKey = keyFormat == KeyFormat.VARIABLE ? MAX_KEY_SLOT_BYTES : MAX_KEY_BYTES;
        if (keyBytes < 1 || keyBytes > maxKey) {
            throw new IllegalArgumentException("key width must be in [1, " + maxKey + "] bytes: " + keyBytes);
        }
        if (valueBytes < 1 || valueBytes > MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("value width must be in [1, " + MAX_VALUE_BYTES + "] bytes: " + valueBytes);
        }
        if (cacheBytes < 0) {
            throw new IllegalArgumentException("cache budget must not be negative: " + cacheBytes);
        }
        if (nodeBytes == 0) {
            nodeBytes = autoNodeBytes(keyBytes, valueBytes);
        }
        if (nodeBytes < MIN_NODE_BYTES || nodeBytes > MAX_NODE_BYTES || nodeBytes % 64 != 0) {
            throw new IllegalArgumentException("node size must be a multiple of 64 in [" + MIN_NODE_BYTES + ", "
                    + MAX_NODE_BYTES + "]: " + nodeBytes);
        }
        NodeLayout layout = new NodeLayout(keyBytes, valueBytes, nodeBytes);
        if (layout.leafCapacity() < MIN_FANOUT || layout.internalCapacity() < MIN_FANOUT) {
            throw new IllegalArgumentException("a " + nodeBytes + "-byte node holds only " + layout.leafCapacity()
                    + " entries of " + keyBytes + "-byte keys and " + valueBytes + "-byte values; at least "
                    + MIN_FANOUT + " are needed: use a larger node size or 0 for automatic");
        }
    }

    public static TreeConfig defaults() {
        return new TreeConfig(8, 8, 0, DEFAULT_CACHE_BYTES);
    }

    static int autoNodeBytes(int keyBytes, int valueBytes) {
        int size = DEFAULT_NODE_BYTES;
        while (size < MAX_NODE_BYTES && new NodeLayout(keyBytes, valueBytes, size).leafCapacity() < MIN_AUTO_FANOUT) {
            size *= 2;
        }
        return size;
    }

    public NodeLayout layout() {
        return new NodeLayout(keyBytes, valueBytes, nodeBytes);
    }

    public TreeConfig withKeyBytes(int n) {
        return new TreeConfig(n, valueBytes, nodeBytes == autoNodeBytes(keyBytes, valueBytes) ? 0 : nodeBytes, cacheBytes, valueFormat, keyFormat);
    }

    public TreeConfig withValueBytes(int n) {
        return new TreeConfig(keyBytes, n, nodeBytes == autoNodeBytes(keyBytes, valueBytes) ? 0 : nodeBytes, cacheBytes, valueFormat, keyFormat);
    }

    public TreeConfig withNodeBytes(int n) {
        return new TreeConfig(keyBytes, valueBytes, n, cacheBytes, valueFormat, keyFormat);
    }

    public TreeConfig withCacheBytes(long n) {
        return new TreeConfig(keyBytes, valueBytes, nodeBytes, n, valueFormat, keyFormat);
    }

    /** This shape with values stored as {@code format} says (the slot width stays {@link #valueBytes}). */
    public TreeConfig withValueFormat(ValueFormat format) {
        return new TreeConfig(keyBytes, valueBytes, nodeBytes, cacheBytes, format, keyFormat);
    }

    /**
     * This shape with keys of 0 to {@code maxKeyBytes} bytes ({@link KeyLayout}): the key slot
     * becomes {@code maxKeyBytes + 2} bytes, values become variable-length, and the node size is
     * chosen again when it was automatic.
     */
    public TreeConfig withVariableKeys(int maxKeyBytes) {
        if (maxKeyBytes < 0 || maxKeyBytes > KeyLayout.MAX_KEY_BYTES) {
            throw new IllegalArgumentException("the longest key must be in [0, " + KeyLayout.MAX_KEY_BYTES + "] bytes: "
                    + maxKeyBytes);
        }
        int k = maxKeyBytes + KeyLayout.LENGTH_BYTES;
        int v = valueFormat == ValueFormat.VARIABLE ? valueBytes : Math.max(valueBytes, ValueLayout.MIN_SLOT_BYTES);
        return new TreeConfig(k, v, nodeBytes == autoNodeBytes(keyBytes, valueBytes) ? 0 : nodeBytes, cacheBytes,
                ValueFormat.VARIABLE, KeyFormat.VARIABLE);
    }

    /** Whether keys are variable-length ({@link KeyLayout}). */
    public boolean variableKeys() {
        return keyFormat == KeyFormat.VARIABLE;
    }

    /** Whether values are variable-length ({@link ValueLayout}). */
    public boolean variableValues() {
        return valueFormat == ValueFormat.VARIABLE;
    }
}
