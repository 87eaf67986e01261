package io.dmtree.mn.control;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.core.carrier.CarrierRegistry;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameServer;
import io.dmtree.core.wire.FrameService;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.HostPort;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.core.wire.RegionDescription;
import io.dmtree.core.wire.SessionContext;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.carrier.CarrierServer;
import io.dmtree.mn.carrier.ComputeNodeProcesses;
import io.dmtree.mn.carrier.DataEndpoint;
import io.dmtree.mn.carrier.ServeContext;
import io.dmtree.mn.carrier.ServedRegion;

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
import java.util.Map;

/**
 * A running memory node: its id lock, its region as its carrier serves it ({@link ServedRegion}:
 * process memory, or a shared-memory file for {@code shm}), the control plane and the front door
 * (a {@link FrameServer} with the control service and whatever services the carrier adds, such
 * as tcp verbs). The carrier is found by name in the {@link CarrierRegistry}. One instance is one
 * {@code dmtree mn} process; tests run several in one JVM.
 *
 * <p>Start-up refuses, with a message saying what to do: a second memory node with the same id
 * in the same directory (the id lock is held), an address in use, a region that does not fit, a
 * carrier that cannot run on this host (rdma without libdisni or a device). The front door runs
 * with {@link MemoryNodeOptions#limits()} (buffers, timeouts, connection cap, threads); control
 * frames are bounded by {@link MemoryNodeOptions#controlFrameBytes()}, verb frames by
 * {@link MemoryNodeOptions#maxFrameBytes()}. {@link #close()}
 * stops the servers, wakes every waiting compute node with a shutting-down reply, and deletes
 * the region file and the lock.
 *
 * <p>With a data directory ({@link MemoryNodeOptions#dataDir()}) the region is durable: the carrier
 * serves a {@link io.dmtree.mn.durable.DurableRegionFile}, the memory node formats it once and
 * restores it at every later start (checking its identity and, with membership, that it belongs
 * to this cluster), memory node 0's embedded ZooKeeper keeps its data there too, and a clean stop
 * forces the region and marks it stopped.
 *
 * <p>With membership ({@link MemoryNodeOptions#coordination()}), the memory node runs memory node 0's
 * embedded ZooKeeper or connects to the cluster's, fences every incarnation in the fence book before
 * it serves, names the coordination service in its region description, joins as a memory node, and
 * does its part of fencing ({@link MemoryNodeMembership}); its ready line says {@code zk=HOST:PORT}.
 */
public final class MemoryNodeServer implements AutoCloseable {
    private final MemoryNodeOptions options;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ServedRegion served;
    private final MemoryNode node;
    private final ControlPlane plane;
    private final FrameServer server;
    private final MemoryNodeMembership membership;
    private volatile boolean closed;
    /** Compute-node slots of the earlier life this memory node booked for fencing and recovery at a restart. */
    private java.util.List<Integer> earlierLife = java.util.List.of();
    private long earlierLifeEpoch;

    private MemoryNodeServer(MemoryNodeOptions options, FileChannel lockChannel, FileLock lock, ServedRegion served,
                             MemoryNode node, ControlPlane plane, FrameServer server, MemoryNodeMembership membership) {
        this.membership = membership;
        this.options = options;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.served = served;
        this.node = node;
        this.plane = plane;
        this.server = server;
    }

    /** Starts a memory node; an {@link IllegalStateException} says why it cannot. */
    public static MemoryNodeServer start(MemoryNodeOptions o) {
        CarrierServer carrier = CarrierRegistry.find(CarrierServer.class, o.transport());
        String missing = carrier.unavailableReason();
        if (missing != null) {
            throw new IllegalStateException(missing);
        }
        FileChannel lockChannel = null;
        FileLock lock = null;
        ServedRegion served = null;
        FrameServer server = null;
        MemoryNodeMembership membership = null;
        java.util.List<Integer> earlierLife = java.util.List.of();
        long earlierLifeEpoch = 0;
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
            ComputeNodeProcesses processes = new ComputeNodeProcesses();
            served = carrier.open(new ServeContext(o.id(), o.region().regionBytes(), o.dir(), o.maxFrameBytes(),
                    o.carrierOptions().with(ServeContext.MEMBERSHIP, o.coordination().enabled() ? "on" : "off"), processes,
                    o.dataDir()));
            // a restored region is checked against this configuration before anything else
            MemoryNode node = new MemoryNode(o.id(), o.region(), served.region(), served.durability(), served.restores());
            io.dmtree.mn.carrier.FencedEpochs controlFenced = new io.dmtree.mn.carrier.FencedEpochs();
            if (o.coordination().enabled()) { // before serving: every incarnation in the fence book is fenced first
                ServedRegion s = served;
                membership = MemoryNodeMembership.connect(o.id(), o.coordination(), o.advertise(), o.zkDataDir(),
                        o.durable(), (cn, e) -> {
                            controlFenced.fence(cn, e); // the control plane refuses it too, before the acknowledgement
                            s.fence(cn, e);
                        }, o.secret());
                if (o.durable()) {
                    node.bindCluster(membership.clusterId(), membership.coordinationString());
                }
                if (node.restored()) { // compute nodes of the earlier life: fenced here before serving, recovered by live ones
                    earlierLife = node.slotsWithRedoBlocks();
                    earlierLifeEpoch = earlierLife.isEmpty() ? 0 : membership.fenceEarlierLife(earlierLife);
                }
            }
            ControlPlane[] planeHolder = new ControlPlane[1];
            Map<Integer, FrameService> services = new HashMap<>();
            services.put(HelloFrame.SERVICE_CONTROL, new DeferredControl(planeHolder, o.controlFrameBytes(), processes));
            for (FrameService s : served.frameServices()) {
                services.put(s.serviceId(), s);
            }
            server = new FrameServer(o.listen(), o.id(), o.maxFrameBytes(), services, "dmtree-mn" + o.id(), o.limits(),
                    o.secret());
            InetSocketAddress bound = server.address();
            String advertised = o.advertise() != null ? o.advertise() : bound.getHostString();
            DataEndpoint data = served.start(bound, advertised);
            RegionDescription d = new RegionDescription(o.id(), carrier.name(), o.region().regionBytes(), o.region().chunkBytes(),
                    io.dmtree.core.layout.RegionLayout.LOCK_TABLE_START, o.region().lockTableBytes(), o.region().chunkAreaOffset(),
                    data.shmPath(), data.host(), data.port(), data.rdmaSegments(),
                    membership == null ? "" : membership.coordinationString());
            ControlPlane plane = new ControlPlane(node, d, controlFenced);
            planeHolder[0] = plane;
            if (membership != null) {
                membership.join(HostPort.format(new InetSocketAddress(advertised, bound.getPort())));
            }
            writeLockInfo(lockChannel, o, bound);
            MemoryNodeServer started = new MemoryNodeServer(o, lockChannel, lock, served, node, plane, server, membership);
            started.earlierLife = earlierLife;
            started.earlierLifeEpoch = earlierLifeEpoch;
            return started;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(server, served, membership, lockChannel, lock, o);
            throw new IllegalStateException("memory node " + o.id() + " was interrupted while starting", e);
        } catch (IOException | RuntimeException e) {
            if (membership != null) {
                membership.close();
            }
            if (server != null) {
                server.close();
            }
            if (served != null) {
                served.close();
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

    private static void closeQuietly(FrameServer server, ServedRegion served, MemoryNodeMembership membership,
                                     FileChannel lockChannel, FileLock lock, MemoryNodeOptions o) {
        if (membership != null) {
            membership.close();
        }
        if (server != null) {
            server.close();
        }
        if (served != null) {
            served.close();
        }
        if (lock != null) {
            releaseLock(lockChannel, lock, o.lockFile());
        }
    }

    private static void writeLockInfo(FileChannel ch, MemoryNodeOptions o, InetSocketAddress bound) throws IOException {
        String info = "pid=" + ProcessHandle.current().pid() + " id=" + o.id() + " transport=" + o.transport()
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
    private record DeferredControl(ControlPlane[] plane, int maxFrameBytes, ComputeNodeProcesses processes) implements FrameService {
        @Override
        public int serviceId() {
            return HelloFrame.SERVICE_CONTROL;
        }

        @Override
        public Session open(SessionContext context) {
            ControlPlane p = plane[0];
            if (p == null) {
                return (r, w) -> {
                    throw new MalformedFrameException(ErrorCode.UNAVAILABLE, "the memory node is still starting", true);
                };
            }
            return new ControlService(p, maxFrameBytes, processes).open(context);
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

    /**
     * Fences compute node {@code computeNode}'s incarnations up to {@code epochUpTo} on this memory
     * node's carrier; returns once none of their verbs can take effect here any more
     * ({@link ServedRegion#fence}).
     */
    public void fence(int computeNode, long epochUpTo) throws IOException, InterruptedException {
        plane.fence(computeNode, epochUpTo);
        served.fence(computeNode, epochUpTo);
    }

    /** The one line a launcher waits for. */
    public String readyLine() {
        RegionDescription d = plane.description();
        StringBuilder b = new StringBuilder("dmtree-mn id=").append(options.id())
                .append(" transport=").append(options.transport())
                .append(" address=").append(FrameServer.describe(address()))
                .append(" region-bytes=").append(d.regionBytes());
        String detail = served.readyDetail();
        if (!detail.isEmpty()) {
            b.append(' ').append(detail);
        }
        if (membership != null) {
            b.append(" zk=").append(membership.connectString());
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
        if (membership != null) {
            membership.close(); // leaves the cluster; an embedded ZooKeeper stops last of all membership
        }
        server.close();
        node.close(); // a durable region: forced whole, then marked stopped cleanly
        served.close();
        releaseLock(lockChannel, lock, options.lockFile());
    }

    /**
     * What this memory node found in its data directory, one line, or empty for a region formatted
     * at this start (or one in process memory).
     */
    public String restoreReport() {
        if (!node.restored()) {
            return "";
        }
        return "dmtree-mn id=" + options.id() + " restored " + node.durability() + ": " + node.restoreSummary()
                + (membership == null ? "; no membership (--zk none): nothing recovers what compute nodes of the earlier"
                + " life left half done or locked"
                : earlierLife.isEmpty() ? "; no compute node of the earlier life left state to recover"
                : "; compute-node slots " + earlierLife + " of the earlier life (epochs up to " + earlierLifeEpoch
                + ") fenced here and booked for recovery by a live compute node");
    }

    /** This memory node's part in membership, or null in a cluster without one ({@code --zk none}). */
    public MemoryNodeMembership membership() {
        return membership;
    }
}
