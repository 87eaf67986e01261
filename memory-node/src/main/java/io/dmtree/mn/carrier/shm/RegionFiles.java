package io.dmtree.mn.carrier.shm;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The files dmtree leaves in a shared-memory directory, and how to tell a live one from one left
 * by a process that crashed: a memory node holds an OS lock on {@code dmtree-mnID.lock} for as long
 * as it runs (the kernel drops it when the process dies, however it dies), and its region is
 * {@code dmtree-mnID.region}; a compute node's inbox is {@code dmtree-cnID-PID-N.inbox}, live while
 * process PID is. {@link #removeLeftovers} (run by {@code dmtree mn --clean}) deletes exactly the
 * files no live process owns.
 */
public final class RegionFiles {
    private static final Pattern MEMORY_NODE = Pattern.compile("dmtree-mn(\\d+)\\.(lock|region|zk)");
    /** The cluster secret memory node 0 generates in its directory (MemoryNodeOptions#secretFile). */
    private static final String CLUSTER_SECRET = "dmtree-cluster.secret";
    private static final Pattern INBOX = Pattern.compile("dmtree-cn\\d+-(\\d+)-\\d+\\.inbox(\\.tmp)?");

    private RegionFiles() {
    }

    /** Removes a region file a crashed memory node left; the caller holds that id's lock. */
    static void removeStale(Path file) throws IOException {
        if (Files.exists(file)) {
            System.err.println("dmtree: removing stale region file " + file + " left by a memory node that did not stop cleanly");
            Files.delete(file);
        }
    }

    /**
     * Refuses a region larger than the free space of the file system holding {@code dir}: the file
     * is sparse, so it would be accepted, and the memory node and every compute node would die with
     * SIGBUS once the file system fills.
     */
    static void checkRoom(Path dir, long regionBytes) throws IOException {
        FileStore store = Files.getFileStore(dir);
        long free = store.getUsableSpace();
        if (regionBytes > free) {
            throw new IOException("a region of " + regionBytes + " bytes does not fit in " + dir + " (file system " + store.name()
                    + "), which has " + free + " bytes free; give a smaller --memory, free space there, or another --dir");
        }
    }

    /**
     * Deletes the memory-node locks, regions and ZooKeeper data directories ({@code dmtree-mnID.zk})
     * whose memory node is not running, the cluster secret memory node 0 generated when it is not
     * running, and the inboxes
     * of compute-node processes that are gone, in {@code dir}; returns what it deleted. Files of
     * live processes are left alone.
     */
    public static List<Path> removeLeftovers(Path dir) throws IOException {
        List<Path> removed = new ArrayList<>();
        List<Path> memoryNodeFiles = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "dmtree-*")) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                Matcher inbox = INBOX.matcher(name);
                if (inbox.matches()) {
                    if (ProcessHandle.of(Long.parseLong(inbox.group(1))).isEmpty() && Files.deleteIfExists(p)) {
                        removed.add(p);
                    }
                } else if (MEMORY_NODE.matcher(name).matches()) {
                    memoryNodeFiles.add(p);
                } else if (name.equals(CLUSTER_SECRET) && !heldByLiveMemoryNode(dir.resolve("dmtree-mn0.lock"))
                        && Files.deleteIfExists(p)) {
                    removed.add(p); // memory node 0 wrote it; restarted, it writes a fresh one
                }
            }
        }
        for (Path p : memoryNodeFiles) {
            Matcher m = MEMORY_NODE.matcher(p.getFileName().toString());
            if (!m.matches()) {
                continue;
            }
            Path lock = dir.resolve("dmtree-mn" + m.group(1) + ".lock");
            if (heldByLiveMemoryNode(lock)) {
                continue;
            }
            if (Files.isDirectory(p)) { // memory node 0's ZooKeeper data
                io.dmtree.mn.membership.EmbeddedZooKeeper.removeData(p);
                removed.add(p);
            } else if (Files.deleteIfExists(p)) {
                removed.add(p);
            }
        }
        return removed;
    }

    /** True while a memory node holds {@code lock}'s OS lock. */
    private static boolean heldByLiveMemoryNode(Path lock) throws IOException {
        if (!Files.exists(lock)) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.WRITE)) {
            FileLock l = ch.tryLock();
            if (l == null) {
                return true;
            }
            l.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true; // a memory node in this very JVM holds it
        }
    }
}
