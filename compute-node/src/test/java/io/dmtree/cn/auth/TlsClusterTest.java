package io.dmtree.cn.auth;

import io.dmtree.cn.carrier.tcp.TcpMessaging;
import io.dmtree.cn.carrier.tcp.TlsMaterial;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.wire.AuthenticationException;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.HostPort;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cluster whose every channel runs TLS: two memory nodes and two compute nodes joined through the
 * control plane, verbs on both memory nodes from several threads of each compute node, and
 * compute-node-to-compute-node messages both ways; counters and message sums come out exact, and
 * the messaging endpoints refuse a plaintext peer.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TlsClusterTest {
    private static final MemoryNodeConfig REGION = new MemoryNodeConfig(8L << 20, 256L << 10, 64L << 10);
    private static final int THREADS = 3;
    private static final int OPS = 400;

    @TempDir
    Path dir;

    @Test
    void controlVerbsAndMessagingRunUnderTls() throws Exception {
        ClusterSecret secret = TlsMaterial.secretWith(TlsMaterial.make(dir.resolve("tls"), "cluster"));
        List<MemoryNodeServer> mns = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                mns.add(MemoryNodeServer.start(MemoryNodeOptions.of(i, new InetSocketAddress("127.0.0.1", 0), REGION, "tcp",
                        dir.resolve("mn" + i)).withMaxFrameBytes(1 << 20).withSecret(secret)));
            }
            ClusterClient.Options o = ClusterClient.Options.of(List.of(mns.get(0).address(), mns.get(1).address()))
                    .withTimeoutMillis(10_000).withMessaging(new InetSocketAddress("127.0.0.1", 0), null).withSecret(secret);
            try (ClusterClient a = ClusterClient.join(o); ClusterClient b = ClusterClient.join(o)) {
                long counter0 = a.chunkSource().allocateChunk(0);
                long counter1 = a.chunkSource().allocateChunk(1);
                UnsafeBuffer zero = new UnsafeBuffer(new byte[8]);
                a.verbs().write(counter0, zero, 0, 8);
                a.verbs().write(counter1, zero, 0, 8);

                AtomicLong[] received = {new AtomicLong(), new AtomicLong()};
                AtomicLong[] sums = {new AtomicLong(), new AtomicLong()};
                a.messaging().onMessage((from, buf, off, len) -> {
                    received[0].incrementAndGet();
                    sums[0].addAndGet(buf.getLong(off));
                });
                b.messaging().onMessage((from, buf, off, len) -> {
                    received[1].incrementAndGet();
                    sums[1].addAndGet(buf.getLong(off));
                });

                AtomicReference<Throwable> failure = new AtomicReference<>();
                List<Thread> threads = new ArrayList<>();
                for (ClusterClient c : List.of(a, b)) {
                    for (int t = 0; t < THREADS; t++) {
                        int peer = c == a ? b.computeNodeId() : a.computeNodeId();
                        Verbs v = c.verbs();
                        Thread th = new Thread(() -> {
                            try {
                                UnsafeBuffer m = new UnsafeBuffer(new byte[16]);
                                for (int i = 1; i <= OPS; i++) {
                                    v.faa(counter0, 1);
                                    v.faa(counter1, 2);
                                    if (i % 10 == 0) {
                                        m.putLong(0, i);
                                        c.messaging().send(peer, m, 0, 16);
                                    }
                                }
                            } catch (Throwable e) {
                                failure.compareAndSet(null, e);
                            }
                        });
                        threads.add(th);
                        th.start();
                    }
                }
                for (Thread th : threads) {
                    th.join(120_000);
                }
                assertNull(failure.get());
                UnsafeBuffer back = new UnsafeBuffer(new byte[8]);
                a.verbs().read(counter0, back, 0, 8);
                assertEquals(2L * THREADS * OPS, back.getLong(0));
                b.verbs().read(counter1, back, 0, 8);
                assertEquals(2L * 2 * THREADS * OPS, back.getLong(0));
                long perSender = 0;
                for (int i = 10; i <= OPS; i += 10) {
                    perSender += i;
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while ((received[0].get() < THREADS * OPS / 10 || received[1].get() < THREADS * OPS / 10)
                        && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                for (int i = 0; i < 2; i++) {
                    assertEquals(THREADS * OPS / 10, received[i].get(), "messages to compute node " + i);
                    assertEquals(THREADS * perSender, sums[i].get());
                }
                // every endpoint runs TLS: the control plane, the verbs, and a compute node's messaging endpoint
                for (MemoryNodeServer mn : mns) {
                    assertTrue(mn.frameServer().usesTls());
                    assertEquals(0, mn.frameServer().internalErrors());
                }
                ClusterSecret plain = ClusterSecret.of(TlsMaterialKeys.keyOf(secret));
                String endpoint = ((TcpMessaging) a.messaging()).endpoint();
                InetSocketAddress at = HostPort.parse("endpoint", endpoint.substring(TcpMessaging.SCHEME.length()));
                AuthenticationException refused = assertThrows(AuthenticationException.class, () -> FrameChannel.open(at,
                        HelloFrame.SERVICE_MESSAGING, 4096, 5_000, plain, b.computeNodeId(), 0).close());
                assertTrue(refused.getMessage().contains("speaks TLS only"), refused.getMessage());
            }
        } finally {
            for (MemoryNodeServer mn : mns) {
                mn.close();
            }
        }
    }

    /** The key bytes of a secret, to make a member that lacks only the TLS setting. */
    static final class TlsMaterialKeys {
        static byte[] keyOf(ClusterSecret s) throws java.io.IOException {
            Path d = java.nio.file.Files.createTempDirectory("dmtree-key");
            Path f = d.resolve("k");
            try {
                s.store(f);
                return java.util.HexFormat.of().parseHex(java.nio.file.Files.readString(f).trim());
            } finally {
                java.nio.file.Files.deleteIfExists(f);
                java.nio.file.Files.deleteIfExists(d);
            }
        }
    }
}
