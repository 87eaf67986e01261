package io.dmtree.mn.control;

import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.rdma.RdmaRegionServer;
import io.dmtree.mn.shm.SharedRegionFile;
import io.dmtree.mn.tcp.FrameServer;
import io.dmtree.mn.tcp.FrameService;
import io.dmtree.mn.tcp.HelloFrame;
import io.dmtree.mn.tcp.VerbService;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A running memory node: its id lock, its region (process memory, or a shared-memory file for
 * {@code shm}), the control plane and, per transport, the data path's server (tcp verb service,
 * RDMA registration; none for shm, whose data path needs no memory-node thread). One instance is
 * one {@code dmtree mn} process; tests run several in one JVM.
 *
 * <p>Start-up refuses, with a message saying what to do: a second memory node with the same id
 * in the same directory (the id lock is held), an address in use, a region that does not fit, an
 * rdma carrier without libdisni or an RDMA device. {@link #close()} stops the servers, wakes every
 * waiting compute node with a shutting-down reply, and deletes the region file and the lock.
 */
public final class MemoryNodeServer implements AutoCloseable {
    private final MemoryNodeOptions options;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final SharedRegionFile regionFile;
    private final MemoryNode node;
    private final ControlPlane plane;
    private final FrameServer server;
    private final RdmaRegionServer rdma;
    private volatile boolean closed;

    private MemoryNodeServer(MemoryNodeOptions options, FileChannel lockChannel, FileLock lock, SharedRegionFile regionFile,
                             MemoryNode node, ControlPlane plane, FrameServer server, RdmaRegionServer rdma) {
        this.options = options;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.regionFile = regionFile;
        this.node = node;
        this.plane = plane;
        this.server = server;
        this.rdma = rdma;
    }

    /** Starts a memory node; an {@link IllegalStateException} says why it cannot. */
    public static MemoryNodeServer start(MemoryNodeOptions o) {
        if (o.transport() == Transport.RDMA) {
            String missing = io.dmtree.mn.rdma.RdmaSupport.missing();
            if (missing != null) {
                throw new IllegalStateException(missing);
            }
        }
        FileChannel lockChannel = null;
        FileLock lock = null;
        SharedRegionFile regionFile = null;
        MemoryNode node = null;
        FrameServer server = null;
        RdmaRegionServer rdma = null;
        try {
            Files.createDirectories(o.dir());
            lockChannel = FileChannel.open(o.lockFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new IllegalStateException("memory node " + o.id() + " is already running with directory " + o.dir()
                        + " (its lock " + o.lockFile() + " is held); give this one another --id or --dir");
            }
            OffHeapRegion region;
            if (o.transport() == Transport.SHM) {
                Path file = o.regionFile();
                if (Files.exists(file)) {
                    // we hold the id lock, so no live memory node owns it: a crashed one left it behind
                    System.err.println("dmtree: removing stale region file " + file + " left by a memory node that did not stop cleanly");
                    Files.delete(file);
                }
                regionFile = SharedRegionFile.create(file, o.region().regionBytes(), MemoryNodeOptions.SEGMENT_SHIFT);
                region = regionFile.region();
            } else {
                region = new OffHeapRegion(o.region().regionBytes());
            }
            node = new MemoryNode(o.id(), o.region(), region);
            ControlPlane[] planeHolder = new ControlPlane[1];
            Map<Integer, FrameService> services = new HashMap<>();
            services.put(HelloFrame.SERVICE_CONTROL, new DeferredControl(planeHolder));
            if (o.transport() == Transport.TCP) {
                services.put(HelloFrame.SERVICE_VERBS, new VerbService(region, o.maxFrameBytes()));
            }
            server = new FrameServer(o.listen(), o.id(), o.maxFrameBytes(), services, "dmtree-mn" + o.id());
            InetSocketAddress bound = server.address();
            String host = bound.getHostString();
            List<RdmaSegment> segments = List.of();
            int dataPort = bound.getPort();
            if (o.transport() == Transport.RDMA) {
                InetSocketAddress rl = o.rdmaListen() != null ? o.rdmaListen()
                        : new InetSocketAddress(o.listen().getHostString(), bound.getPort() + 1);
                rdma = RdmaRegionServer.start(region, rl);
                segments = rdma.segments();
                host = rl.getHostString();
                dataPort = rl.getPort();
            }
            RegionDescription d = new RegionDescription(o.id(), o.transport(), o.region().regionBytes(), o.region().chunkBytes(),
                    io.dmtree.core.layout.RegionLayout.LOCK_TABLE_START, o.region().lockTableBytes(), o.region().chunkAreaOffset(),
                    regionFile == null ? "" : regionFile.path().toAbsolutePath().toString(), host, dataPort, segments);
            ControlPlane plane = new ControlPlane(node, d);
            planeHolder[0] = plane;
            writeLockInfo(lockChannel, o, bound);
            return new MemoryNodeServer(o, lockChannel, lock, regionFile, node, plane, server, rdma);
        } catch (IOException | RuntimeException e) {
            if (rdma != null) {
                rdma.close();
            }
            if (server != null) {
                server.close();
            }
            if (node != null) {
                node.close();
            }
            if (regionFile != null) {
                regionFile.close();
            }
            if (lock != null) {
                releaseLock(lockChannel, lock, o.lockFile());
            } else if (lockChannel != null) {
                try {
                    lockChannel.close();
                } catch (IOException ignored) {
                    // reporting the first failure
                }
            }
            if (e instanceof IllegalStateException ise) {
                throw ise;
            }
            throw new IllegalStateException("memory node " + o.id() + " cannot start: " + e.getMessage(), e);
        }
    }

    private static void writeLockInfo(FileChannel ch, MemoryNodeOptions o, InetSocketAddress bound) throws IOException {
        String info = "pid=" + ProcessHandle.current().pid() + " id=" + o.id() + " transport=" + o.transport().cliName()
                + " address=" + FrameServer.describe(bound) + "\n";
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(info.getBytes(StandardCharsets.UTF_8)), 0);
    }

    private static void releaseLock(FileChannel ch, FileLock lock, Path file) {
        try {
            Files.deleteIfExists(file);
            lock.release();
            ch.close();
        } catch (IOException e) {
            System.err.println("dmtree: could not remove " + file + ": " + e.getMessage());
        }
    }

    /** Serves control frames once the plane exists (it needs the bound address first). */
    private record DeferredControl(ControlPlane[] plane) implements FrameService {
        @Override
        public int serviceId() {
            return HelloFrame.SERVICE_CONTROL;
        }

        @Override
        public Session open(java.net.SocketAddress peer) {
            ControlPlane p = plane[0];
            if (p == null) {
                return (r, w) -> {
                    throw new io.dmtree.mn.tcp.MalformedFrameException(io.dmtree.mn.tcp.FrameHeader.ERROR_UNAVAILABLE,
                            "the memory node is still starting", true);
                };
            }
            return new ControlService(p).open(peer);
        }
    }

    public MemoryNodeOptions options() {
        return options;
    }

    public InetSocketAddress address() {
        return server.address();
    }

    public MemoryNode memoryNode() {
        return node;
    }

    public ControlPlane controlPlane() {
        return plane;
    }

    public FrameServer frameServer() {
        return server;
    }

    /** The one line a launcher waits for. */
    public String readyLine() {
        RegionDescription d = plane.description();
        StringBuilder b = new StringBuilder("dmtree-mn id=").append(options.id())
                .append(" transport=").append(options.transport().cliName())
                .append(" address=").append(FrameServer.describe(address()))
                .append(" region-bytes=").append(d.regionBytes());
        if (!d.shmPath().isEmpty()) {
            b.append(" file=").append(d.shmPath());
        }
        if (options.transport() == Transport.RDMA) {
            b.append(" rdma=").append(d.host()).append(':').append(d.port());
        }
        return b.append(" ready").toString();
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        plane.shutdown();
        // let watchers and barrier waiters get their shutting-down replies before the sockets close
        long deadline = System.nanoTime() + 200_000_000L;
        while (server.openConnections() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        server.close();
        if (rdma != null) {
            rdma.close();
        }
        node.close();
        if (regionFile != null) {
            regionFile.close();
        }
        releaseLock(lockChannel, lock, options.lockFile());
    }
}
