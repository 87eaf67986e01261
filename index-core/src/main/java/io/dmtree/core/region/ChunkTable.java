package io.dmtree.core.region;

import io.dmtree.core.layout.ChunkTableLayout;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A compute node's view of every memory node's chunk table ({@link ChunkTableLayout}), read and
 * changed with one-sided verbs only: the geometry comes from each region's header, words are read
 * in pieces of at most {@value #PIECE_BYTES} bytes (what every carrier takes in one verb), and every
 * change of a word another member may change too is a CAS. Not thread-safe (each user keeps its own).
 */
public final class ChunkTable {
    /** The largest READ or WRITE this class issues. */
    public static final int PIECE_BYTES = 4096;

    private final Verbs verbs;
    private final ChunkTableLayout[] layouts;
    private final UnsafeBuffer piece = new UnsafeBuffer(new byte[PIECE_BYTES]);

    private ChunkTable(Verbs verbs, ChunkTableLayout[] layouts) {
        this.verbs = verbs;
        this.layouts = layouts;
    }

    /** Reads every memory node's header for its chunk table's place. */
    public static ChunkTable open(Verbs verbs) {
        int n = verbs.memoryNodeCount();
        ChunkTableLayout[] layouts = new ChunkTableLayout[n];
        UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
        for (int mn = 0; mn < n; mn++) {
            verbs.read(GlobalAddress.of(mn, 0), header, 0, 64);
            int format = (int) (header.getLong(RegionLayout.NODE_ID_AND_FORMAT_OFFSET) >>> 32);
            if (header.getLong(RegionLayout.MAGIC_OFFSET) != RegionLayout.MAGIC || format < 2) {
                throw new IllegalStateException("memory node " + mn + " has no chunk table (region format " + format
                        + ", needs " + RegionLayout.FORMAT_VERSION + "): restart it with this version");
            }
            long chunkBytes = header.getLong(RegionLayout.CHUNK_BYTES_OFFSET);
            long area = header.getLong(RegionLayout.CHUNK_AREA_OFFSET_OFFSET);
            long table = header.getLong(RegionLayout.CHUNK_TABLE_OFFSET_OFFSET);
            layouts[mn] = new ChunkTableLayout(area, chunkBytes, (table - area) / chunkBytes);
        }
        return new ChunkTable(verbs, layouts);
    }

    public int memoryNodes() {
        return layouts.length;
    }

    public ChunkTableLayout layout(int mn) {
        return layouts[mn];
    }

    public Verbs verbs() {
        return verbs;
    }

    /** Global address of chunk {@code c} of memory node {@code mn}. */
    public long chunkAddress(int mn, long c) {
        return GlobalAddress.of(mn, layouts[mn].chunkOffset(c));
    }

    /** Every owner word of memory node {@code mn}. */
    public long[] ownerWords(int mn) {
        ChunkTableLayout t = layouts[mn];
        return readWords(mn, t.ownerWord(0), (int) t.chunkCount());
    }

    /** The first {@code count} block words of chunk {@code c} of memory node {@code mn}. */
    public long[] blockWords(int mn, long c, int count) {
        return readWords(mn, layouts[mn].blockWord(c, 0), count);
    }

    private long[] readWords(int mn, long offset, int count) {
        long[] words = new long[count];
        int perPiece = PIECE_BYTES / Long.BYTES;
        for (int i = 0; i < count; i += perPiece) {
            int k = Math.min(perPiece, count - i);
            verbs.read(GlobalAddress.of(mn, offset + (long) i * Long.BYTES), piece, 0, k * Long.BYTES);
            for (int j = 0; j < k; j++) {
                words[i + j] = piece.getLong(j * Long.BYTES);
            }
        }
        return words;
    }

    /** CAS of the word at region offset {@code offset} of memory node {@code mn}; the value found. */
    public long cas(int mn, long offset, long expected, long desired) {
        return verbs.cas(GlobalAddress.of(mn, offset), expected, desired);
    }

    /** Writes {@code count} consecutive words from {@code offset} on, all {@code value}. */
    public void writeWords(int mn, long offset, int count, long value) {
        int perPiece = PIECE_BYTES / Long.BYTES;
        for (int i = 0; i < count; i += perPiece) {
            int k = Math.min(perPiece, count - i);
            for (int j = 0; j < k; j++) {
                piece.putLong(j * Long.BYTES, value);
            }
            verbs.write(GlobalAddress.of(mn, offset + (long) i * Long.BYTES), piece, 0, k * Long.BYTES);
        }
    }

    /** Writes zeros over {@code bytes} bytes from global address {@code address} on. */
    public void zero(long address, long bytes) {
        piece.setMemory(0, PIECE_BYTES, (byte) 0);
        for (long done = 0; done < bytes; done += PIECE_BYTES) {
            int k = (int) Math.min(PIECE_BYTES, bytes - done);
            verbs.write(GlobalAddress.plus(address, done), piece, 0, k);
        }
    }
}
