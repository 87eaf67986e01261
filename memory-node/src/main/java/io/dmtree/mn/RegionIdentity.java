package io.dmtree.mn;

import io.dmtree.core.layout.RegionLayout;

import java.util.zip.CRC32C;

/**
 * The words of a region header that say which region it is and must never change once formatted
 * (magic, sizes, offsets, memory-node id and format, cluster id: {@link RegionLayout}), sealed by a
 * CRC32C in {@link RegionLayout#IDENTITY_CHECKSUM_OFFSET}. A memory node restarting from a region's
 * bytes {@linkplain #verify verifies} them against its configuration before it serves anything,
 * and refuses, saying what differs, a region of another memory node, another size or another
 * cluster, and one whose header is damaged.
 */
public final class RegionIdentity {
    private RegionIdentity() {
    }

    /** The checksum of the identity words as the region holds them now. */
    public static long checksum(OffHeapRegion region) {
        CRC32C crc = new CRC32C();
        byte[] bytes = new byte[RegionLayout.IDENTITY_BYTES + Long.BYTES];
        region.copyOut(0, bytes, sun.misc.Unsafe.ARRAY_BYTE_BASE_OFFSET, RegionLayout.IDENTITY_BYTES);
        region.copyOut(RegionLayout.CLUSTER_ID_OFFSET, bytes,
                sun.misc.Unsafe.ARRAY_BYTE_BASE_OFFSET + RegionLayout.IDENTITY_BYTES, Long.BYTES);
        crc.update(bytes);
        return crc.getValue() | 1L << 32; // never 0, which means "not sealed"
    }

    /** Writes the checksum of the identity words as they are now. */
    public static void seal(OffHeapRegion region) {
        region.putLongVolatile(RegionLayout.IDENTITY_CHECKSUM_OFFSET, checksum(region));
    }

    /**
     * Throws {@link IllegalStateException} naming {@code where} and what differs unless the region is
     * memory node {@code id}'s, formatted with {@code config}, with an intact identity.
     */
    public static void verify(OffHeapRegion region, int id, MemoryNodeConfig config, String where) {
        long magic = region.getLongVolatile(RegionLayout.MAGIC_OFFSET);
        if (magic != RegionLayout.MAGIC) {
            throw new IllegalStateException(where + " is not a dmtree region (its first word is 0x" + Long.toHexString(magic)
                    + ", not the magic \"DMTREE01\"): it is damaged or another program's file; move it away to start afresh");
        }
        long sealed = region.getLongVolatile(RegionLayout.IDENTITY_CHECKSUM_OFFSET);
        if (sealed != checksum(region)) {
            throw new IllegalStateException(where + " has a damaged header (identity checksum 0x" + Long.toHexString(sealed)
                    + " does not match its words, 0x" + Long.toHexString(checksum(region)) + "); it cannot be served");
        }
        long idAndFormat = region.getLongVolatile(RegionLayout.NODE_ID_AND_FORMAT_OFFSET);
        int storedId = (int) idAndFormat;
        int format = (int) (idAndFormat >>> 32);
        if (format != RegionLayout.FORMAT_VERSION) {
            throw new IllegalStateException(where + " has region format " + format + "; this dmtree reads format "
                    + RegionLayout.FORMAT_VERSION);
        }
        if (storedId != id) {
            throw new IllegalStateException(where + " holds the region of memory node " + storedId + ", not of memory node "
                    + id + ": start it with --id " + storedId + " or give another data directory");
        }
        differs(where, "region size", "--memory", region.getLongVolatile(RegionLayout.REGION_BYTES_OFFSET), config.regionBytes());
        differs(where, "chunk size", "--chunk", region.getLongVolatile(RegionLayout.CHUNK_BYTES_OFFSET), config.chunkBytes());
        differs(where, "lock table size", "--lock-table", region.getLongVolatile(RegionLayout.LOCK_TABLE_BYTES_OFFSET),
                config.lockTableBytes());
        long table = region.getLongVolatile(RegionLayout.CHUNK_TABLE_OFFSET_OFFSET);
        if (table != config.chunkTable().tableOffset()) {
            throw new IllegalStateException(where + " keeps its chunk table at " + table + ", but a region of this"
                    + " configuration keeps it at " + config.chunkTable().tableOffset() + ": its header is damaged");
        }
    }

    private static void differs(String where, String what, String flag, long stored, long configured) {
        if (stored != configured) {
            throw new IllegalStateException(where + " was formatted with a " + what + " of " + stored + " bytes, but this"
                    + " memory node is configured with " + configured + ": start it with " + flag + " " + stored
                    + " or give another data directory");
        }
    }
}
