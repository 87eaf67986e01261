package io.dmtree.core.layout;

/**
 * The chunk table: the memory node's own record, in its region, of who owns each chunk of the
 * chunk area and what each block of an owned chunk holds. It lies at the end of the region, after
 * the last chunk, so it lives (and survives) with the region; compute nodes read it and change it
 * with one-sided verbs only (READ, WRITE of their own words, CAS), and the memory node itself only
 * zeroes it when it formats the region and claims chunks in it by CAS for its control plane.
 *
 * <pre>
 *  region:  | header | lock table | chunk 0 | chunk 1 | ... | chunk n-1 | chunk table |
 *                                 ^ chunk area offset                  ^ chunk table offset (header word 56)
 *
 *  chunk table at T:
 *   T + 8c            owner word of chunk c (n words, then padding to 64 bytes)
 *   B = T + align64(8n)
 *   B + c*S + 8i      block word of block i of chunk c, S = 8 * chunkBytes / 256 bytes per chunk
 *
 *  owner word                              block word
 *   63      56 55         40 39        0    63      56 55         40 39        0
 *   +---------+-------------+----------+    +---------+-------------+----------+
 *   | state:8 | member:16   | epoch:40 |    | state:8 | member:16   | epoch:40 |
 *   +---------+-------------+----------+    +---------+-------------+----------+
 * </pre>
 *
 * <p>An owned chunk is cut into blocks of the index's node size ({@code chunkBytes / nodeBytes}
 * blocks; a remainder smaller than a node is slack). The table keeps a block word for every
 * {@value #MIN_BLOCK_BYTES} bytes, the smallest node, so every node size fits; block i of chunk c
 * is at {@code chunk address + i * nodeBytes}.
 *
 * <h2>States and who may change them</h2>
 * Owner word: {@link #CHUNK_FREE} (0) a chunk nobody owns: the next claimer CASes it to
 * {@link #CHUNK_OWNED} by (member, epoch); {@link #CHUNK_PINNED} a chunk handed out whole by the
 * control plane for a shared object (never reclaimed); {@link #CHUNK_ADOPTED} a chunk whose owner
 * lapsed and was recovered while some of its blocks were still in use: its used blocks stay, the
 * others are free blocks of the pool.
 *
 * <p>Block word: {@link #BLOCK_RESERVE} (0) not handed out since its chunk was claimed: the chunk
 * owner's own reserve, handed out by it alone (it bumps through its chunk); {@link #BLOCK_NODE} a
 * tree node handed out to (member, epoch), written by that member only before it names the block
 * anywhere; {@link #BLOCK_META} part of a member's metadata block (its redo block), same rule;
 * {@link #BLOCK_VALUE} and {@link #BLOCK_VALUE_TAIL} the first and the further blocks of a run of
 * reserve blocks holding one out-of-line value, handed out and written like a node (a run is
 * reachable while a live leaf names its first block, and is freed whole); {@link #BLOCK_VALUE_SPARE}
 * a block of such a run its member freed and keeps for its own later values;
 * {@link #BLOCK_FREE} in the free pool: any member may claim it by CAS (the epoch field then
 * counts the block's reuses).
 *
 * <p>Invariant: a block's memory is written by at most one member between two changes of its word,
 * the member the word names; free blocks exist only in adopted chunks, so the owner of an owned
 * chunk is the only member that hands out its blocks, and its recovery the only one that frees
 * them. Every byte of the chunk area is therefore accounted for by exactly one word.
 */
public final class ChunkTableLayout {
    /** The finest block the table describes: the smallest tree node. */
    public static final int MIN_BLOCK_BYTES = 256;
    /** Header word holding the chunk table's offset (format version 2). */
    public static final int TABLE_OFFSET_OFFSET = 56;

    public static final int CHUNK_FREE = 0;
    public static final int CHUNK_OWNED = 1;
    public static final int CHUNK_PINNED = 2;
    public static final int CHUNK_ADOPTED = 3;

    public static final int BLOCK_RESERVE = 0;
    public static final int BLOCK_NODE = 1;
    public static final int BLOCK_META = 2;
    public static final int BLOCK_FREE = 3;
    /** The first block of a value block run ({@code io.dmtree.core.tree.ValueLayout}), same rule as a node. */
    public static final int BLOCK_VALUE = 4;
    /** A further block of the value block run that starts at the nearest "value" word before it. */
    public static final int BLOCK_VALUE_TAIL = 5;
    /**
     * A block of a value run its member freed and keeps for its own later values only (nobody else
     * claims it, so it never becomes a node); free space to the accounting, freed by recovery.
     */
    public static final int BLOCK_VALUE_SPARE = 6;

    public static final int STATE_SHIFT = 56;
    public static final int MEMBER_SHIFT = 40;
    public static final long MEMBER_MASK = 0xFFFFL;
    public static final long EPOCH_MASK = (1L << 40) - 1;

    private final long chunkAreaOffset;
    private final long chunkBytes;
    private final long chunkCount;
    private final long tableOffset;

    /** The table of a region of this geometry (as its header states it). */
    public ChunkTableLayout(long chunkAreaOffset, long chunkBytes, long chunkCount) {
        if (chunkBytes < MIN_BLOCK_BYTES || chunkBytes % MIN_BLOCK_BYTES != 0 || chunkCount < 0) {
            throw new IllegalArgumentException("chunk table of " + chunkCount + " chunks of " + chunkBytes + " bytes");
        }
        this.chunkAreaOffset = chunkAreaOffset;
        this.chunkBytes = chunkBytes;
        this.chunkCount = chunkCount;
        this.tableOffset = chunkAreaOffset + chunkCount * chunkBytes;
    }

    /** The most chunks (with their table) that fit in {@code regionBytes} from the chunk area on. */
    public static long chunksThatFit(long regionBytes, long chunkAreaOffset, long chunkBytes) {
        long room = regionBytes - chunkAreaOffset;
        if (room <= 0) {
            return 0;
        }
        // an upper bound without the owner words, then down to the largest count whose region fits
        // (exactly the inverse of regionBytesFor, so a region made for n chunks holds n)
        long n = room / (chunkBytes + blockWordBytesPerChunk(chunkBytes));
        while (n > 0 && regionBytesFor(chunkAreaOffset, chunkBytes, n) > regionBytes) {
            n--;
        }
        return n;
    }

    /** Region bytes that hold {@code chunks} chunks, their table and what precedes the chunk area. */
    public static long regionBytesFor(long chunkAreaOffset, long chunkBytes, long chunks) {
        return chunkAreaOffset + chunks * chunkBytes + tableBytes(chunkBytes, chunks);
    }

    public static long tableBytes(long chunkBytes, long chunks) {
        return RegionLayout.alignUp(chunks * Long.BYTES, 64) + chunks * blockWordBytesPerChunk(chunkBytes);
    }

    public static long blockWordBytesPerChunk(long chunkBytes) {
        return chunkBytes / MIN_BLOCK_BYTES * Long.BYTES;
    }

    public long chunkAreaOffset() {
        return chunkAreaOffset;
    }

    public long chunkBytes() {
        return chunkBytes;
    }

    public long chunkCount() {
        return chunkCount;
    }

    public long tableOffset() {
        return tableOffset;
    }

    public long tableBytes() {
        return tableBytes(chunkBytes, chunkCount);
    }

    /** Region offset of chunk {@code c}. */
    public long chunkOffset(long c) {
        return chunkAreaOffset + c * chunkBytes;
    }

    /** The chunk holding region offset {@code offset}, or -1 outside the chunk area. */
    public long chunkOf(long offset) {
        if (offset < chunkAreaOffset || offset >= tableOffset) {
            return -1;
        }
        return (offset - chunkAreaOffset) / chunkBytes;
    }

    /** Region offset of chunk {@code c}'s owner word. */
    public long ownerWord(long c) {
        return tableOffset + c * Long.BYTES;
    }

    /** Region offset of the first block word of chunk {@code c}. */
    public long blockWords(long c) {
        return tableOffset + RegionLayout.alignUp(chunkCount * Long.BYTES, 64) + c * blockWordBytesPerChunk(chunkBytes);
    }

    /** Region offset of block {@code i}'s word in chunk {@code c}. */
    public long blockWord(long c, long i) {
        return blockWords(c) + i * Long.BYTES;
    }

    /** Blocks of {@code blockBytes} in one chunk. */
    public long blocksPerChunk(int blockBytes) {
        if (blockBytes < MIN_BLOCK_BYTES) {
            throw new IllegalArgumentException("blocks of " + blockBytes + " bytes are finer than the chunk table's "
                    + MIN_BLOCK_BYTES);
        }
        return chunkBytes / blockBytes;
    }

    // ------------------------------------------------------------------ words

    public static long word(int state, int member, long epoch) {
        return ((long) state << STATE_SHIFT) | ((member & MEMBER_MASK) << MEMBER_SHIFT) | (epoch & EPOCH_MASK);
    }

    public static int state(long word) {
        return (int) (word >>> STATE_SHIFT);
    }

    public static int member(long word) {
        return (int) ((word >>> MEMBER_SHIFT) & MEMBER_MASK);
    }

    public static long epoch(long word) {
        return word & EPOCH_MASK;
    }

    /** Whether {@code word} names (member, an epoch no later than {@code epoch}) with state {@code state}. */
    public static boolean heldBy(long word, int state, int member, long epoch) {
        return state(word) == state && member(word) == member && epoch(word) <= (epoch & EPOCH_MASK);
    }

    public static String describe(long word, boolean block) {
        int s = state(word);
        String name = block
                ? switch (s) { case BLOCK_RESERVE -> "reserve"; case BLOCK_NODE -> "node"; case BLOCK_META -> "meta";
                    case BLOCK_FREE -> "free";
                    case BLOCK_VALUE -> "value"; case BLOCK_VALUE_TAIL -> "value tail";
                    case BLOCK_VALUE_SPARE -> "spare value"; default -> "state " + s; }
                : switch (s) { case CHUNK_FREE -> "free"; case CHUNK_OWNED -> "owned"; case CHUNK_PINNED -> "pinned";
                    case CHUNK_ADOPTED -> "adopted"; default -> "state " + s; };
        return name + " (member " + member(word) + ", epoch " + epoch(word) + ")";
    }
}
