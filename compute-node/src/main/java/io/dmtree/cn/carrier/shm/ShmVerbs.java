package io.dmtree.cn.carrier.shm;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.local.LocalVerbs;
import io.dmtree.mn.carrier.shm.SharedRegionFile;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code shm} carrier: one compute node's verbs on memory nodes whose regions are files in
 * shared memory on this host. Each region file is mapped into this process; a verb is a load, a
 * store or an atomic on the mapping, exactly as the {@code local} carrier does on its own memory
 * (CAS and FAA are the processor's atomics, which are atomic across processes sharing the pages),
 * with no memory-node thread on the data path.
 *
 * <p>A memory node that stops is reported by its control connection ({@link #memoryNodeLost});
 * from then on verbs to it throw {@link RemoteAccessException} saying so, instead of silently
 * working on the orphaned mapping.
 */
public final class ShmVerbs implements Verbs {
    private final List<SharedRegionFile> files;
    private final LocalVerbs verbs;
    private final String[] lost;
    private volatile boolean anyLost;

    private ShmVerbs(List<SharedRegionFile> files) {
        this.files = files;
        List<OffHeapRegion> regions = new ArrayList<>();
        for (SharedRegionFile f : files) {
            regions.add(f.region());
        }
        this.verbs = LocalVerbs.overRegions(regions);
        this.lost = new String[files.size()];
    }

    /** Maps the region files of the memory nodes listed by id, each of the size its node describes. */
    public static ShmVerbs map(List<Path> regionFiles, List<Long> regionBytes, int segmentShift) {
        if (regionFiles.size() != regionBytes.size() || regionFiles.isEmpty()) {
            throw new IllegalArgumentException("one region size per region file, at least one file");
        }
        List<SharedRegionFile> files = new ArrayList<>();
        try {
            for (int i = 0; i < regionFiles.size(); i++) {
                files.add(SharedRegionFile.open(regionFiles.get(i), regionBytes.get(i), segmentShift));
            }
        } catch (IOException e) {
            files.forEach(SharedRegionFile::close);
            throw new RemoteAccessException("cannot map the shared-memory region of memory node " + files.size() + ": "
                    + e.getMessage(), e);
        }
        return new ShmVerbs(files);
    }

    public static ShmVerbs map(List<Path> regionFiles, List<Long> regionBytes) {
        return map(regionFiles, regionBytes, SharedRegionFile.DEFAULT_SEGMENT_SHIFT);
    }

    /** Called when memory node {@code mn}'s control connection reports it gone. */
    public void memoryNodeLost(int mn, String reason) {
        synchronized (lost) {
            if (lost[mn] == null) {
                lost[mn] = reason;
            }
        }
        anyLost = true;
    }

    private void check(long address) {
        if (anyLost) {
            int mn = GlobalAddress.memoryNode(address);
            if (mn < lost.length) {
                String reason;
                synchronized (lost) {
                    reason = lost[mn];
                }
                if (reason != null) {
                    throw new RemoteAccessException("memory node " + mn + " is gone: " + reason);
                }
            }
        }
    }

    @Override
    public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        check(address);
        verbs.read(address, dst, dstOffset, length);
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        check(address);
        verbs.write(address, src, srcOffset, length);
    }

    @Override
    public long cas(long address, long expected, long desired) {
        check(address);
        return verbs.cas(address, expected, desired);
    }

    @Override
    public long faa(long address, long delta) {
        check(address);
        return verbs.faa(address, delta);
    }

    @Override
    public void post(VerbBatch batch) {
        if (anyLost) {
            for (int i = 0; i < batch.size(); i++) {
                check(batch.address(i));
            }
        }
        verbs.post(batch);
    }

    @Override
    public int memoryNodeCount() {
        return verbs.memoryNodeCount();
    }

    @Override
    public void close() {
        for (SharedRegionFile f : files) {
            f.close();
        }
    }
}
