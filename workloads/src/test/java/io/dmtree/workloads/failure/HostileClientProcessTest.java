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
 * served). The workload finishes, its tree checks and its counter is exact.
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
            ClusterProcesses.Node cn = cluster.computeNode("cn", List.of("--mn", HostPort.format(address), "--cns", "1",
                    "-w", "A", "-r", "2000", "-n", "30000", "-t", "2", "--lock", "modular", "--locked-counter", "200",
                    "--check", "--timeout", "20000"));
            cn.awaitLine("running ", 120);
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
}
