package io.dmtree.cn.auth;

import io.dmtree.cn.carrier.tcp.TcpVerbs;
import io.dmtree.cn.carrier.tcp.TcpVerbsConfig;
import io.dmtree.cn.control.ClusterAdmin;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.cn.control.ControlClient;
import io.dmtree.cn.control.ControlException;
import io.dmtree.core.memory.FencedException;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ErrorCode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.Coordination;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A revocation stays in force while the revoked incarnation's lease is live: on two tcp memory
 * nodes, after {@link ClusterAdmin#revoke} returned, the revoked compute node's verbs, a fresh verb
 * connection of its incarnation, its control requests (a chunk) and a JOIN in its name are refused
 * on both memory nodes, still so after another lease period, and still so on memory node 1 after
 * that memory node restarted (it reads the fence book before it serves). Beside it another
 * compute node's FAA workload on both memory nodes runs through the revocation and finishes with
 * exact counters.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RevocationInForceTest {
    private static final MemoryNodeConfig REGION = new MemoryNodeConfig(8L << 20, 256L << 10, 64L << 10);
    private static final int ROUNDS = 3_000;

    @TempDir
    Path dir;

    @Test
    void aRevokedIncarnationIsRefusedEverywhereWhileItsLeaseIsLiveAndThroughAMemoryNodeRestart() throws Exception {
        ClusterSecret secret = ClusterSecret.generate();
        Duration lease = Duration.ofSeconds(2);
        MemoryNodeOptions o1 = null;
        MemoryNodeServer mn1 = null;
        try (MemoryNodeServer mn0 = MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0),
                REGION, "tcp", dir.resolve("mn0")).withSecret(secret)
                .withCoordination(Coordination.embedded(new InetSocketAddress("127.0.0.1", 0), lease)))) {
            o1 = MemoryNodeOptions.of(1, new InetSocketAddress("127.0.0.1", 0), REGION, "tcp", dir.resolve("mn1"))
                    .withSecret(secret).withCoordination(Coordination.zooKeeper(mn0.membership().connectString(), lease));
            mn1 = MemoryNodeServer.start(o1);
            List<InetSocketAddress> mns = List.of(mn0.address(), mn1.address());
            ClusterClient.Options o = ClusterClient.Options.of(mns).withTimeoutMillis(10_000)
                    .withMessaging(new InetSocketAddress("127.0.0.1", 0), null).withSecret(secret);
            try (ClusterClient a = ClusterClient.join(o); ClusterClient b = ClusterClient.join(o);
                 ClusterAdmin admin = ClusterAdmin.connect(mn0.address(), 10_000, secret)) {
                int bId = b.computeNodeId();
                long bEpoch = b.epoch();
                long[] aChunks = {a.chunkSource().allocateChunk(0), a.chunkSource().allocateChunk(1)};
                long[] bChunks = {b.chunkSource().allocateChunk(0), b.chunkSource().allocateChunk(1)};
                for (long c : bChunks) {
                    b.verbs().faa(c, 1);
                }
                AtomicReference<Throwable> failed = new AtomicReference<>();
                Thread workload = new Thread(() -> { // another member's work beside the revocation
                    try {
                        for (int i = 0; i < ROUNDS; i++) {
                            a.verbs().faa(aChunks[i & 1], 1);
                        }
                    } catch (Throwable t) {
                        failed.set(t);
                    }
                }, "workload-beside");
                workload.start();
                ClusterAdmin.Revocation r = admin.revoke(bId, Duration.ofSeconds(20));
                assertEquals(Set.of(0, 1), r.fencedBy());
                workload.join(60_000);
                assertFalse(workload.isAlive(), "the workload beside the revocation did not finish");
                assertNull(failed.get(), () -> "the workload beside the revocation failed: " + failed.get());
                UnsafeBuffer buf = new UnsafeBuffer(new byte[8]);
                for (long c : aChunks) {
                    a.verbs().read(c, buf, 0, 8);
                    assertEquals(ROUNDS / 2, buf.getLong(0), "memory node " + GlobalAddress.memoryNode(c));
                }

                for (int pass = 0; pass < 2; pass++) { // at once, and again after a lease period with its lease live
                    assertRefusedEverywhere(b, bChunks, mns, bId, bEpoch, secret);
                    for (long c : bChunks) {
                        a.verbs().read(c, buf, 0, 8);
                        assertEquals(1, buf.getLong(0), "a verb of the revoked compute node landed on memory node "
                                + GlobalAddress.memoryNode(c));
                    }
                    if (pass == 0) {
                        Thread.sleep(lease.toMillis() + 500);
                    }
                }
                assertTrue(b.lease().isLive(), "the revoked compute node's lease should still be live here");

                mn1.close(); // memory node 1 restarts: its new process reads the fence book before serving
                mn1 = null;
                mn1 = MemoryNodeServer.start(o1);
                InetSocketAddress restarted = mn1.address();
                FencedException verbs = assertThrows(FencedException.class, () -> TcpVerbs.connect(List.of(restarted),
                        TcpVerbsConfig.defaults(), bId, bEpoch, secret).close());
                assertTrue(verbs.getMessage().contains("fenced"), verbs.getMessage());
                try (ControlClient c = ControlClient.connect(restarted, 10_000, secret)) {
                    ControlException join = assertThrows(ControlException.class, () -> c.join(bId, bEpoch));
                    assertTrue(join.refusedWith(ErrorCode.FENCED), join.getMessage());
                }
                try (TcpVerbs live = TcpVerbs.connect(List.of(mn0.address(), restarted), TcpVerbsConfig.defaults(), a.computeNodeId(),
                        a.epoch(), secret)) {
                    live.read(GlobalAddress.of(1, 0), buf, 0, 8); // the other member is served by the new process
                }
            }
        } finally {
            if (mn1 != null) {
                mn1.close();
            }
        }
    }

    private static void assertRefusedEverywhere(ClusterClient b, long[] bChunks, List<InetSocketAddress> mns, int bId,
                                                long bEpoch, ClusterSecret secret) {
        for (long c : bChunks) {
            assertThrows(FencedException.class, () -> b.verbs().faa(c, 1), "memory node " + GlobalAddress.memoryNode(c));
        }
        for (int mn = 0; mn < mns.size(); mn++) {
            InetSocketAddress at = mns.get(mn);
            // one memory node alone: its HELLO reply refuses a fenced incarnation before the client compares
            // the node's id with its position in the list (an unfenced one fails that comparison instead)
            assertThrows(FencedException.class, () -> TcpVerbs.connect(List.of(at), TcpVerbsConfig.defaults(), bId, bEpoch,
                    secret).close(), "a fresh verb connection of the revoked incarnation to memory node " + mn);
            try (ControlClient c = ControlClient.connect(at, 10_000, secret)) {
                ControlException join = assertThrows(ControlException.class, () -> c.join(bId, bEpoch));
                assertTrue(join.refusedWith(ErrorCode.FENCED), join.getMessage());
            }
        }
        int mn = 0;
        for (long c : bChunks) {
            int on = mn++;
            RemoteAccessException chunk = assertThrows(RemoteAccessException.class, () -> b.chunkSource().allocateChunk(on));
            assertTrue(chunk.getCause() instanceof ControlException ce && ce.refusedWith(ErrorCode.FENCED), chunk::toString);
        }
    }
}
