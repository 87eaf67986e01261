package io.dmtree.cn.control;

import io.dmtree.cn.carrier.tcp.TcpMessaging;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Advertised addresses that peers cannot reach give clear errors naming them, within the
 * timeout, not hangs (loopback only: an address in 127.0.0.0/8 other than the bound one refuses
 * connections, a closed port refuses them, a socket that never accepts never answers HELLO): a
 * compute node advertising such a messaging endpoint fails its join; a compute node that cannot
 * reach a memory node's advertised data endpoint fails its join; a sender that cannot reach a
 * peer's endpoint fails naming the peer and the endpoint, and does not hold up sends to others.
 */
class AdvertisedAddressTest {
    private static final MemoryNodeConfig REGION = new MemoryNodeConfig(8L << 20, 256L << 10, 64L << 10);
    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private MemoryNodeServer memoryNode(String advertise) {
        MemoryNodeOptions o = MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0), REGION, "tcp", dir)
                .withMaxFrameBytes(1 << 20);
        return MemoryNodeServer.start(advertise == null ? o : o.withAdvertise(advertise));
    }

    private static ClusterClient.Options options(MemoryNodeServer mn) {
        return ClusterClient.Options.of(List.of(mn.address())).withTimeoutMillis(2_000);
    }

    /** A port on 127.0.0.1 nothing listens on (bound once, then closed). */
    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    @Test
    void aComputeNodeAdvertisingAnAddressThatDoesNotReachItFailsItsJoinNamingIt() {
        try (MemoryNodeServer mn = memoryNode(null)) {
            // bound to 127.0.0.1 only: 127.0.0.2 is this host too, but nothing listens there
            ClusterClient.Options o = options(mn).withMessaging(new InetSocketAddress("127.0.0.1", 0), "127.0.0.2");
            ControlException e = assertTimeoutPreemptively(BOUND, () -> assertThrows(ControlException.class,
                    () -> ClusterClient.join(o)));
            assertTrue(e.getMessage().contains("advertises its messaging endpoint as 127.0.0.2:"), e.getMessage());
            assertTrue(e.getMessage().contains("--advertise"), e.getMessage());
            // the failed join left nothing behind: the next compute node gets id 0 and works
            try (ClusterClient ok = ClusterClient.join(options(mn))) {
                assertEquals(0, ok.computeNodeId());
            }
        }
    }

    @Test
    void aWildcardAdvertisedHostIsRefusedNamingIt() {
        try (MemoryNodeServer mn = memoryNode(null)) {
            ClusterClient.Options o = options(mn).withMessaging(new InetSocketAddress("127.0.0.1", 0), "0.0.0.0");
            ControlException e = assertThrows(ControlException.class, () -> ClusterClient.join(o));
            assertTrue(e.getMessage().contains("0.0.0.0") && e.getMessage().contains("wildcard"), e.getMessage());
        }
    }

    @Test
    void aMemoryNodeAdvertisingAnUnreachableDataEndpointFailsTheJoinNamingIt() {
        try (MemoryNodeServer mn = memoryNode("127.0.0.2")) {
            // the control plane is reached at --mn (127.0.0.1), the data endpoint as advertised
            ControlException e = assertTimeoutPreemptively(BOUND, () -> assertThrows(ControlException.class,
                    () -> ClusterClient.join(options(mn))));
            String endpoint = "memory node 0 at 127.0.0.2:" + mn.address().getPort();
            assertTrue(e.getMessage().contains(endpoint), e.getMessage());
        }
    }

    @Test
    void aSenderThatCannotReachAPeerFailsNamingItWithinTheTimeoutAndOthersAreNotHeldUp() throws Exception {
        int closed = closedPort();
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            // compute node 5: a closed port (refused); compute node 6: a socket that never accepts, so never says HELLO
            Map<Integer, String> endpoints = Map.of(5, "tcp:127.0.0.1:" + closed, 6, "tcp:127.0.0.1:" + silent.getLocalPort());
            int timeout = 3_000;
            TcpMessaging[] self = new TcpMessaging[1];
            self[0] = TcpMessaging.start(0, new InetSocketAddress("127.0.0.1", 0), null,
                    (cn, wait) -> cn == 0 ? Optional.of(self[0].endpoint()) : Optional.ofNullable(endpoints.get(cn)), timeout);
            try (TcpMessaging m = self[0]) {
                List<Integer> got = new CopyOnWriteArrayList<>();
                m.onMessage((from, buffer, offset, length) -> got.add(from));
                UnsafeBuffer msg = new UnsafeBuffer(new byte[8]);

                RemoteAccessException refused = assertTimeoutPreemptively(BOUND, () -> assertThrows(RemoteAccessException.class,
                        () -> m.send(5, msg, 0, 8)));
                assertTrue(refused.getMessage().contains("compute node 5")
                        && refused.getMessage().contains("tcp:127.0.0.1:" + closed), refused.getMessage());

                long start = System.nanoTime();
                CompletableFuture<RemoteAccessException> toSilent = CompletableFuture.supplyAsync(
                        () -> assertThrows(RemoteAccessException.class, () -> m.send(6, msg, 0, 8)));
                Thread.sleep(200); // the sender to 6 now waits for a HELLO reply that never comes
                m.send(0, msg, 0, 8);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (got.isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(2);
                }
                assertEquals(List.of(0), got);
                assertFalse(toSilent.isDone(), "a send to another peer went through while the silent peer is still awaited");
                RemoteAccessException silentError = toSilent.get(BOUND.toSeconds(), TimeUnit.SECONDS);
                assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(timeout - 100),
                        "gave up only after the timeout");
                assertTrue(silentError.getMessage().contains("compute node 6")
                        && silentError.getMessage().contains("tcp:127.0.0.1:" + silent.getLocalPort())
                        && silentError.getMessage().contains(timeout + " ms"), silentError.getMessage());
                // no connection was kept to either: the next send tries again and fails the same way
                assertThrows(RemoteAccessException.class, () -> m.send(5, msg, 0, 8));
            }
        }
    }
}
