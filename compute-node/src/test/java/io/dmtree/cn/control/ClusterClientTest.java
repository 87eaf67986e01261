package io.dmtree.cn.control;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two memory nodes and two compute nodes through the control plane, for the shm and the tcp
 * carrier (in one JVM; the end-to-end tests run separate processes): ids, region descriptions,
 * chunks, root home, CN-to-CN messaging both ways, barriers with payloads, leaving, and a memory
 * node that stops making verbs fail with a clear error instead of hanging.
 */
class ClusterClientTest {
    private static final MemoryNodeConfig REGION = new MemoryNodeConfig(8L << 20, 256L << 10, 64L << 10);

    @TempDir
    Path dir;

    private List<MemoryNodeServer> start(String t) {
        List<MemoryNodeServer> mns = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            mns.add(MemoryNodeServer.start(MemoryNodeOptions.of(i, new InetSocketAddress("127.0.0.1", 0), REGION, t, dir)
                    .withMaxFrameBytes(1 << 20)));
        }
        return mns;
    }

    private static ClusterClient.Options options(List<MemoryNodeServer> mns) {
        List<InetSocketAddress> a = new ArrayList<>();
        mns.forEach(m -> a.add(m.address()));
        return ClusterClient.Options.of(a).withTimeoutMillis(5_000);
    }

    @ParameterizedTest
    @ValueSource(strings = {"shm", "tcp"})
    void computeNodesJoinShareMemoryMessageEachOtherAndMeetAtBarriers(String t) throws Exception {
        List<MemoryNodeServer> mns = start(t);
        try (ClusterClient a = ClusterClient.join(options(mns)); ClusterClient b = ClusterClient.join(options(mns))) {
            assertEquals(Set.of(0, 1), Set.of(a.computeNodeId(), b.computeNodeId()));
            assertEquals(t, a.transport());
            assertEquals(GlobalAddress.of(0, RegionLayout.ROOT_POINTER_OFFSET), a.rootPointer());
            assertEquals(REGION.chunkBytes(), a.chunkSource().chunkBytes());
            assertEquals(RegionLayout.LOCK_TABLE_START, a.chunkSource().lockTableOffset());

            Set<Long> chunks = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                long c = (i % 2 == 0 ? a : b).chunkSource().allocateChunk(i % 3 == 0 ? 0 : 1);
                assertTrue(chunks.add(c), "chunk handed out twice");
                assertEquals(0, GlobalAddress.offset(c) % REGION.chunkBytes() % 4096);
            }
            // one compute node's write is the other's read, on both memory nodes
            UnsafeBuffer buf = new UnsafeBuffer(new byte[16]);
            for (int mn = 0; mn < 2; mn++) {
                long addr = a.chunkSource().allocateChunk(mn);
                buf.putLong(0, 1234 + mn);
                a.verbs().write(addr, buf, 0, 8);
                assertEquals(1234 + mn, b.verbs().faa(addr, 1));
                assertEquals(1235 + mn, a.verbs().cas(addr, 1235 + mn, 7));
            }
            // the region header written by the memory node is visible through the carrier
            b.verbs().read(GlobalAddress.of(1, RegionLayout.MAGIC_OFFSET), buf, 0, 8);
            assertEquals(RegionLayout.MAGIC, buf.getLong(0));

            // messaging both ways, in order, including one sent before the receiver set a handler
            List<String> atA = new CopyOnWriteArrayList<>();
            List<String> atB = new CopyOnWriteArrayList<>();
            UnsafeBuffer m = new UnsafeBuffer(new byte[64]);
            int early = m.putStringWithoutLengthAscii(0, "early");
            a.messaging().send(b.computeNodeId(), m, 0, early);
            b.messaging().onMessage((from, buffer, offset, length) -> atB.add(from + ":" + buffer.getStringWithoutLengthAscii(offset, length)));
            a.messaging().onMessage((from, buffer, offset, length) -> atA.add(from + ":" + buffer.getStringWithoutLengthAscii(offset, length)));
            for (int i = 0; i < 200; i++) {
                int n = m.putStringWithoutLengthAscii(0, "m" + i);
                a.messaging().send(b.computeNodeId(), m, 0, n);
                b.messaging().send(a.computeNodeId(), m, 0, n);
            }
            int self = m.putStringWithoutLengthAscii(0, "self");
            a.messaging().send(a.computeNodeId(), m, 0, self);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while ((atB.size() < 201 || atA.size() < 201) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(201, atB.size());
            assertEquals(a.computeNodeId() + ":early", atB.get(0));
            for (int i = 0; i < 200; i++) {
                assertEquals(a.computeNodeId() + ":m" + i, atB.get(i + 1), "order from a to b");
            }
            assertEquals(201, atA.size(), atA.toString());
            assertTrue(atA.contains(a.computeNodeId() + ":self"));
            assertEquals(200, b.messaging().messagesSent());

            // a barrier releases both with both payloads
            CompletableFuture<Map<Integer, byte[]>> fa = CompletableFuture.supplyAsync(
                    () -> a.barrier("results", 2, 10_000, "from-a".getBytes(StandardCharsets.UTF_8)));
            Map<Integer, byte[]> rb = b.barrier("results", 2, 10_000, "from-b".getBytes(StandardCharsets.UTF_8));
            Map<Integer, byte[]> ra = fa.get(20, TimeUnit.SECONDS);
            assertEquals("from-a", new String(rb.get(a.computeNodeId()), StandardCharsets.UTF_8));
            assertEquals("from-b", new String(ra.get(b.computeNodeId()), StandardCharsets.UTF_8));
            // a barrier nobody else reaches times out with a clear error
            ControlException e = assertThrows(ControlException.class, () -> a.barrier("lonely", 2, 200, new byte[0]));
            assertTrue(e.getMessage().contains("only 1 of 2"), e.getMessage());
        } finally {
            mns.forEach(MemoryNodeServer::close);
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "memory nodes and compute nodes remove their files");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"shm", "tcp"})
    void aComputeNodeThatLeavesFreesItsIdAndAStoppedMemoryNodeFailsVerbsClearly(String t) throws Exception {
        List<MemoryNodeServer> mns = start(t);
        try {
            ClusterClient a = ClusterClient.join(options(mns));
            ClusterClient b = ClusterClient.join(options(mns));
            int bId = b.computeNodeId();
            b.close();
            ClusterClient c = ClusterClient.join(options(mns));
            assertEquals(bId, c.computeNodeId(), "the id of a compute node that left is reused");
            assertNotEquals(a.computeNodeId(), c.computeNodeId());

            long addr = a.chunkSource().allocateChunk(1);
            a.verbs().faa(addr, 1);
            mns.get(1).close();
            long start = System.nanoTime();
            RemoteAccessException e = null;
            while (e == null && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10)) {
                try {
                    a.verbs().faa(addr, 1); // shm: works on the mapping until the watch reports the loss
                    Thread.sleep(10);
                } catch (RemoteAccessException x) {
                    e = x;
                }
            }
            assertTrue(e != null, "verbs to a stopped memory node must fail");
            assertTrue(e.getMessage().contains("memory node 1"), e.getMessage());
            // memory node 0 still serves
            a.verbs().faa(a.chunkSource().allocateChunk(0), 1);
            a.close();
            c.close();
        } finally {
            mns.forEach(MemoryNodeServer::close);
        }
    }
}
