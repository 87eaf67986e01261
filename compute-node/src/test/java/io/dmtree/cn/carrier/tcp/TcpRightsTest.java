package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.AccessDeniedException;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.tcp.TcpCarrierServer;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Members' rights on a tcp memory node ({@link io.dmtree.mn.carrier.MemberRights}): reads,
 * writes and atomics outside them are refused with {@link AccessDeniedException} naming the
 * address, the right and what is held; a refused batch writes nothing; the refused member's
 * connection goes on working, and another member's workload beside it is exact. With
 * {@code tcp.rights=off} the same writes land (the switch switches). Seeded ({@code dmtree.seed}),
 * bounded in count and time.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TcpRightsTest {
    private static final int OTHERS_FAAS = 20_000;

    @TempDir
    Path dir;

    private static long at(long offset) {
        return GlobalAddress.of(0, offset);
    }

    private static AccessDeniedException denied(Runnable verb) {
        return assertThrows(AccessDeniedException.class, verb::run);
    }

    @Test
    void verbsOutsideAMembersRightsAreRefusedAndEverythingElseGoesOn() throws Exception {
        Random rnd = new Random(TcpTestCluster.seed("TcpRightsTest"));
        MemoryNodeOptions o = MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0), TcpTestCluster.CONFIG, "tcp", dir)
                .withLimits(MemoryNodeOptions.DEFAULT_LIMITS.toBuilder().eventLoops(2).build());
        try (MemoryNodeServer mn = MemoryNodeServer.start(o)) {
            List<InetSocketAddress> address = List.of(mn.address());
            TcpVerbsConfig config = new TcpVerbsConfig(2, 16, TcpVerbsConfig.defaults().maxFrameBytes(), 10_000, 50);
            OffHeapRegion region = mn.memoryNode().region();
            long counter = TcpTestCluster.SCRATCH + 4096;
            region.putLongVolatile(counter, 0); // scratch space is not a handed-out chunk: nobody zeroed it
            AtomicReference<Throwable> othersFailed = new AtomicReference<>();
            AtomicLong othersDone = new AtomicLong();
            try (TcpVerbs bad = TcpVerbs.connect(address, config, 3, 5);
                 TcpVerbs other = TcpVerbs.connect(address, config, 4, 5);
                 TcpVerbs anonymous = TcpVerbs.connect(address, config)) {
                Thread beside = new Thread(() -> { // another member's workload all along
                    try {
                        for (int i = 0; i < OTHERS_FAAS; i++) {
                            other.faa(at(counter), 1);
                            othersDone.incrementAndGet();
                        }
                    } catch (Throwable t) {
                        othersFailed.set(t);
                    }
                }, "beside");
                beside.start();
                UnsafeBuffer b = new UnsafeBuffer(new byte[64]);

                // the region header: read only
                bad.read(at(RegionLayout.MAGIC_OFFSET), b, 0, 8);
                assertEquals(RegionLayout.MAGIC, b.getLong(0));
                AccessDeniedException e = denied(() -> bad.write(at(RegionLayout.CHUNK_BYTES_OFFSET), b, 0, 8));
                assertTrue(e.getMessage().contains("WRITE") && e.getMessage().contains("0x" + Long.toHexString(
                        at(RegionLayout.CHUNK_BYTES_OFFSET))) && e.getMessage().contains("region header")
                        && e.getMessage().contains("compute node 3 holds read"), e.getMessage());
                e = denied(() -> bad.cas(at(RegionLayout.REGION_BYTES_OFFSET), 0, 1));
                assertTrue(e.getMessage().contains("ATOMIC"), e.getMessage());
                // the reserved bytes: nothing
                e = denied(() -> bad.read(at(1024), b, 0, 8));
                assertTrue(e.getMessage().contains("READ") && e.getMessage().contains("holds none"), e.getMessage());
                // a read that starts in the coordination words and runs into the reserved bytes
                denied(() -> bad.read(at(RegionLayout.COORDINATION_WORDS_END - 4), b, 0, 16));
                // the memory-node state: read only; the coordination words: read and atomics
                bad.read(at(RegionLayout.LIVES_OFFSET), b, 0, 8);
                e = denied(() -> bad.write(at(RegionLayout.RUN_STATE_OFFSET), b, 0, 8));
                assertTrue(e.getMessage().contains("memory-node state"), e.getMessage());
                denied(() -> bad.cas(at(RegionLayout.CLUSTER_ID_OFFSET), 0, 1));
                long era = bad.faa(at(RegionLayout.REUSE_ERA_OFFSET), 0);
                assertEquals(era, bad.faa(at(RegionLayout.REUSE_ERA_OFFSET), 0));
                denied(() -> bad.write(at(RegionLayout.REUSE_ERA_OFFSET), b, 0, 8));

                // the superblock: written while the index is created, then read and atomics only
                b.putLong(0, 77);
                bad.write(at(RegionLayout.KEY_WIDTH_OFFSET), b, 0, 8);
                assertEquals(RegionLayout.INDEX_ABSENT, bad.cas(at(RegionLayout.INDEX_STATE_OFFSET), RegionLayout.INDEX_ABSENT,
                        RegionLayout.INDEX_READY));
                e = denied(() -> bad.write(at(RegionLayout.KEY_WIDTH_OFFSET), b, 0, 8));
                assertTrue(e.getMessage().contains("index superblock"), e.getMessage());
                assertEquals(0, bad.cas(at(RegionLayout.ROOT_POINTER_OFFSET), 0, 4096)); // the root grows by CAS
                assertEquals(RegionLayout.INDEX_READY, bad.faa(at(RegionLayout.INDEX_STATE_OFFSET), 0));

                // the redo directory: its own entry, and atomics on the others' (recovery clears them)
                b.putLong(0, 0x1234);
                bad.write(at(RegionLayout.redoDirectoryEntry(3)), b, 0, 8);
                e = denied(() -> bad.write(at(RegionLayout.redoDirectoryEntry(4)), b, 0, 8));
                assertTrue(e.getMessage().contains("redo directory"), e.getMessage());
                denied(() -> bad.write(at(RegionLayout.redoDirectoryEntry(3)), b, 0, 16)); // runs into entry 4
                assertEquals(0, bad.cas(at(RegionLayout.redoDirectoryEntry(4)), 0, 0));
                anonymous.write(at(RegionLayout.redoDirectoryEntry(9)), b, 0, 8); // no id: every entry

                // a batch with one request outside the rights writes nothing
                long mine = TcpTestCluster.SCRATCH;
                region.putLongVolatile(mine, 0);
                VerbBatch batch = new VerbBatch();
                b.putLong(0, 99);
                batch.write(at(mine), b, 0, 8).write(at(RegionLayout.MAGIC_OFFSET), b, 0, 8);
                assertThrows(AccessDeniedException.class, () -> bad.post(batch));
                assertEquals(0, region.getLongVolatile(mine), "a refused batch wrote");
                assertEquals(RegionLayout.MAGIC, region.getLongVolatile(RegionLayout.MAGIC_OFFSET));

                // the refused member's connections go on: random legal and illegal verbs, interleaved
                long expected = 0;
                for (int i = 0; i < 2_000; i++) {
                    if (rnd.nextInt(4) == 0) {
                        long off = 8L * rnd.nextInt(6); // header words
                        assertThrows(AccessDeniedException.class, () -> bad.faa(at(off), 1));
                    } else {
                        assertEquals(expected, bad.faa(at(mine), 1));
                        expected++;
                    }
                }
                beside.join(60_000);
                assertNull(othersFailed.get(), () -> "the other member failed: " + othersFailed.get());
                assertEquals(OTHERS_FAAS, othersDone.get());
                assertEquals(OTHERS_FAAS, region.getLongVolatile(counter), "the other member's counter is exact");
                assertEquals(RegionLayout.MAGIC, region.getLongVolatile(RegionLayout.MAGIC_OFFSET));
            }
            assertEquals(0, mn.frameServer().internalErrors());
        }
    }

    @Test
    void withRightsOffOnlyTheRegionBoundsAreChecked() throws Exception {
        MemoryNodeOptions o = MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0), TcpTestCluster.CONFIG, "tcp", dir)
                .withCarrierOptions(CarrierOptions.NONE.with(TcpCarrierServer.RIGHTS, "off"));
        try (MemoryNodeServer mn = MemoryNodeServer.start(o);
             TcpVerbs v = TcpVerbs.connect(List.of(mn.address()), TcpVerbsConfig.defaults(), 3, 5)) {
            UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
            b.putLong(0, 5);
            v.write(at(1024), b, 0, 8);
            assertEquals(5, mn.memoryNode().region().getLongVolatile(1024));
            RemoteAccessException e = assertThrows(RemoteAccessException.class,
                    () -> v.read(at(TcpTestCluster.CONFIG.regionBytes()), b, 0, 8));
            assertTrue(e.getMessage().contains("outside the region"), e.getMessage());
        }
        IllegalStateException bad = assertThrows(IllegalStateException.class, () -> MemoryNodeServer.start(
                MemoryNodeOptions.of(1, new InetSocketAddress("127.0.0.1", 0), TcpTestCluster.CONFIG, "tcp", dir)
                        .withCarrierOptions(CarrierOptions.NONE.with(TcpCarrierServer.RIGHTS, "maybe"))));
        assertTrue(bad.getMessage().contains("tcp.rights is on or off"), bad.getMessage());
    }
}
