package io.dmtree.core.tree;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The key order of the index: fixed-width byte strings compared unsigned-lexicographically,
 * eight bytes at a time. {@code long} keys are stored big-endian with the sign bit flipped so that
 * their byte order is their numeric order.
 */
public final class KeyOrder {
    private KeyOrder() {
    }

    /** Compares {@code width} bytes of two buffers: negative, zero or positive. */
    public static int compare(DirectBuffer a, int aOffset, DirectBuffer b, int bOffset, int width) {
        int i = 0;
        for (; i + 8 <= width; i += 8) {
            long x = a.getLong(aOffset + i, ByteOrder.BIG_ENDIAN);
            long y = b.getLong(bOffset + i, ByteOrder.BIG_ENDIAN);
            if (x != y) {
                return Long.compareUnsigned(x, y);
            }
        }
        for (; i < width; i++) {
            int x = a.getByte(aOffset + i) & 0xFF;
            int y = b.getByte(bOffset + i) & 0xFF;
            if (x != y) {
                return x - y;
            }
        }
        return 0;
    }

    public static boolean equal(DirectBuffer a, int aOffset, DirectBuffer b, int bOffset, int width) {
        return compare(a, aOffset, b, bOffset, width) == 0;
    }

    /** The stored form of a {@code long} key. */
    public static long encodeLong(long key) {
        return key ^ Long.MIN_VALUE;
    }

    public static long decodeLong(long stored) {
        return stored ^ Long.MIN_VALUE;
    }

    public static void putLongKey(MutableDirectBuffer buffer, int offset, long key) {
        buffer.putLong(offset, encodeLong(key), ByteOrder.BIG_ENDIAN);
    }

    public static long getLongKey(DirectBuffer buffer, int offset) {
        return decodeLong(buffer.getLong(offset, ByteOrder.BIG_ENDIAN));
    }

    public static byte[] longKeyBytes(long key) {
        byte[] b = new byte[8];
        long v = encodeLong(key);
        for (int i = 7; i >= 0; i--) {
            b[i] = (byte) v;
            v >>>= 8;
        }
        return b;
    }
}
