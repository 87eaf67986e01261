package io.dmtree.mn.carrier.shm;

import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.durable.MappedSegments;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A memory node's region as a file (normally under /dev/shm) that the memory node creates and
 * every compute node on the host maps: the {@code shm} carrier's memory. A JVM maps at most
 * 2 GiB per mapping, so the file is mapped in segments of {@code 2^segmentShift} bytes (1 GiB by
 * default) and the region addresses them by offset ({@link OffHeapRegion#overSegments}). All
 * mappings are shared: loads, stores and atomics of every process meet in the same pages.
 *
 * <p>The file starts zeroed (a fresh sparse file); the memory node formats its header. Unmapping is
 * left to the garbage collector (a mapping is released when its region is unreachable), so a
 * verb racing with close never touches unmapped memory; the creator deletes the file on close.
 */
public final class SharedRegionFile implements AutoCloseable {
    public static final int DEFAULT_SEGMENT_SHIFT = 30;

    private final Path path;
    private final OffHeapRegion region;
    private final boolean owner;

    private SharedRegionFile(Path path, OffHeapRegion region, boolean owner) {
        this.path = path;
        this.region = region;
        this.owner = owner;
    }

    /**
     * Creates the file of {@code bytes} bytes, failing if it exists, and maps it. Only the creator
     * deletes it (on {@link #close()}).
     */
    public static SharedRegionFile create(Path path, long bytes, int segmentShift) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            try {
                ch.truncate(0);
                // sparse: sets the size without touching pages
                ch.write(java.nio.ByteBuffer.wrap(new byte[1]), bytes - 1);
                return new SharedRegionFile(path, map(ch, bytes, segmentShift, path), true);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(path);
                throw e;
            }
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(path.toString(), null, "the region file already exists");
        }
    }

    /** Maps an existing region file of exactly {@code expectedBytes} bytes (a compute node). */
    public static SharedRegionFile open(Path path, long expectedBytes, int segmentShift) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            if (size != expectedBytes) {
                throw new IOException("region file " + path + " has " + size + " bytes, but its memory node describes "
                        + expectedBytes);
            }
            return new SharedRegionFile(path, map(ch, size, segmentShift, path), false);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(path.toString(), null,
                    "the memory node's region file is missing (is the memory node on this host and running?)");
        }
    }

    private static OffHeapRegion map(FileChannel ch, long bytes, int segmentShift, Path path) throws IOException {
        return MappedSegments.map(ch, bytes, segmentShift, path, FileChannel.MapMode.READ_WRITE).region();
    }

    public Path path() {
        return path;
    }

    public OffHeapRegion region() {
        return region;
    }

    /** Refuses further access through this mapping; the creator also deletes the file. */
    @Override
    public void close() {
        region.close();
        if (owner) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                System.err.println("dmtree: could not delete " + path + ": " + e.getMessage());
            }
        }
    }
}
