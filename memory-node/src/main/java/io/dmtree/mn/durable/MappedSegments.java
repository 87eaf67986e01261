package io.dmtree.mn.durable;

import io.dmtree.mn.OffHeapRegion;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A file mapped shared into this process as one {@link OffHeapRegion}: a JVM maps at most 2 GiB per
 * mapping, so the file is mapped in segments of {@code 2^segmentShift} bytes that the region
 * addresses by offset ({@link OffHeapRegion#overSegments}). Stores of every process mapping the
 * file meet in the same pages. {@link #force} writes pages back to the file's storage. The
 * mappings are released by the garbage collector once the region is unreachable, so a verb racing
 * with close never touches unmapped memory.
 */
public final class MappedSegments {
    private final OffHeapRegion region;
    private final MappedByteBuffer[] maps;
    private final int segmentShift;

    private MappedSegments(OffHeapRegion region, MappedByteBuffer[] maps, int segmentShift) {
        this.region = region;
        this.maps = maps;
        this.segmentShift = segmentShift;
    }

    /** Maps the first {@code bytes} bytes of {@code ch} (named {@code path} in errors) with {@code mode}. */
    public static MappedSegments map(FileChannel ch, long bytes, int segmentShift, Path path, FileChannel.MapMode mode)
            throws IOException {
        if (segmentShift < 12 || segmentShift > 30) {
            throw new IllegalArgumentException("segment shift must be in [12, 30]: " + segmentShift);
        }
        long segment = 1L << segmentShift;
        int n = (int) ((bytes + segment - 1) >>> segmentShift);
        MappedByteBuffer[] maps = new MappedByteBuffer[n];
        long[] addresses = new long[n];
        for (int i = 0; i < n; i++) {
            long start = (long) i << segmentShift;
            long len = Math.min(segment, bytes - start);
            try {
                maps[i] = ch.map(mode, start, len);
            } catch (IOException | UnsupportedOperationException e) {
                throw new IOException("cannot map " + len + " bytes of " + path + " at " + start + " (" + mode + "): "
                        + e.getMessage(), e);
            }
            addresses[i] = new UnsafeBuffer(maps[i]).addressOffset();
        }
        return new MappedSegments(OffHeapRegion.overSegments(bytes, addresses, segmentShift, maps), maps, segmentShift);
    }

    public OffHeapRegion region() {
        return region;
    }

    /** Writes back every page of {@code [offset, offset + length)} that changed; returns once the storage has them. */
    public void force(long offset, long length) {
        long end = offset + length;
        while (offset < end) {
            int i = (int) (offset >>> segmentShift);
            long segmentStart = (long) i << segmentShift;
            int from = (int) (offset - segmentStart);
            int n = (int) Math.min(end - offset, maps[i].capacity() - from);
            maps[i].force(from, n);
            offset += n;
        }
    }

    /** Writes back every changed page of the file. */
    public void forceAll() {
        for (MappedByteBuffer m : maps) {
            m.force();
        }
    }
}
