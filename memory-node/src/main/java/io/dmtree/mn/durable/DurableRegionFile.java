package io.dmtree.mn.durable;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.RegionDurability;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A memory node's region kept in a file of a data directory, {@code DIR/dmtree-mnID.data}, mapped
 * shared into the process: the region's bytes are the file's bytes, with no header or log of its
 * own (the region header of {@link RegionLayout} is the file's identity), so every carrier serves
 * it as it serves process memory, the {@code shm} carrier's compute nodes map the same file, an
 * RDMA device registers the mapping, and a mirror of the region would be a file of the same kind.
 *
 * <h2>What survives what</h2>
 * <ul>
 *   <li><b>The process killed</b> (SIGKILL, a JVM crash): everything. Every store into a shared
 *   file mapping is in the kernel's page cache the moment it is made, and the kernel writes the
 *   page cache back to the file whether or not the process lives. A restart finds every verb that
 *   took effect, so every write a compute node was acknowledged (a verb returns only after it took
 *   effect), and the half-done work of compute nodes that failed with it, which node repair and
 *   lock recovery finish as for any compute node that fails.</li>
 *   <li><b>The host lost</b> (power, a kernel crash): only what was forced ({@link #forceAll},
 *   {@link #forceHeader}; {@code msync}). The memory node forces the header when it formats or
 *   restores the region and after every chunk it hands out, and the whole region at a clean stop,
 *   so after a host crash the file is the region as of the last clean stop plus whatever pages the
 *   kernel happened to write back since, in no particular order: consistent only if no compute node
 *   wrote after the last clean stop. Forcing per verb would put an {@code msync} on every write's
 *   path; the tree's protocol does not need it for process failures, which are what it recovers.</li>
 *   <li><b>Persistent memory</b>: a file on a DAX file system (ext4 or xfs mounted {@code -o dax})
 *   is mapped the same way and the stores go to the media without the page cache;
 *   {@link Options#syncMapping} maps it {@code MAP_SYNC} ({@code ExtendedMapMode.READ_WRITE_SYNC}),
 *   so {@link #forceAll} flushes CPU caches instead of calling {@code msync}, and on a platform
 *   whose caches are in the persistence domain (eADR) every store survives power loss as it survives
 *   a process kill. A file system without DAX refuses the sync mapping, with the kernel's reason.</li>
 * </ul>
 *
 * <h2>Refusals</h2>
 * A file of another size than configured, a file another process holds (an OS lock on the file
 * for as long as this object is open), and a header that is not a region's (checked by the memory
 * node: {@link io.dmtree.mn.RegionIdentity}) are refused with a message saying what to do. A new
 * file is sparse and must fit in its file system's free space, since a sparse file that outgrows
 * its file system kills every process mapping it with SIGBUS.
 */
public final class DurableRegionFile implements RegionDurability, AutoCloseable {
    /**
     * @param segmentShift log2 of the size of one mapping (at most 30)
     * @param syncMapping  map {@code MAP_SYNC} (a DAX file on persistent memory); refused elsewhere
     */
    public record Options(int segmentShift, boolean syncMapping) {
        public static final Options DEFAULTS = new Options(30, false);

        public Options {
            if (segmentShift < 12 || segmentShift > 30) {
                throw new IllegalArgumentException("segment shift must be in [12, 30]: " + segmentShift);
            }
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final FileLock lock;
    private final MappedSegments mapping;
    private final boolean created;
    private volatile boolean closed;

    private DurableRegionFile(Path path, FileChannel channel, FileLock lock, MappedSegments mapping, boolean created) {
        this.path = path;
        this.channel = channel;
        this.lock = lock;
        this.mapping = mapping;
        this.created = created;
    }

    /** The file of memory node {@code memoryNode}'s region in {@code dir}. */
    public static Path file(Path dir, int memoryNode) {
        return dir.resolve("dmtree-mn" + memoryNode + ".data");
    }

    /**
     * Opens memory node {@code memoryNode}'s region file in {@code dir}, creating the directory and a
     * zeroed file of {@code regionBytes} bytes if there is none; an {@link IllegalStateException}
     * says why it cannot (in use, another size, no room, not a regular file).
     */
    public static DurableRegionFile open(Path dir, int memoryNode, long regionBytes, Options options) throws IOException {
        Files.createDirectories(dir);
        Path path = file(dir, memoryNode);
        if (Files.exists(path) && !Files.isRegularFile(path)) {
            throw new IllegalStateException("data directory " + dir + ": " + path + " is not a regular file");
        }
        boolean fresh = !Files.exists(path);
        if (fresh) {
            checkRoom(dir, regionBytes);
        }
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock = null;
        try {
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new IllegalStateException("data directory " + dir + " is in use: another memory node holds " + path);
            }
            long size = ch.size();
            if (size == 0) {
                fresh = true;
                ch.write(ByteBuffer.wrap(new byte[1]), regionBytes - 1); // sparse: sets the size, touches no page
                ch.force(true);
            } else if (size != regionBytes) {
                throw new IllegalStateException("data directory " + dir + " holds a region of " + size + " bytes for memory node "
                        + memoryNode + ", but this memory node is configured with " + regionBytes + ": start it with --memory "
                        + size + " or give another data directory");
            }
            FileChannel.MapMode mode = options.syncMapping() ? jdk.nio.mapmode.ExtendedMapMode.READ_WRITE_SYNC
                    : FileChannel.MapMode.READ_WRITE;
            MappedSegments mapping = MappedSegments.map(ch, regionBytes, options.segmentShift(), path, mode);
            boolean neverFormatted = !fresh && mapping.region().getLongVolatile(RegionLayout.MAGIC_OFFSET) == 0
                    && allZero(mapping.region(), RegionLayout.HEADER_BYTES);
            return new DurableRegionFile(path, ch, lock, mapping, fresh || neverFormatted);
        } catch (IOException | RuntimeException e) {
            if (lock != null) {
                lock.release();
            }
            ch.close();
            if (fresh && e instanceof IOException) {
                Files.deleteIfExists(path);
            }
            throw e;
        }
    }

    /** A file whose header was never written (the first start stopped before it formatted): formatted afresh. */
    private static boolean allZero(OffHeapRegion region, int bytes) {
        for (int o = 0; o < bytes; o += 8) {
            if (region.getLongVolatile(o) != 0) {
                return false;
            }
        }
        return true;
    }

    private static void checkRoom(Path dir, long regionBytes) throws IOException {
        FileStore store = Files.getFileStore(dir);
        long free = store.getUsableSpace();
        if (regionBytes > free) {
            throw new IllegalStateException("a region of " + regionBytes + " bytes does not fit in data directory " + dir
                    + " (file system " + store.name() + "), which has " + free + " bytes free; give a smaller --memory, free"
                    + " space there, or another data directory");
        }
    }

    public Path path() {
        return path;
    }

    public OffHeapRegion region() {
        return mapping.region();
    }

    /** Whether this open made the file (or found it never formatted): the memory node formats it, else restores it. */
    public boolean created() {
        return created;
    }

    @Override
    public boolean durable() {
        return true;
    }

    @Override
    public void forceHeader() {
        if (!closed) {
            mapping.force(0, RegionLayout.HEADER_BYTES);
        }
    }

    @Override
    public void forceAll() {
        if (!closed) {
            mapping.forceAll();
        }
    }

    @Override
    public String toString() {
        return "data file " + path;
    }

    /** Refuses further access through the region and releases the file's lock; the file stays. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        mapping.region().close();
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            System.err.println("dmtree: could not release " + path + ": " + e.getMessage());
        }
    }
}
