package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.wire.AuthenticationException;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ClusterTls;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.TlsException;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.dmtree.cn.carrier.tcp.TcpTestCluster.SCRATCH;
import static io.dmtree.cn.carrier.tcp.TcpTestCluster.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tcp verb and control channels under TLS: what goes over the wire is not the plaintext, large
 * frames and a full socket go through partial wraps and unwraps, and every mismatch (a plaintext
 * client of a TLS memory node and the reverse, another cluster's certificate) is refused with a
 * message that says which.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TlsChannelsTest {
    private static final byte[] MARKER = "dmtree-tls-marker-0123456789abcdef-this-value-must-never-be-seen-in-clear"
            .getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private ClusterSecret clusterSecret() throws Exception {
        return TlsMaterial.secretWith(TlsMaterial.make(dir.resolve("tls"), "cluster"));
    }

    @Test
    void aKnownValueNeverCrossesTheWireInClearUnderTlsAndDoesWithout() throws Exception {
        ClusterSecret secret = clusterSecret();
        for (boolean tls : new boolean[]{true, false}) {
            ClusterSecret s = tls ? secret : ClusterSecret.generate();
            try (TcpTestCluster cluster = new TcpTestCluster(1, dir.resolve("c" + tls), TcpVerbsConfig.defaults(), s, s)) {
                LoopbackProxy proxy = cluster.proxies.get(0);
                proxy.record();
                Verbs v = cluster.verbs;
                UnsafeBuffer src = new UnsafeBuffer(MARKER);
                for (int i = 0; i < 20; i++) {
                    v.write(at(0, SCRATCH + 128L * i), src, 0, MARKER.length);
                }
                UnsafeBuffer back = new UnsafeBuffer(new byte[MARKER.length]);
                for (int i = 0; i < 20; i++) {
                    v.read(at(0, SCRATCH + 128L * i), back, 0, MARKER.length);
                    assertEquals(new String(MARKER, StandardCharsets.US_ASCII), back.getStringWithoutLengthAscii(0, MARKER.length));
                }
                byte[] wire = proxy.recorded();
                assertTrue(wire.length > 40 * MARKER.length, "the proxy saw the traffic: " + wire.length + " bytes");
                // the marker went out 20 times (writes) and came back 20 times (reads)
                int seen = occurrences(wire, MARKER);
                if (tls) {
                    assertEquals(0, seen, "the value crossed the wire in clear under TLS");
                    assertEquals(0x17, wire[0] & 0xFF, "the stream is TLS application-data records");
                } else {
                    assertEquals(40, seen, "without TLS the value is on the wire (so this test can see it)");
                }
                assertEquals(tls, cluster.servers.get(0).frameServer().usesTls());
            }
        }
    }

    private static int occurrences(byte[] hay, byte[] needle) {
        int n = 0;
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            n++;
        }
        return n;
    }

    /** As {@link VerbConnectionBehaviourTest#framesThatDoNotFitTheSocketGoOutWhenItDrains}, under TLS. */
    @Test
    void largeFramesThatDoNotFitTheSocketGoOutWhenItDrainsUnderTls() throws Exception {
        int threads = 6;
        int bytes = 512 << 10;
        ClusterSecret secret = clusterSecret();
        try (TcpTestCluster cluster = new TcpTestCluster(1, dir, TcpVerbsConfig.defaults(), secret, secret)) {
            Verbs v = cluster.verbs;
            cluster.proxies.get(0).pause(); // the memory node reads nothing: the socket fills, wraps wait in the session
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    try {
                        UnsafeBuffer src = new UnsafeBuffer(new byte[bytes]);
                        for (int i = 0; i < bytes; i++) {
                            src.putByte(i, (byte) (i * 7 + id));
                        }
                        long a = at(0, SCRATCH + (long) id * bytes);
                        v.write(a, src, 0, bytes);
                        UnsafeBuffer back = new UnsafeBuffer(new byte[bytes]);
                        v.read(a, back, 0, bytes);
                        for (int i = 0; i < bytes; i++) {
                            if (back.getByte(i) != src.getByte(i)) {
                                throw new AssertionError("thread " + id + " read back another byte at " + i);
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                writers.add(th);
                th.start();
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (cluster.verbs.wireStats().writesCutShort() == 0 && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            assertTrue(cluster.verbs.wireStats().writesCutShort() > 0, "a write was cut short by the full socket");
            Thread.sleep(50);
            cluster.proxies.get(0).resume();
            for (Thread th : writers) {
                th.join(60_000);
                assertFalse(th.isAlive());
            }
            assertNull(failure.get());
            WireStats w = cluster.verbs.wireStats();
            assertEquals(w.framesWritten(), w.repliesRead());
        }
    }

    @Test
    void aPlaintextClientOfATlsMemoryNodeIsRefusedClearly() throws Exception {
        ClusterSecret secret = clusterSecret();
        ClusterSecret plain = ClusterSecret.of(keyOf(secret));
        try (MemoryNodeServer mn = start(secret, "tls-mn")) {
            RemoteAccessException verbs = assertThrows(RemoteAccessException.class, () -> TcpVerbs.connect(List.of(mn.address()),
                    TcpVerbsConfig.defaults().withTimeoutMillis(5_000), HelloFrame.NO_COMPUTE_NODE, 0, plain).close());
            assertTrue(verbs.getMessage().contains("speaks TLS only"), verbs.getMessage());
            AuthenticationException control = assertThrows(AuthenticationException.class,
                    () -> FrameChannel.open(mn.address(), HelloFrame.SERVICE_CONTROL, 1 << 20, 5_000, plain).close());
            assertTrue(control.getMessage().contains("speaks TLS only"), control.getMessage());
            assertTrue(control.getMessage().contains("--tls"), control.getMessage());
            assertEquals(2, mn.frameServer().tlsRefusals());
            // a member with the key material is served
            try (FrameChannel ok = FrameChannel.open(mn.address(), HelloFrame.SERVICE_CONTROL, 1 << 20, 5_000, secret)) {
                assertTrue(ok.usesTls());
                assertEquals(0, ok.peer().nodeId());
            }
            assertEquals(0, mn.frameServer().internalErrors());
        }
    }

    @Test
    void aTlsClientOfAPlaintextMemoryNodeIsRefusedClearly() throws Exception {
        ClusterSecret secret = clusterSecret();
        ClusterSecret plain = ClusterSecret.of(keyOf(secret));
        try (MemoryNodeServer mn = start(plain, "plain-mn")) {
            RemoteAccessException verbs = assertThrows(RemoteAccessException.class, () -> TcpVerbs.connect(List.of(mn.address()),
                    TcpVerbsConfig.defaults().withTimeoutMillis(5_000), HelloFrame.NO_COMPUTE_NODE, 0, secret).close());
            assertInstanceOf(TlsException.class, verbs.getCause());
            assertTrue(verbs.getMessage().contains("does not use TLS"), verbs.getMessage());
            assertTrue(verbs.getMessage().contains("opened with a TLS handshake"), "the memory node's reply is quoted: "
                    + verbs.getMessage());
            TlsException control = assertThrows(TlsException.class,
                    () -> FrameChannel.open(mn.address(), HelloFrame.SERVICE_CONTROL, 1 << 20, 5_000, secret).close());
            assertTrue(control.plaintextPeer(), control.getMessage());
            assertEquals(2, mn.frameServer().tlsRefusals());
            assertEquals(0, mn.frameServer().internalErrors());
        }
    }

    @Test
    void anotherClustersCertificateIsRefusedBothWays() throws Exception {
        ClusterSecret secret = clusterSecret();
        Path otherStore = TlsMaterial.make(dir.resolve("other"), "other");
        ClusterSecret sameSecretOtherCertificate = ClusterSecret.of(keyOf(secret))
                .withTls(ClusterTls.load(otherStore, TlsMaterial.password(otherStore), null));
        try (MemoryNodeServer mn = start(secret, "mn")) {
            TlsException e = assertThrows(TlsException.class, () -> FrameChannel.open(mn.address(), HelloFrame.SERVICE_CONTROL,
                    1 << 20, 5_000, sameSecretOtherCertificate).close());
            assertFalse(e.plaintextPeer());
            assertTrue(e.getMessage().contains("not one this side trusts") || e.getMessage().contains("does not trust"),
                    e.getMessage());
            RemoteAccessException verbs = assertThrows(RemoteAccessException.class, () -> TcpVerbs.connect(List.of(mn.address()),
                    TcpVerbsConfig.defaults().withTimeoutMillis(5_000), HelloFrame.NO_COMPUTE_NODE, 0,
                    sameSecretOtherCertificate).close());
            assertInstanceOf(TlsException.class, verbs.getCause());
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (mn.frameServer().tlsRefusals() < 2 && System.nanoTime() < until) {
                Thread.sleep(5); // the memory node's side of the refusal is counted on its loop
            }
            assertEquals(2, mn.frameServer().tlsRefusals());
        }
        // a memory node with the other certificate: the member refuses it
        try (MemoryNodeServer other = start(sameSecretOtherCertificate, "other-mn")) {
            TlsException e = assertThrows(TlsException.class, () -> FrameChannel.open(other.address(),
                    HelloFrame.SERVICE_CONTROL, 1 << 20, 5_000, secret).close());
            assertTrue(e.getMessage().contains("not one this side trusts"), e.getMessage());
        }
    }

    @Test
    void keyMaterialProblemsAreNamed() throws Exception {
        Path store = TlsMaterial.make(dir.resolve("tls"), "cluster");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> ClusterTls.load(dir.resolve("nope.p12"), TlsMaterial.password(store), null));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        Path wrong = dir.resolve("wrong.pass");
        java.nio.file.Files.writeString(wrong, "not-the-password\n");
        java.nio.file.Files.setPosixFilePermissions(wrong, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> ClusterTls.load(store, wrong, null));
        assertTrue(bad.getMessage().contains("password"), bad.getMessage());
        java.nio.file.Files.setPosixFilePermissions(wrong, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        IllegalArgumentException open = assertThrows(IllegalArgumentException.class, () -> ClusterTls.load(store, wrong, null));
        assertTrue(open.getMessage().contains("chmod 600"), open.getMessage());
    }

    /**
     * Not a timing assertion: prints what a warmed-up verb allocates under TLS (the plaintext path
     * allocates nothing, {@link VerbConnectionBehaviourTest#aWarmedUpCallerAllocatesNothingPerVerb});
     * the JDK's engine makes an {@code SSLEngineResult} per wrap and unwrap and more per record.
     */
    @Test
    void whatAVerbAllocatesUnderTls() throws Exception {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ClusterSecret secret = clusterSecret();
        try (TcpTestCluster cluster = new TcpTestCluster(1, dir, TcpVerbsConfig.defaults(), secret, secret)) {
            Verbs v = cluster.verbs;
            UnsafeBuffer buf = new UnsafeBuffer(new byte[1024]);
            Runnable round = () -> {
                v.read(at(0, SCRATCH), buf, 0, 1024);
                v.write(at(0, SCRATCH + 4096), buf, 0, 256);
                v.cas(at(0, SCRATCH + 2048), 0, 0);
                v.faa(at(0, SCRATCH + 2056), 1);
            };
            for (int i = 0; i < 10_000; i++) {
                round.run();
            }
            long id = Thread.currentThread().getId();
            int rounds = 2_000;
            long before = mx.getThreadAllocatedBytes(id);
            for (int i = 0; i < rounds; i++) {
                round.run();
            }
            long allocated = mx.getThreadAllocatedBytes(id) - before;
            System.out.printf("TLS: a verb allocates %.0f bytes on the calling thread (%d bytes in %d verbs)%n",
                    (double) allocated / (rounds * 4), allocated, rounds * 4);
            assertTrue(allocated > 0, "the measurement ran");
        }
    }

    private MemoryNodeServer start(ClusterSecret secret, String name) {
        return MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0), TcpTestCluster.CONFIG, "tcp",
                dir.resolve(name)).withMaxFrameBytes(1 << 20).withSecret(secret));
    }

    /** The key bytes of {@code s}, to make the same secret without TLS (a member that lacks only the TLS setting). */
    private static byte[] keyOf(ClusterSecret s) throws IOException {
        Path f = java.nio.file.Files.createTempDirectory("dmtree-key").resolve("k");
        try {
            s.store(f);
            return java.util.HexFormat.of().parseHex(java.nio.file.Files.readString(f).trim());
        } finally {
            java.nio.file.Files.deleteIfExists(f);
            java.nio.file.Files.deleteIfExists(f.getParent());
        }
    }
}
