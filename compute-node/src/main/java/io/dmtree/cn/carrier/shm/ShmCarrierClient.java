package io.dmtree.cn.carrier.shm;

import io.dmtree.cn.carrier.CarrierClient;
import io.dmtree.cn.carrier.CarrierLink;
import io.dmtree.cn.carrier.ConnectContext;
import io.dmtree.core.wire.RegionDescription;
import io.dmtree.mn.carrier.shm.SharedRegionFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The client half of the {@code shm} carrier: maps every memory node's region file
 * ({@link ShmVerbs}) and makes this compute node's inbox beside memory node 0's region
 * ({@link ShmMessaging}). Every process of the cluster must share this host.
 */
public final class ShmCarrierClient implements CarrierClient {
    /** {@code shm.segment-shift}: log2 of the mapping size, as the memory nodes were started with. */
    public static final String SEGMENT_SHIFT = "shm.segment-shift";

    @Override
    public String name() {
        return "shm";
    }

    @Override
    public CarrierLink connect(ConnectContext c) {
        List<Path> files = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        for (RegionDescription d : c.regions()) {
            files.add(Path.of(d.shmPath()));
            sizes.add(d.regionBytes());
        }
        int shift = c.options().getInt(SEGMENT_SHIFT, SharedRegionFile.DEFAULT_SEGMENT_SHIFT, 12, 30);
        ShmVerbs verbs = ShmVerbs.map(files, sizes, shift);
        return CarrierLink.open(verbs, () -> ShmMessaging.create(c.computeNode(), files.get(0).getParent(), ShmMessaging.DEFAULT_CAPACITY,
                c.directory(), c.timeoutMillis()), ShmMessaging::endpoint, verbs::memoryNodeLost);
    }
}
