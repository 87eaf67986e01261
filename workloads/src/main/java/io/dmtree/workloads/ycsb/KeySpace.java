package io.dmtree.workloads.ycsb;

/**
 * Maps record numbers (insert order) to fixed-width keys so that key order is not insert order,
 * like YCSB's hashed insert order, but without collisions: the map is a bijection.
 *
 * <p>For a key of {@code w} bytes let {@code b = min(8w, 64)} bits. Record {@code r} becomes
 * {@code s = scramble_b(r)}, where {@code scramble_b} XORs a seed-derived salt and then applies two
 * rounds of "xor-shift right by {@code ceil(b/2)}, multiply by an odd constant mod {@code 2^b}";
 * each step is invertible on {@code b}-bit numbers, so distinct records get distinct keys.
 *
 * <pre>
 *   w &lt;= 8 :  key = s as w bytes, big-endian                       (capacity 2^(8w) records)
 *   w  &gt; 8 :  key = s as 8 bytes, big-endian | w-8 filler bytes     (filler derived from r)
 * </pre>
 * With {@code long} keys ({@code w = 8}) the key is {@code s} itself, a signed {@code long}.
 */
public final class KeySpace {
    private static final long MULTIPLIER_1 = 0xFF51AFD7ED558CCDL;
    private static final long MULTIPLIER_2 = 0xC4CEB9FE1A85EC53L;
    private static final long SALT_MIX = 0x9E3779B97F4A7C15L;

    private final int keyBytes;
    private final int bits;
    private final long mask;
    private final int shift;
    private final long salt;

    public KeySpace(int keyBytes, long seed) {
        if (keyBytes < 1 || keyBytes > 64) {
            throw new IllegalArgumentException("key width must be in [1, 64] bytes: " + keyBytes);
        }
        this.keyBytes = keyBytes;
        this.bits = Math.min(8 * keyBytes, 64);
        this.mask = bits == 64 ? -1L : (1L << bits) - 1;
        this.shift = (bits + 1) / 2;
        this.salt = (seed * SALT_MIX) & mask;
    }

    public int keyBytes() {
        return keyBytes;
    }

    /** How many distinct keys this width holds, capped at {@link Long#MAX_VALUE}. */
    public long capacity() {
        return bits >= 63 ? Long.MAX_VALUE : 1L << bits;
    }

    /** Fails with a message when {@code records} records do not fit into keys of this width. */
    public void requireCapacity(long records) {
        if (records > capacity()) {
            throw new IllegalArgumentException(records + " records do not fit into " + keyBytes + "-byte keys (at most "
                    + capacity() + " distinct keys)");
        }
    }

    /** The scrambled {@code b}-bit number of record {@code record}. */
    public long scramble(long record) {
        long x = (record ^ salt) & mask;
        x ^= x >>> shift;
        x = (x * MULTIPLIER_1) & mask;
        x ^= x >>> shift;
        x = (x * MULTIPLIER_2) & mask;
        x ^= x >>> shift;
        return x;
    }

    /** The key of {@code record} as a {@code long}; only for 8-byte keys. */
    public long longKey(long record) {
        if (keyBytes != 8) {
            throw new IllegalStateException("long keys need 8-byte keys, not " + keyBytes);
        }
        return scramble(record);
    }

    /** A new array holding the key of {@code record}. */
    public byte[] key(long record) {
        byte[] key = new byte[keyBytes];
        writeKey(record, key);
        return key;
    }

    /** Writes the key of {@code record} into {@code dst[0 .. keyBytes)}. */
    public void writeKey(long record, byte[] dst) {
        long s = scramble(record);
        int prefix = Math.min(keyBytes, 8);
        for (int i = 0; i < prefix; i++) {
            dst[i] = (byte) (s >>> (8 * (prefix - 1 - i)));
        }
        if (keyBytes > 8) {
            long filler = ValueSource.mix(record + 1);
            for (int i = 8; i < keyBytes; i++) {
                dst[i] = (byte) (filler >>> (8 * (i & 7)));
            }
        }
    }
}
