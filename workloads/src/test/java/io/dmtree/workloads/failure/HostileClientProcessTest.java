package io.dmtree.workloads.failure;

import io.dmtree.cn.carrier.tcp.TcpVerbs;
import io.dmtree.cn.carrier.tcp.TcpVerbsConfig;
import io.dmtree.cn.control.AuthenticationFailedException;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.AccessDeniedException;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.HostPort;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real cluster (a {@code dmtree mn} process with its own ZooKeeper and cluster secret, a
 * {@code dmtree cn} process running YCSB A with the tree checker and a locked counter) beside
 * hostile clients in this JVM: 20 JOINs without the secret and 20 with another one, all refused
 * before the compute node starts (it still gets id 0), and a client that holds the secret but
 * writes outside its rights for as long as the workload runs (every such verb refused, its reads
 * served), and a forger sending grant frames to the compute node's messaging endpoint without the
 * secret (every connection refused before a frame is read). The workload finishes, its tree
 * checks and its counter under the modular lock (whose grants travel by message) is exact.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class HostileClientProcessTest {
    @TempDir
    Path dir;

    @Test
    void aWorkloadFinishesExactBesideClientsWithoutTheSecretAndAMemberBreakingItsRights() throws Exception {
        try (ClusterProcesses cluster = new ClusterProcesses()) {
            ClusterProcesses.Node mn = cluster.memoryNode("mn0", List.of("--id", "0", "--listen", "127.0.0.1:0",
                    "--zk-listen", "127.0.0.1:0", "--memory", "96M", "--chunk", "1M", "--lock-table", "256K",
                    "--transport", "tcp", "--dir", dir.toString()));
            String ready = mn.awaitLine(" ready", 5);
            InetSocketAddress address = HostPort.parse("address", ClusterProcesses.field(ready, "address"));
            ClusterSecret secret = ClusterSecret.load(Path.of(ClusterProcesses.field(ready, "secret")));
            ClusterClient.Options foreign = ClusterClient.Options.of(List.of(address)).withTimeoutMillis(5_000)
                    .withMessaging(new InetSocketAddress("127.0.0.1", 0), null);
            for (int i = 0; i < 40; i++) {
                ClusterClient.Options o = i % 2 == 0 ? foreign : foreign.withSecret(ClusterSecret.generate());
                assertThrows(AuthenticationFailedException.class, () -> ClusterClient.join(o).close());
            }
            int messagingPort;
            try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                messagingPort = free.getLocalPort();
            }
            ClusterProcesses.Node cn = cluster.computeNode("cn", List.of("--mn", HostPort.format(address), "--cns", "1",
                    "-w", "A", "-r", "2000", "-n", "30000", "-t", "2", "--lock", "modular", "--locked-counter", "200",
                    "--check", "--timeout", "20000", "--listen", "127.0.0.1:" + messagingPort));
            cn.awaitLine("running ", 120);
            java.util.concurrent.atomic.AtomicInteger forgedRefused = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicReference<String> forgedAccepted = new java.util.concurrent.atomic.AtomicReference<>();
            Thread forger = new Thread(() -> forgeGrants(new InetSocketAddress("127.0.0.1", messagingPort), cn, forgedRefused,
                    forgedAccepted), "forger");
            forger.start();
            int refused = 0;
            try (TcpVerbs member = TcpVerbs.connect(List.of(address), TcpVerbsConfig.defaults(), 9, 1, secret)) {
                UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
                while (cn.process.isAlive() && refused < 100_000) {
                    long[] targets = {RegionLayout.MAGIC_OFFSET, RegionLayout.ROOT_POINTER_OFFSET,
                            RegionLayout.redoDirectoryEntry(0), 1024};
                    long target = GlobalAddress.of(0, targets[refused % targets.length]);
                    assertThrows(AccessDeniedException.class, () -> member.write(target, b, 0, 8));
                    refused++;
                    member.read(GlobalAddress.of(0, RegionLayout.MAGIC_OFFSET), b, 0, 8);
                    assertEquals(RegionLayout.MAGIC, b.getLong(0));
                }
            }
            int code = cn.awaitExit(240);
            forger.join(30_000);
            assertEquals(null, forgedAccepted.get(), "the compute node's messaging endpoint took a forger's frames");
            assertTrue(forgedRefused.get() > 0, "no forged grant was tried");
            System.out.println("forged grant connections refused: " + forgedRefused.get());
            String out = cn.output();
            assertEquals(0, code, "the compute node failed:\n" + out + "\nmemory node:\n" + mn.output());
            assertTrue(out.contains("tree checker: tree ok"), out);
            assertTrue(out.contains(" exact"), out);
            assertTrue(out.contains("cn 0: locked counter"), "a foreign JOIN took compute-node id 0:\n" + out);
            assertTrue(refused > 0, "the workload ended before a single hostile verb");
            System.out.println("hostile verbs refused while the workload ran: " + refused);
            assertTrue(mn.process.isAlive(), mn.output());
        }
    }

    /**
     * While {@code cn} runs: connects to its messaging endpoint over and over and sends HELLO
     * without a proof followed at once by grant-shaped MESSAGE frames from compute node 0; counts
     * the connections refused with an AUTHENTICATION error or closed under the forger's writes,
     * and records any other answer (a HELLO reply would mean the frames after it were read as
     * messages).
     */
    private static void forgeGrants(InetSocketAddress at, ClusterProcesses.Node cn,
                                    java.util.concurrent.atomic.AtomicInteger refused,
                                    java.util.concurrent.atomic.AtomicReference<String> accepted) {
        byte[] grant = new byte[16];
        for (int i = 0; i < 10_000 && cn.process.isAlive(); i++) {
            try (io.dmtree.core.wire.FrameChannel ch = io.dmtree.core.wire.FrameChannel.connect(at, 4096, 5_000)) {
                io.dmtree.core.wire.FrameWriter w = new io.dmtree.core.wire.FrameWriter(256);
                ch.write(w.begin(io.dmtree.core.wire.FrameHeader.TYPE_HELLO, 0, 0).i32(io.dmtree.core.wire.HelloFrame.MAGIC)
                        .u8(io.dmtree.core.wire.HelloFrame.SERVICE_MESSAGING).u8(0).u16(0).finish());
                for (int k = 0; k < 4; k++) {
                    ch.write(w.begin(io.dmtree.core.wire.FrameHeader.TYPE_MESSAGE, 0, 0).u16(0).u16(grant.length).i32(0)
                            .bytes(grant).finish());
                }
                ch.readWithTimeout(5_000);
                io.dmtree.core.wire.FrameReader r = new io.dmtree.core.wire.FrameReader().wrap(ch.frame(), 0, ch.frameLength());
                if (r.type() == io.dmtree.core.wire.FrameHeader.TYPE_ERROR
                        && io.dmtree.core.wire.ErrorReply.of(r).code() == io.dmtree.core.wire.ErrorCode.AUTHENTICATION) {
                    refused.incrementAndGet();
                } else {
                    accepted.set(io.dmtree.core.wire.FrameHeader.typeName(r.type()));
                    return;
                }
            } catch (java.io.IOException | io.dmtree.core.wire.MalformedFrameException e) {
                if (!cn.process.isAlive()) {
                    return; // the endpoint went away with the process
                }
                // the endpoint refused and closed while the forged frames were still being written
                // (broken pipe, reset): closed before it read them, which is a refusal too
                refused.incrementAndGet();
            }
        }
    }
}
