package io.dmtree.mn.carrier.shm;

import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.CarrierServer;
import io.dmtree.mn.carrier.ComputeNodeProcesses;
import io.dmtree.mn.carrier.DataEndpoint;
import io.dmtree.mn.carrier.ServeContext;
import io.dmtree.mn.carrier.ServedRegion;
import io.dmtree.mn.durable.DurableRegionFile;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The server half of the {@code shm} carrier: the region is a {@link SharedRegionFile} in the
 * memory node's directory that compute nodes on this host map; no memory-node thread serves the
 * data path. Checks its ground before it starts: the file system must have room for the whole
 * region (a sparse file that outgrows its file system kills every process mapping it with
 * SIGBUS), and a region file left by a memory node that crashed (the caller holds the id lock, so
 * no live one owns it) is removed. With a data directory ({@code --data}) the region is the durable
 * region's file there ({@link DurableRegionFile}), which compute nodes map in its place and which
 * stays when the memory node stops.
 *
 * <h2>Fencing: shm trusts its host</h2>
 * Every compute node of an shm memory node maps the region file and writes it with plain stores;
 * nothing between its threads and the memory can refuse a store, so the only fence is to stop the
 * process. {@link ServedRegion#fence} sends SIGKILL to the process that joined as that compute node
 * (its JOIN names its process id: {@link ComputeNodeProcesses}) and returns once the process is gone,
 * when its mapping and every store it could still make are gone too, waiting at most {@value
 * #FENCE_WAIT_MILLIS} ms (then it throws and the fence is not acknowledged). A SIGSTOPped process is
 * killed as well. Nothing here authenticates a JOIN: the carrier trusts every process on its host,
 * which it shares memory with anyway. A compute node that never joined this memory node has no
 * process here to stop (the contract of membership: a compute node joins every memory node before
 * it maps a region). Fencing by epoch needs no more: a slot's new incarnation joins only after its
 * predecessor's fence was acknowledged by every memory node and its recovery recorded, so the process
 * in the slot when a fence comes is the fenced incarnation's.
 */
public final class ShmCarrierServer implements CarrierServer {
    public static final String NAME = "shm";
    /** {@code shm.segment-shift}: log2 of the mapping size (tests use small ones). */
    public static final String SEGMENT_SHIFT = "shm.segment-shift";
    /** How long a fence waits for the stopped process to be gone. */
    public static final long FENCE_WAIT_MILLIS = 10_000;

    @Override
    public String name() {
        return NAME;
    }

    /** SIGKILLs {@code process} and waits until it is gone (bounded). */
    static void stop(ProcessHandle process, int computeNode, long epochUpTo) throws IOException, InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        process.destroyForcibly();
        try {
            process.onExit().get(FENCE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException("cannot fence compute node " + computeNode + " (epochs up to " + epochUpTo
                    + "): its process " + process.pid() + " is still alive " + FENCE_WAIT_MILLIS + " ms after SIGKILL");
        } catch (ExecutionException e) {
            throw new IOException("cannot fence compute node " + computeNode + ": waiting for process " + process.pid()
                    + " failed: " + e.getCause(), e);
        }
    }

    @Override
    public ServedRegion open(ServeContext context) throws IOException {
        int shift = context.options().getInt(SEGMENT_SHIFT, SharedRegionFile.DEFAULT_SEGMENT_SHIFT, 12, 30);
        SharedRegionFile regionFile;
        DurableRegionFile durable;
        String path;
        if (context.durable()) { // the durable region's file is the shared one: compute nodes map it where it lives
            regionFile = null;
            durable = DurableRegionFile.open(context.dataDir(), context.memoryNode(), context.regionBytes(),
                    new DurableRegionFile.Options(shift, context.dataOptions().syncMapping()));
            path = durable.path().toAbsolutePath().toString();
        } else {
            Path file = context.regionFile();
            RegionFiles.removeStale(file);
            RegionFiles.checkRoom(file.getParent(), context.regionBytes());
            regionFile = SharedRegionFile.create(file, context.regionBytes(), shift);
            durable = null;
            path = regionFile.path().toAbsolutePath().toString();
        }
        return new ServedRegion() {
            @Override
            public OffHeapRegion region() {
                return durable != null ? durable.region() : regionFile.region();
            }

            @Override
            public io.dmtree.mn.RegionDurability durability() {
                return durable != null ? durable : io.dmtree.mn.RegionDurability.NONE;
            }

            @Override
            public boolean restores() {
                return durable != null && !durable.created();
            }

            @Override
            public DataEndpoint start(InetSocketAddress bound, String advertisedHost) {
                return new DataEndpoint(path, advertisedHost, bound.getPort(), List.of());
            }

            @Override
            public String readyDetail() {
                return "file=" + path + (durable != null ? " data=" + path : "");
            }

            @Override
            public void fence(int computeNode, long epochUpTo) throws IOException, InterruptedException {
                Optional<ProcessHandle> p = context.processes().process(computeNode);
                if (p.isPresent()) {
                    stop(p.get(), computeNode, epochUpTo);
                }
            }

            @Override
            public void close() {
                if (durable != null) {
                    durable.close(); // the file stays: it is the durable region
                } else {
                    regionFile.close();
                }
            }
        };
    }
}
