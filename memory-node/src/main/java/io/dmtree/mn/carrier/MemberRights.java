package io.dmtree.mn.carrier;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.AccessRight;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.mn.OffHeapRegion;

/**
 * The rights one member holds on the ranges of a memory node's region, derived from the region's
 * layout ({@link RegionLayout}, read from its formatted header). The ranges partition the region;
 * every verb must hold its right ({@link AccessRight}) on every byte it touches:
 *
 * <pre>
 *   range                                   rights of compute node m
 *   [0, 64)          region header          read
 *   [64, 128)        index superblock       read, atomic; write only while the index is not ready
 *                                           (its creator fills it once; the root grows by CAS)
 *   [128, 168)       memory-node state      read (lives, run state, cluster id, identity checksum)
 *   [168, 184)       coordination words     read, atomic (restart checked, reuse era)
 *   [184, 2048)      reserved               none
 *   [2048, 4096)     redo directory         read, atomic (recovery reads and clears others' entries);
 *                                           write on m's own entry, 8 bytes at 2048 + 8m
 *   [4096, L)        lock table             read, write, atomic
 *   [L, C)           gap before the chunks  none
 *   [C, region end)  chunk area             read, write, atomic (tree nodes, redo blocks, and the
 *                                           chunk table at the region's end)
 * </pre>
 *
 * A member without an id (a connection of a cluster without membership) may write every redo
 * directory entry. The chunk table ({@code ChunkTableLayout}) lies in the chunk area's range: compute
 * nodes claim chunks and record blocks in it with one-sided verbs, so these ranges let every
 * member's atomics and writes reach it. The tcp carrier then checks every WRITE, CAS and FAA on
 * the table against per-owner rules ({@link ChunkTableRights}: a member changes only its own
 * chunk's words, claims only free ones with its own tag, and releases another's only once that
 * member is fenced). The rdma carrier cannot: a NIC checks rights per registration, not values,
 * and rdma members allocate with the same one-sided CAS and WRITE on the table, so the table lies
 * in the chunk area's read-write-atomic window of every member and any rdma member can rewrite any
 * owner or block word (a read-only registration would stop its allocation; a memory-node service
 * for those updates is not built).
 *
 * <p>These rights are the member's lease's: a fenced incarnation (its lease lapsed) has its verbs
 * refused before any right is looked at. A check walks at most {@link #MAX_RANGES} ranges of
 * preallocated arrays and allocates nothing; only a refusal builds its message. Immutable, so one
 * instance may be read by any thread.
 */
public final class MemberRights {
    /** Header, superblock, memory-node state, coordination words, reserved bytes, three of the redo directory, lock table, gap, chunks. */
    public static final int MAX_RANGES = 11;
    /** A range whose write right holds only while the index superblock's state is not READY. */
    private static final int WRITE_UNTIL_READY = 8;

    private final int member;
    private final long[] starts = new long[MAX_RANGES];
    private final long[] ends = new long[MAX_RANGES];
    private final int[] rights = new int[MAX_RANGES];
    private final String[] names = new String[MAX_RANGES];
    private int count;

    private MemberRights(int member) {
        this.member = member;
    }

    /**
     * The rights of compute node {@code member} (-1: a member without an id) on {@code region},
     * whose header must be formatted.
     */
    public static MemberRights of(OffHeapRegion region, int member) {
        if (region.getLongVolatile(RegionLayout.MAGIC_OFFSET) != RegionLayout.MAGIC) {
            throw new IllegalStateException("the region is not formatted (no dmtree header): its rights cannot be derived");
        }
        return of(region.size(), region.getLongVolatile(RegionLayout.LOCK_TABLE_OFFSET_OFFSET),
                region.getLongVolatile(RegionLayout.LOCK_TABLE_BYTES_OFFSET),
                region.getLongVolatile(RegionLayout.CHUNK_AREA_OFFSET_OFFSET), member);
    }

    /**
     * The rights of compute node {@code member} on a region of {@code size} bytes with this lock
     * table and chunk area (as its header, or its region description, says).
     */
    public static MemberRights of(long size, long lockStart, long lockBytes, long chunks, int member) {
        long lockEnd = lockStart + lockBytes;
        if (lockStart != RegionLayout.LOCK_TABLE_START || lockEnd < lockStart || chunks < lockEnd || chunks > size) {
            throw new IllegalStateException("the region's layout is not dmtree's (lock table at " + lockStart + ", chunks at "
                    + chunks + "): its rights cannot be derived");
        }
        MemberRights r = new MemberRights(member);
        r.add(0, RegionLayout.SUPERBLOCK_OFFSET, AccessRight.READ.bit(), "region header");
        r.add(RegionLayout.SUPERBLOCK_OFFSET, RegionLayout.SUPERBLOCK_OFFSET + RegionLayout.SUPERBLOCK_BYTES,
                AccessRight.READ.bit() | AccessRight.ATOMIC.bit() | WRITE_UNTIL_READY, "index superblock");
        r.add(RegionLayout.SUPERBLOCK_OFFSET + RegionLayout.SUPERBLOCK_BYTES, RegionLayout.COORDINATION_WORDS_OFFSET,
                AccessRight.READ.bit(), "memory-node state");
        r.add(RegionLayout.COORDINATION_WORDS_OFFSET, RegionLayout.COORDINATION_WORDS_END,
                AccessRight.READ.bit() | AccessRight.ATOMIC.bit(), "coordination words");
        r.add(RegionLayout.COORDINATION_WORDS_END, RegionLayout.REDO_DIRECTORY_OFFSET, AccessRight.NONE,
                "reserved header bytes");
        int directory = AccessRight.READ.bit() | AccessRight.ATOMIC.bit();
        long dirEnd = RegionLayout.REDO_DIRECTORY_OFFSET + (long) RegionLayout.REDO_DIRECTORY_ENTRIES * Long.BYTES;
        if (member < 0 || member >= RegionLayout.REDO_DIRECTORY_ENTRIES) {
            r.add(RegionLayout.REDO_DIRECTORY_OFFSET, dirEnd, directory | AccessRight.WRITE.bit(), "redo directory");
        } else {
            long own = RegionLayout.redoDirectoryEntry(member);
            r.add(RegionLayout.REDO_DIRECTORY_OFFSET, own, directory, "redo directory (others' entries)");
            r.add(own, own + Long.BYTES, AccessRight.ALL, "own redo directory entry");
            r.add(own + Long.BYTES, dirEnd, directory, "redo directory (others' entries)");
        }
        if (dirEnd != RegionLayout.LOCK_TABLE_START) {
            throw new IllegalStateException("the redo directory does not end where the lock table starts");
        }
        r.add(lockStart, lockEnd, AccessRight.ALL, "lock table");
        if (chunks > lockEnd) {
            r.add(lockEnd, chunks, AccessRight.NONE, "gap before the chunk area");
        }
        r.add(chunks, size, AccessRight.ALL, "chunk area");
        return r;
    }

    private void add(long start, long end, int bits, String name) {
        if (start == end) {
            return;
        }
        if (count == MAX_RANGES || (count > 0 && ends[count - 1] != start)) {
            throw new IllegalStateException("rights ranges must partition the region");
        }
        starts[count] = start;
        ends[count] = end;
        rights[count] = bits;
        names[count] = name;
        count++;
    }

    /** The compute node these rights are of, or -1. */
    public int member() {
        return member;
    }

    /**
     * The first range of {@code [offset, offset + length)} that lacks {@code right}, or -1 when the
     * verb is within the rights. The caller checked that the access lies inside the region.
     */
    public int denied(AccessRight right, long offset, long length, OffHeapRegion region) {
        long end = offset + Math.max(1, length);
        int bit = right.bit();
        for (int i = 0; i < count; i++) {
            if (ends[i] <= offset) {
                continue;
            }
            if (starts[i] >= end) {
                return -1;
            }
            int held = rights[i];
            if ((held & bit) == 0 && !(bit == AccessRight.WRITE.bit() && (held & WRITE_UNTIL_READY) != 0
                    && region.getLongVolatile(RegionLayout.INDEX_STATE_OFFSET) != RegionLayout.INDEX_READY)) {
                return i;
            }
        }
        return -1;
    }

    /** Why range {@code i} refused {@code right} at {@code offset} of memory node {@code memoryNode}, for the error reply. */
    public String refusal(int i, AccessRight right, long offset, long length, int memoryNode) {
        String who = member < 0 ? "this member" : "compute node " + member;
        return right.name() + " of " + length + " bytes at 0x" + Long.toHexString(GlobalAddress.of(memoryNode, offset))
                + " (memory node " + memoryNode + ", offset " + offset + ", " + names[i] + " [" + starts[i] + ", " + ends[i]
                + ")): " + who + " holds " + held(i) + " there";
    }

    private String held(int i) {
        int bits = rights[i] & AccessRight.ALL;
        String s = AccessRight.describe(bits);
        return (rights[i] & WRITE_UNTIL_READY) != 0 ? s + " (write only while the index is created)" : s;
    }

    /** How many ranges partition the region (at most {@link #MAX_RANGES}). */
    public int rangeCount() {
        return count;
    }

    public long rangeStart(int i) {
        return starts[i];
    }

    public long rangeEnd(int i) {
        return ends[i];
    }

    public String rangeName(int i) {
        return names[i];
    }

    /**
     * The rights ({@link AccessRight} bits) range {@code i} grants, given whether the index is
     * ready (a range that grants write only while the index is created grants it when not).
     */
    public int rangeRights(int i, boolean indexReady) {
        int bits = rights[i] & AccessRight.ALL;
        return (rights[i] & WRITE_UNTIL_READY) != 0 && !indexReady ? bits | AccessRight.WRITE.bit() : bits;
    }

    /** The ranges and rights, one per line, for operators. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < count; i++) {
            b.append('[').append(starts[i]).append(", ").append(ends[i]).append(") ").append(names[i]).append(": ")
                    .append(held(i)).append('\n');
        }
        return b.toString();
    }
}
