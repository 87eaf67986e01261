package io.dmtree.core.tree;

import org.agrona.DirectBuffer;

import java.util.Arrays;

/**
 * Byte layout of variable-length keys ({@link KeyFormat#VARIABLE}): a key of {@code n} bytes,
 * {@code 0 <= n <= M}, is stored inline in the tree's fixed key slot of {@code K = M + 2} bytes
 * (leaf entries, separators and fences alike), zero-padded, followed by its length.
 *
 * <pre>
 *   0                    n                    M            M+2 = K
 *   +--------------------+--------------------+------------+
 *   | key bytes          | zeros              | n:2 (BE)   |
 *   +--------------------+--------------------+------------+
 * </pre>
 *
 * <h2>Invariant: the tree's order is the keys' order</h2>
 * The tree compares slots as unsigned bytes ({@link KeyOrder}). For keys a and b: if they differ
 * at some position below both lengths, the first such byte decides both orders alike; otherwise
 * one is a prefix of the other (say a, shorter, or equal), the padded slots agree on
 * {@code [0, M)} wherever b's extra bytes are zero, and where they are not, a's zero is lower; when
 * the padded parts agree entirely, the length (big-endian) puts a first. So stored slots sort
 * exactly as the keys do in unsigned lexicographic order (shorter prefix first), the order of
 * {@link Arrays#compareUnsigned(byte[], byte[])}; the empty key is the least, stored as all zeros
 * like the lowest low fence. Every slot names one key: its length field says where the key ends.
 *
 * <p>The cost of this choice: every key takes the slot of the longest, so the chosen maximum sizes
 * the nodes (an index of keys up to 1 KiB has nodes of several KiB, and a cached lookup still
 * reads one of them in one READ). Keys far below their maximum are better served by a smaller
 * maximum; a layout with an inline prefix and out-of-line key blocks is not built.
 */
public final class KeyLayout {
    /** The longest variable-length key. */
    public static final int MAX_KEY_BYTES = 1024;
    public static final int LENGTH_BYTES = 2;

    private final int slotBytes;
    private final int maxKeyBytes;

    public KeyLayout(int slotBytes) {
        if (slotBytes < LENGTH_BYTES || slotBytes - LENGTH_BYTES > MAX_KEY_BYTES) {
            throw new IllegalArgumentException("a variable-length key slot must be in [" + LENGTH_BYTES + ", "
                    + (MAX_KEY_BYTES + LENGTH_BYTES) + "] bytes: " + slotBytes);
        }
        this.slotBytes = slotBytes;
        this.maxKeyBytes = slotBytes - LENGTH_BYTES;
    }

    public int slotBytes() {
        return slotBytes;
    }

    public int maxKeyBytes() {
        return maxKeyBytes;
    }

    /** The slot of {@code key}; a clear {@link IllegalArgumentException} when it is null or too long. */
    public byte[] encode(byte[] key) {
        if (key == null) {
            throw new IllegalArgumentException("a key is needed (an empty array for the empty key)");
        }
        if (key.length > maxKeyBytes) {
            throw new IllegalArgumentException("key of " + key.length + " bytes is longer than this index's maximum of "
                    + maxKeyBytes + " bytes");
        }
        byte[] slot = Arrays.copyOf(key, slotBytes);
        slot[maxKeyBytes] = (byte) (key.length >>> 8);
        slot[maxKeyBytes + 1] = (byte) key.length;
        return slot;
    }

    /** The key stored in the slot at {@code offset} of {@code buffer}. */
    public byte[] decode(DirectBuffer buffer, int offset) {
        int n = ((buffer.getByte(offset + maxKeyBytes) & 0xFF) << 8) | (buffer.getByte(offset + maxKeyBytes + 1) & 0xFF);
        if (n > maxKeyBytes) {
            throw new IllegalStateException("a key slot states a length of " + n + " bytes, above the maximum "
                    + maxKeyBytes + ": it is not a variable-length key");
        }
        byte[] key = new byte[n];
        buffer.getBytes(offset, key);
        return key;
    }

    public byte[] decode(byte[] slot) {
        return decode(new org.agrona.concurrent.UnsafeBuffer(slot), 0);
    }
}
