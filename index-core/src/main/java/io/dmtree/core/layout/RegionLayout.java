package io.dmtree.core.layout;

/**
 * Offsets of the fixed parts of every memory node's region. All fields are little-endian words
 * written once when the memory node formats its region, except the index superblock, which the
 * first compute node to open an index fills (on memory node 0 only) and whose root pointer
 * changes by CAS when the root grows.
 *
 * <pre>
 *   0                   8                   16                  24                  32
 *   +-------------------+-------------------+-------------------+-------------------+
 *   | magic "DMTREE01"  | region bytes      | chunk bytes       | lock table offset |
 *   +-------------------+-------------------+-------------------+-------------------+
 *  32 lock table bytes  | chunk area offset | mn id:32|fmt:32   | chunk table offset|
 *   +-------------------+-------------------+-------------------+-------------------+
 *  64 index superblock (memory node 0):
 *   +-------------------+---------+---------+---------+---------+-------------------+
 *   | root pointer      | key w:32| val w:32| node:32 |stride:32| index state       |
 *   +-------------------+---------+---------+---------+---------+-------------------+
 *  96 lock design name, 32 bytes of ASCII, zero padded                              |
 *   +-------------------------------------------------------------------------------+
 * 128 memory-node state (written by the memory node only; compute nodes may read it):
 *   +-------------------+-------------------+-------------------+-------------------+
 *   | reserved          | lives             | run state         | cluster id        |
 *   +-------------------+-------------------+-------------------+-------------------+
 * 160 identity checksum (CRC32C of bytes 0..55 and 152..159, 0 = not sealed)       |
 *   +-------------------+-------------------+-------------------+
 * 168 compute-node coordination words (memory node 0; compute nodes read them and CAS/FAA them):
 *   | restart checked   | reuse era         |
 *   +-------------------+-------------------+
 *      restart checked: the lives checked after a restart; reuse era: raised by FAA each time a
 *      freed tree node is handed out again
 * 184 .. 2047 reserved
 * 2048 redo directory: REDO_DIRECTORY_ENTRIES words, one per compute-node member id
 *   +-------------------+-------------------+-----   ...   -----+-------------------+
 *   | redo block of m=0 | redo block of m=1 |                   | redo block m=255  |
 *   +-------------------+-------------------+-----   ...   -----+-------------------+
 * 4096 lock table: lock table bytes / stride locks, each zeroed, then chunk area (4 KiB aligned),
 *      then the chunk table ({@link ChunkTableLayout}) up to the region's end
 * </pre>
 *
 * <p>The redo directory holds, for each member id, the global address (on this same memory node)
 * of the redo block that member keeps here, or 0 when it keeps none. A member writes its entry
 * once when it opens the index, after it wrote the block's header; recovery of a lapsed member
 * reads it, and clears it by CAS when done. The memory node zeroes the whole header when it
 * formats the region, so every entry starts empty. The block itself is the member's own chunk
 * memory, laid out as {@code io.dmtree.core.tree.RedoLayout} describes. Adding the directory moved
 * no existing field: it lives in header bytes that were reserved, and format version 1 regions
 * simply have every entry 0.
 *
 * <p>The memory-node state words make a region restartable from its bytes alone (a durable region
 * kept in a file): the chunk allocator's count of chunks handed out lives here, so a restarted
 * memory node hands out none twice; {@code lives} counts the processes that served the region;
 * {@code run state} says whether the last one stopped cleanly ({@link #RUN_STOPPED}) or is/was
 * running ({@link #RUN_SERVING}); {@code cluster id} names the cluster the region belongs to (0:
 * none recorded); the identity checksum seals the words that must never change (magic, sizes, id,
 * format, cluster id), so a damaged header is refused instead of misread. Like the redo directory
 * they occupy bytes that were reserved (zero in older regions).
 */
public final class RegionLayout {
    public static final long MAGIC = 0x313045455254444DL; // "DMTREE01" little-endian
    /** Version 2 added the chunk table (its offset in the word that was reserved at 56). */
    public static final int FORMAT_VERSION = 2;

    public static final int MAGIC_OFFSET = 0;
    public static final int REGION_BYTES_OFFSET = 8;
    public static final int CHUNK_BYTES_OFFSET = 16;
    public static final int LOCK_TABLE_OFFSET_OFFSET = 24;
    public static final int LOCK_TABLE_BYTES_OFFSET = 32;
    public static final int CHUNK_AREA_OFFSET_OFFSET = 40;
    public static final int NODE_ID_AND_FORMAT_OFFSET = 48;
    public static final int CHUNK_TABLE_OFFSET_OFFSET = ChunkTableLayout.TABLE_OFFSET_OFFSET;

    public static final int SUPERBLOCK_OFFSET = 64;
    public static final int ROOT_POINTER_OFFSET = SUPERBLOCK_OFFSET;
    public static final int KEY_WIDTH_OFFSET = SUPERBLOCK_OFFSET + 8;
    public static final int VALUE_WIDTH_OFFSET = SUPERBLOCK_OFFSET + 12;
    public static final int NODE_SIZE_OFFSET = SUPERBLOCK_OFFSET + 16;
    public static final int LOCK_STRIDE_OFFSET = SUPERBLOCK_OFFSET + 20;
    public static final int INDEX_STATE_OFFSET = SUPERBLOCK_OFFSET + 24;
    public static final int LOCK_DESIGN_OFFSET = SUPERBLOCK_OFFSET + 32;
    public static final int LOCK_DESIGN_BYTES = 32;
    public static final int SUPERBLOCK_BYTES = 64;

    /** Index state word values. */
    public static final long INDEX_ABSENT = 0;
    public static final long INDEX_CREATING = 1;
    public static final long INDEX_READY = 2;

    /** Memory-node state: how many memory-node processes have served this region. */
    public static final int LIVES_OFFSET = 136;
    /** Memory-node state: {@link #RUN_SERVING} while a process serves the region, {@link #RUN_STOPPED} after a clean stop. */
    public static final int RUN_STATE_OFFSET = 144;
    /** Memory-node state: the cluster the region belongs to, 0 when none is recorded. */
    public static final int CLUSTER_ID_OFFSET = 152;
    /** Memory-node state: CRC32C over the identity words (bytes 0..55 and the cluster id). */
    public static final int IDENTITY_CHECKSUM_OFFSET = 160;
    /** The first of the words compute nodes change by atomics in the header: restart checked, reuse era. */
    public static final int COORDINATION_WORDS_OFFSET = 168;
    /**
     * Memory node 0: the sum of every memory node's lives that the tree checker last ran for after
     * a restart, with {@link #RESTART_CHECK_RUNNING} set while a compute node runs it (compute nodes
     * decide by CAS who runs it; see {@code io.dmtree.cn.recovery.RestartCheck}).
     */
    public static final int RESTART_CHECKED_OFFSET = 168;
    public static final long RESTART_CHECK_RUNNING = 1L << 62;
    /**
     * The reuse era, on memory node 0: every hand-out of a freed node block raises it by FAA and
     * stamps the node with the raised value ({@code NodeLayout}'s born era), so a pointer read
     * before the reuse is told from one read after it.
     */
    public static final int REUSE_ERA_OFFSET = 176;
    /** The end of the coordination words. */
    public static final int COORDINATION_WORDS_END = 184;
    /** Bytes 0..55: magic, sizes, offsets, memory-node id and format. */
    public static final int IDENTITY_BYTES = 56;

    /** Run state values. */
    public static final long RUN_NEVER = 0;
    public static final long RUN_SERVING = 1;
    public static final long RUN_STOPPED = 2;

    /** The redo directory: one 8-byte word per member id, in the header's reserved bytes. */
    public static final int REDO_DIRECTORY_OFFSET = 2048;
    public static final int REDO_DIRECTORY_ENTRIES = 256;

    public static final int HEADER_BYTES = 4096;
    public static final int LOCK_TABLE_START = HEADER_BYTES;
    public static final int CHUNK_ALIGNMENT = 4096;

    private RegionLayout() {
    }

    public static long alignUp(long value, long alignment) {
        return (value + alignment - 1) / alignment * alignment;
    }

    /** Offset of member {@code member}'s redo directory word. */
    public static int redoDirectoryEntry(int member) {
        if (member < 0 || member >= REDO_DIRECTORY_ENTRIES) {
            throw new IllegalArgumentException("compute node id " + member + " has no redo directory entry: node repair"
                    + " keeps one for ids 0.." + (REDO_DIRECTORY_ENTRIES - 1));
        }
        return REDO_DIRECTORY_OFFSET + member * Long.BYTES;
    }

    /** Where the chunk area starts for a lock table of the given size. */
    public static long chunkAreaOffset(long lockTableBytes) {
        return alignUp(LOCK_TABLE_START + lockTableBytes, CHUNK_ALIGNMENT);
    }
}
