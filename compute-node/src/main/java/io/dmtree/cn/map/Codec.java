package io.dmtree.cn.map;

import io.dmtree.core.tree.KeyOrder;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;

/**
 * Turns keys or values of type {@code T} into the fixed-width byte strings an index stores, and
 * back. A codec must be injective (two values encode alike only when they are {@code equals}), so
 * that compare-and-set on bytes is compare-and-set on values. For keys, the unsigned
 * lexicographic order of the encodings is the map's order, and {@link #comparator()} states it in
 * terms of {@code T}.
 *
 * <p>Built in: {@link #bytes()} (arrays of exactly the width), {@link #utf8()} (strings as UTF-8,
 * padded with zero bytes; a string holding U+0000 or too long for the width is refused) and
 * {@link #longs()} (8 bytes, in signed order). A value that cannot be encoded raises
 * {@link IllegalArgumentException}.
 */
public interface Codec<T> {
    /** The encoding of {@code value} in exactly {@code width} bytes. */
    byte[] encode(T value, int width);

    /** The value {@code bytes} (as {@link #encode} wrote them) stand for. */
    T decode(byte[] bytes);

    /**
     * The order of {@code T} that the encodings' unsigned lexicographic order equals, or null when
     * it is {@code T}'s natural order.
     */
    Comparator<? super T> comparator();

    /** The class of the values, for a clear error when a map is handed another type. */
    Class<T> type();

    /** Byte arrays of exactly the width, ordered unsigned-lexicographically. */
    static Codec<byte[]> bytes() {
        return new Codec<>() {
            @Override
            public byte[] encode(byte[] value, int width) {
                if (value.length != width) {
                    throw new IllegalArgumentException("this index holds " + width + "-byte arrays, got " + value.length + " bytes");
                }
                return value.clone();
            }

            @Override
            public byte[] decode(byte[] bytes) {
                return bytes.clone();
            }

            @Override
            public Comparator<? super byte[]> comparator() {
                return Arrays::compareUnsigned;
            }

            @Override
            public Class<byte[]> type() {
                return byte[].class;
            }
        };
    }

    /**
     * Strings as UTF-8 padded with zero bytes to the width, ordered by code point (the order of
     * their UTF-8 bytes; this differs from {@link String#compareTo} only for supplementary
     * characters against U+E000..U+FFFF).
     */
    static Codec<String> utf8() {
        return new Codec<>() {
            @Override
            public byte[] encode(String value, int width) {
                if (value.indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("a string holding U+0000 cannot be stored: zero bytes pad strings");
                }
                byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
                if (utf8.length > width) {
                    throw new IllegalArgumentException("string of " + utf8.length + " UTF-8 bytes is longer than this index's "
                            + width + "-byte width");
                }
                return Arrays.copyOf(utf8, width);
            }

            @Override
            public String decode(byte[] bytes) {
                int n = bytes.length;
                while (n > 0 && bytes[n - 1] == 0) {
                    n--;
                }
                return new String(bytes, 0, n, StandardCharsets.UTF_8);
            }

            @Override
            public Comparator<? super String> comparator() {
                return Codec::compareCodePoints;
            }

            @Override
            public Class<String> type() {
                return String.class;
            }
        };
    }

    /** {@code long}s in 8 bytes, big-endian with the sign bit flipped: ordered as signed numbers. */
    static Codec<Long> longs() {
        return new Codec<>() {
            @Override
            public byte[] encode(Long value, int width) {
                if (width != Long.BYTES) {
                    throw new IllegalArgumentException("long keys and values need an 8-byte width; this one is " + width);
                }
                return KeyOrder.longKeyBytes(value);
            }

            @Override
            public Long decode(byte[] bytes) {
                return KeyOrder.decodeLong(ByteBuffer.wrap(bytes).getLong());
            }

            @Override
            public Comparator<? super Long> comparator() {
                return null;
            }

            @Override
            public Class<Long> type() {
                return Long.class;
            }
        };
    }

    /** Compares strings by code point. */
    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int x = a.codePointAt(i);
            int y = b.codePointAt(j);
            if (x != y) {
                return Integer.compare(x, y);
            }
            i += Character.charCount(x);
            j += Character.charCount(y);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }
}
