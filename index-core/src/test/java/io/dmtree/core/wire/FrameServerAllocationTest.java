package io.dmtree.core.wire;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.dmtree.core.wire.TestServices.ECHO;
import static io.dmtree.core.wire.TestServices.loopback;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hot path allocates nothing: once warm, the event loop reads, handles inline and answers
 * pipelined frames without allocating (the loop thread's allocated-bytes counter of the JVM is
 * compared before and after a burst of frames).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FrameServerAllocationTest {
    private static final int PIPELINE = 8;

    @Test
    void theEventLoopAllocatesNothingPerInlineFrame() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (FrameServer server = new FrameServer(loopback(), 1, 1 << 20, Map.of(ECHO, new TestServices.Echo(ECHO, false)),
                "alloc-test", ConnectionLimits.DEFAULTS);
             FrameChannel ch = TestServices.open(server, ECHO)) {
            Thread loop = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("alloc-test-loop-0"))
                    .findFirst().orElseThrow();
            FrameWriter w = new FrameWriter();
            run(ch, w, 50_000); // warm up: the JIT compiles the path
            long before = threads.getThreadAllocatedBytes(loop.getId());
            int frames = 50_000;
            run(ch, w, frames);
            long allocated = threads.getThreadAllocatedBytes(loop.getId()) - before;
            System.out.println("FrameServerAllocationTest: the event loop allocated " + allocated + " bytes for " + frames + " frames");
            // one object per frame would be >= 16 bytes a frame (800 KB); a few objects of the loop's own
            // housekeeping under a loaded host (a selector wake-up, a deoptimisation) stay far below this
            assertTrue(allocated <= frames / 8, "the loop allocated " + allocated + " bytes for " + frames + " frames");
            assertEquals(0, server.internalErrors());
        }
    }

    /**
     * Not an assertion on the amount: prints what the loop allocates per frame when the connection
     * runs TLS (the JDK's engine allocates per wrap and unwrap); the plaintext figure is the test above.
     */
    @Test
    void whatTheEventLoopAllocatesPerFrameUnderTls(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        java.nio.file.Path pass = dir.resolve("tls.pass");
        java.nio.file.Files.writeString(pass, "alloc-test-password\n");
        java.nio.file.Files.setPosixFilePermissions(pass, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        java.nio.file.Path store = dir.resolve("cluster.p12");
        Process keytool = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "cluster", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "alloc-test-password",
                "-dname", "CN=alloc test").redirectErrorStream(true).start();
        keytool.getInputStream().readAllBytes();
        assertTrue(keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0, "keytool made the key pair");
        ClusterSecret secret = ClusterSecret.generate().withTls(ClusterTls.load(store, pass, null));
        try (FrameServer server = new FrameServer(loopback(), 1, 1 << 20, Map.of(ECHO, new TestServices.Echo(ECHO, false)),
                "alloc-tls", ConnectionLimits.DEFAULTS, secret);
             FrameChannel ch = FrameChannel.open(server.address(), ECHO, 4 << 20, 10_000, secret)) {
            assertTrue(ch.usesTls());
            Thread loop = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("alloc-tls-loop-0"))
                    .findFirst().orElseThrow();
            FrameWriter w = new FrameWriter();
            run(ch, w, 20_000);
            long before = threads.getThreadAllocatedBytes(loop.getId());
            int frames = 20_000;
            run(ch, w, frames);
            long allocated = threads.getThreadAllocatedBytes(loop.getId()) - before;
            System.out.printf("FrameServerAllocationTest: under TLS the event loop allocated %d bytes for %d frames (%.0f a frame)%n",
                    allocated, frames, (double) allocated / frames);
            assertEquals(0, server.internalErrors());
        }
    }

    private static void run(FrameChannel ch, FrameWriter w, int frames) throws Exception {
        long id = 1;
        for (int i = 0; i < frames; i += PIPELINE) {
            for (int k = 0; k < PIPELINE; k++) {
                w.begin(TestServices.TYPE_ECHO, 0, id++).i64(i).i64(k).finish();
                ch.write(w);
            }
            for (int k = 0; k < PIPELINE; k++) {
                ch.read();
            }
        }
    }
}
