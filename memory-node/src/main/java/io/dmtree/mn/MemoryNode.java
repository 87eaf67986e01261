package io.dmtree.mn;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;

/**
 * A memory node: its region, formatted with the header of {@link RegionLayout}, and the chunk
 * allocator of its control plane, whose chunk table lives in the region ({@link ChunkAllocator}). It spends no CPU on the data path: compute nodes read, write
 * and run atomics on the region through their carrier.
 *
 * <p><b>Restart.</b> A memory node over a durable region ({@link RegionDurability#durable()}) that
 * already holds a formatted region <i>restores</i> it instead of formatting: it verifies the
 * header's identity against its configuration ({@link RegionIdentity}: another memory node's,
 * another size, a damaged header are refused), counts one more life, and serves every byte as the
 * last process left it: index superblock and root pointer, tree nodes, redo directory and redo
 * blocks, lock table, and the chunk allocator, whose state is a word of the header. Nothing is
 * reset: locks that compute nodes of an earlier life held stay held until the lock recovery of the
 * cluster releases them for those (fenced, departed) compute nodes, as for any compute node that
 * failed.
 *
 * <p><b>What it forces, when</b> (a durable region only): the header after formatting or
 * restoring it, after every chunk it hands out (the allocator word), and every byte at a clean
 * {@link #close()}, which then records the clean stop in the run state.
 */
public final class MemoryNode implements AutoCloseable {
    private final int id;
    private final MemoryNodeConfig config;
    private final OffHeapRegion region;
    private final ChunkAllocator chunks;
    private final RegionDurability durability;
    /** The run state the region had when this memory node opened it ({@link RegionLayout#RUN_NEVER} when formatted here). */
    private final long previousRunState;
    private volatile boolean closed;

    public MemoryNode(int id, MemoryNodeConfig config) {
        this(id, config, new OffHeapRegion(config.regionBytes()));
    }

    /**
     * A memory node over a region someone else provides (a shared-memory file mapping), of exactly
     * {@code config.regionBytes()} bytes; it is formatted here.
     */
    public MemoryNode(int id, MemoryNodeConfig config, OffHeapRegion region) {
        this(id, config, region, RegionDurability.NONE, false);
    }

    /**
     * A memory node over {@code region}, persisting as {@code durability} says: formatted here
     * unless {@code restore}, when the region must hold memory node {@code id}'s formatted region
     * of this configuration (an {@link IllegalStateException} says what differs).
     */
    public MemoryNode(int id, MemoryNodeConfig config, OffHeapRegion region, RegionDurability durability, boolean restore) {
        if (id < 0 || id >= GlobalAddress.MAX_MEMORY_NODES) {
            throw new IllegalArgumentException("memory node id out of range: " + id);
        }
        if (region.size() != config.regionBytes()) {
            throw new IllegalArgumentException("region of " + region.size() + " bytes for a memory node configured with "
                    + config.regionBytes());
        }
        if (restore && !durability.durable()) {
            throw new IllegalArgumentException("only a durable region can be restored");
        }
        this.id = id;
        this.config = config;
        this.region = region;
        this.durability = durability;
        this.chunks = new ChunkAllocator(region, config.chunkTable());
        if (restore) {
            RegionIdentity.verify(region, id, config, durability.toString());
            previousRunState = region.getLongVolatile(RegionLayout.RUN_STATE_OFFSET);
        } else {
            format();
            previousRunState = RegionLayout.RUN_NEVER;
        }
        region.fetchAndAdd(RegionLayout.LIVES_OFFSET, 1);
        region.putLongVolatile(RegionLayout.RUN_STATE_OFFSET, RegionLayout.RUN_SERVING);
        durability.forceHeader();
    }

    private void format() {
        // the whole header and lock table start zeroed: every lock free, every redo directory
        // entry empty (no member keeps a redo block here yet), no index, no chunk handed out
        region.zero(0, config.chunkAreaOffset());
        chunks.format(); // every chunk free; its table lies at the region's end
        region.putLongVolatile(RegionLayout.REGION_BYTES_OFFSET, config.regionBytes());
        region.putLongVolatile(RegionLayout.CHUNK_BYTES_OFFSET, config.chunkBytes());
        region.putLongVolatile(RegionLayout.LOCK_TABLE_OFFSET_OFFSET, RegionLayout.LOCK_TABLE_START);
        region.putLongVolatile(RegionLayout.LOCK_TABLE_BYTES_OFFSET, config.lockTableBytes());
        region.putLongVolatile(RegionLayout.CHUNK_AREA_OFFSET_OFFSET, config.chunkAreaOffset());
        region.putLongVolatile(RegionLayout.CHUNK_TABLE_OFFSET_OFFSET, chunks.table().tableOffset());
        region.putLongVolatile(RegionLayout.NODE_ID_AND_FORMAT_OFFSET,
                ((long) id) | ((long) RegionLayout.FORMAT_VERSION << 32));
        region.putLongVolatile(RegionLayout.MAGIC_OFFSET, RegionLayout.MAGIC);
        RegionIdentity.seal(region);
    }

    public int id() {
        return id;
    }

    public MemoryNodeConfig config() {
        return config;
    }

    public OffHeapRegion region() {
        return region;
    }

    /** How the region persists. */
    public RegionDurability durability() {
        return durability;
    }

    /** Whether this memory node restored a region an earlier process served. */
    public boolean restored() {
        return previousRunState != RegionLayout.RUN_NEVER;
    }

    /** Whether the process that served the region before this one stopped cleanly (false when formatted here). */
    public boolean previousStopWasClean() {
        return previousRunState == RegionLayout.RUN_STOPPED;
    }

    /** How many memory-node processes have served this region, this one included. */
    public long lives() {
        return region.getLongVolatile(RegionLayout.LIVES_OFFSET);
    }

    /** The cluster this region belongs to, 0 when none is recorded. */
    public long clusterId() {
        return region.getLongVolatile(RegionLayout.CLUSTER_ID_OFFSET);
    }

    /**
     * Records that the region belongs to cluster {@code cluster} (nonzero), or checks that it does:
     * a region of another cluster is refused with an {@link IllegalStateException}.
     */
    public void bindCluster(long cluster, String clusterName) {
        if (cluster == 0) {
            throw new IllegalArgumentException("cluster id 0 means none");
        }
        long held = clusterId();
        if (held == cluster) {
            return;
        }
        if (held != 0) {
            throw new IllegalStateException(durability + " belongs to cluster " + Long.toUnsignedString(held, 16)
                    + ", but this memory node joins cluster " + Long.toUnsignedString(cluster, 16) + " (" + clusterName
                    + "): give it the data directory of this cluster, or another one to start empty");
        }
        region.putLongVolatile(RegionLayout.CLUSTER_ID_OFFSET, cluster);
        RegionIdentity.seal(region);
        durability.forceHeader();
    }

    /**
     * The compute-node slots that keep a redo block in this region (nonzero redo directory entries):
     * every compute node that opened the index here and was not recovered since, so every one that
     * may have left half-done writes or held locks.
     */
    public java.util.List<Integer> slotsWithRedoBlocks() {
        java.util.List<Integer> slots = new java.util.ArrayList<>();
        for (int m = 0; m < RegionLayout.REDO_DIRECTORY_ENTRIES; m++) {
            if (region.getLongVolatile(RegionLayout.redoDirectoryEntry(m)) != 0) {
                slots.add(m);
            }
        }
        return slots;
    }

    /** What the restored region holds, in one line (for the memory node's start-up report). */
    public String restoreSummary() {
        long state = region.getLongVolatile(RegionLayout.INDEX_STATE_OFFSET);
        int redo = slotsWithRedoBlocks().size();
        long lockWordsInUse = 0;
        for (long o = RegionLayout.LOCK_TABLE_START; o < RegionLayout.LOCK_TABLE_START + config.lockTableBytes(); o += 8) {
            if (region.getLongVolatile(o) != 0) {
                lockWordsInUse++;
            }
        }
        StringBuilder b = new StringBuilder("life ").append(lives())
                .append(", previous stop ").append(previousStopWasClean() ? "clean" : "unclean (the process was killed or the host lost)")
                .append(", chunks ").append(chunks.allocated()).append('/').append(chunks.capacity())
                .append(", index ").append(state == RegionLayout.INDEX_READY ? "present"
                        : state == RegionLayout.INDEX_CREATING ? "being created" : "absent");
        if (id == 0 && state == RegionLayout.INDEX_READY) {
            b.append(" (root ").append(GlobalAddress.toString(region.getLongVolatile(RegionLayout.ROOT_POINTER_OFFSET))).append(')');
        }
        return b.append(", redo blocks of ").append(redo).append(" compute node(s), ").append(lockWordsInUse)
                .append(" lock-table word(s) nonzero").toString();
    }

    /** A fresh, zeroed chunk, pinned in the chunk table: its global address. */
    public long allocateChunk() {
        long offset = chunks.allocate(id);
        durability.forceHeader(); // the allocator word: a restart never hands this chunk out again
        region.zero(offset, config.chunkBytes());
        return GlobalAddress.of(id, offset);
    }

    public ChunkAllocator chunks() {
        return chunks;
    }

    /**
     * Stops serving the region. A durable region is forced whole first and then marked stopped
     * cleanly (forced too), so a restart knows every store of this life persisted.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (durability.durable() && !region.isClosed()) {
            durability.forceAll();
            region.putLongVolatile(RegionLayout.RUN_STATE_OFFSET, RegionLayout.RUN_STOPPED);
            durability.forceHeader();
        }
        region.close();
    }
}
