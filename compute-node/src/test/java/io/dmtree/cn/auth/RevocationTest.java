package io.dmtree.cn.auth;

import io.dmtree.cn.control.ClusterAdmin;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.cn.control.ControlException;
import io.dmtree.core.memory.FencedException;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.wire.ClusterSecret;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An operator's view and revocation on a two-memory-node tcp cluster with membership and a secret:
 * {@link ClusterAdmin#members} lists both memory nodes and both compute nodes with their epochs
 * and rights; {@link ClusterAdmin#revoke} returns only once both memory nodes fenced the revoked
 * compute node, whose next verb on either then fails, while the other compute node goes on. An
 * operator without the secret sees nothing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RevocationTest {
    private static final MemoryNodeConfig REGION = new MemoryNodeConfig(8L << 20, 256L << 10, 64L << 10);

    @TempDir
    Path dir;

    @Test
    void aRevokedComputeNodeIsFencedOnEveryMemoryNodeBeforeRevokeReturns() throws Exception {
        ClusterSecret secret = ClusterSecret.generate();
        Duration lease = Duration.ofSeconds(3);
        try (MemoryNodeServer mn0 = MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0),
                REGION, "tcp", dir).withSecret(secret)
                .withCoordination(Coordination.embedded(new InetSocketAddress("127.0.0.1", 0), lease)));
             MemoryNodeServer mn1 = MemoryNodeServer.start(MemoryNodeOptions.of(1, new InetSocketAddress("127.0.0.1", 0),
                     REGION, "tcp", dir).withSecret(secret)
                     .withCoordination(Coordination.zooKeeper(mn0.membership().connectString(), lease)))) {
            ClusterClient.Options o = ClusterClient.Options.of(List.of(mn0.address(), mn1.address())).withTimeoutMillis(10_000)
                    .withMessaging(new InetSocketAddress("127.0.0.1", 0), null).withSecret(secret);
            try (ClusterClient a = ClusterClient.join(o); ClusterClient b = ClusterClient.join(o);
                 ClusterAdmin admin = ClusterAdmin.connect(mn0.address(), 10_000, secret)) {
                List<ClusterAdmin.MemberInfo> members = admin.members();
                assertEquals(2, members.stream().filter(m -> m.member().kind() == MemberKind.MEMORY_NODE).count(), members::toString);
                ClusterAdmin.MemberInfo bInfo = members.stream().filter(m -> m.member().kind() == MemberKind.COMPUTE_NODE
                        && m.member().id().id() == b.computeNodeId()).findFirst().orElseThrow();
                assertEquals(b.epoch(), bInfo.member().epoch());
                assertEquals("live", bInfo.state());
                assertTrue(bInfo.rights().contains("own redo directory entry") && bInfo.rights().contains("lock table"),
                        bInfo.rights());

                UnsafeBuffer buf = new UnsafeBuffer(new byte[8]);
                long[] chunks = {b.chunkSource().allocateChunk(0), b.chunkSource().allocateChunk(1)};
                for (long c : chunks) {
                    b.verbs().faa(c, 1);
                }
                ClusterAdmin.Revocation r = admin.revoke(b.computeNodeId(), Duration.ofSeconds(20));
                assertEquals(Set.of(0, 1), r.fencedBy());
                for (long c : chunks) { // at once, on both memory nodes
                    assertThrows(FencedException.class, () -> b.verbs().faa(c, 1));
                    a.verbs().read(c, buf, 0, 8);
                    assertEquals(1, buf.getLong(0), "a verb of the revoked compute node landed on memory node "
                            + GlobalAddress.memoryNode(c));
                }
                assertTrue(admin.members().stream().anyMatch(m -> m.member().sameIncarnation(r.member())
                        && m.state().contains("revoked")), admin.members()::toString);
                ControlException notMember = assertThrows(ControlException.class, () -> admin.revoke(77, Duration.ofSeconds(1)));
                assertTrue(notMember.getMessage().contains("not a member"), notMember.getMessage());
            }
            assertThrows(ControlException.class, () -> ClusterAdmin.connect(mn0.address(), 5_000, null).close());
        }
    }
}
