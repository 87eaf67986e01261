package io.dmtree.mn.carrier.shm;

import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.ErrorReply;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fencing on shm stops the compute node's process: a real child process joins (its JOIN names its
 * process id), the memory node fences that compute node, and when {@code fence} returns the process
 * is gone; a process whose compute node left cleanly, or another slot's, is not touched.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ShmFenceTest {
    private static final MemoryNodeConfig CONFIG = new MemoryNodeConfig(4L << 20, 64L << 10, 64L << 10);

    @TempDir
    Path dir;

    @Test
    void fenceStopsTheJoinedProcess() throws Exception {
        Process fenced = new ProcessBuilder("sleep", "600").start();
        Process other = new ProcessBuilder("sleep", "600").start();
        Process leaver = new ProcessBuilder("sleep", "600").start();
        try (MemoryNodeServer mn = MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0), CONFIG,
                "shm", dir).withCarrierOptions(io.dmtree.core.carrier.CarrierOptions.NONE.with(ShmCarrierServer.SEGMENT_SHIFT, "20")));
             FrameChannel a = control(mn); FrameChannel b = control(mn); FrameChannel c = control(mn)) {
            int cnA = join(a, fenced.pid());
            int cnB = join(b, other.pid());
            int cnC = join(c, leaver.pid());
            call(c, FrameHeader.TYPE_LEAVE);
            mn.fence(cnC, 7); // left cleanly: nothing to stop
            mn.fence(9, 7);   // never joined: nothing to stop
            assertTrue(leaver.isAlive() && other.isAlive() && fenced.isAlive());
            mn.fence(cnA, 5);
            assertFalse(fenced.isAlive(), "fence returned while the fenced process runs");
            assertEquals(137, fenced.waitFor(), "killed by SIGKILL");
            assertTrue(other.isAlive(), "another compute node's process was stopped");
            assertTrue(leaver.isAlive(), "a compute node that left was stopped");
            mn.fence(cnA, 5); // again: nothing left to do
            assertTrue(cnB != cnA);
        } finally {
            for (Process p : new Process[]{fenced, other, leaver}) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static FrameChannel control(MemoryNodeServer mn) throws Exception {
        return FrameChannel.open(mn.address(), HelloFrame.SERVICE_CONTROL, 1 << 20, 10_000);
    }

    private static int join(FrameChannel ch, long pid) throws Exception {
        ch.write(new FrameWriter().begin(FrameHeader.TYPE_JOIN, 0, 1).u16(ControlFrame.ANY_COMPUTE_NODE).u16(0)
                .i32((int) pid).finish());
        ch.readWithTimeout(10_000);
        FrameReader r = new FrameReader().wrap(ch.frame(), 0, ch.frameLength());
        assertEquals(FrameHeader.TYPE_JOIN | FrameHeader.REPLY_BIT, r.type(), describe(r));
        return r.u16("compute node id");
    }

    private static void call(FrameChannel ch, int type) throws Exception {
        ch.write(new FrameWriter().begin(type, 0, 2).finish());
        ch.readWithTimeout(10_000);
        FrameReader r = new FrameReader().wrap(ch.frame(), 0, ch.frameLength());
        assertEquals(type | FrameHeader.REPLY_BIT, r.type(), describe(r));
    }

    private static String describe(FrameReader r) {
        return r.type() == FrameHeader.TYPE_ERROR ? ErrorReply.of(r).getMessage() : FrameHeader.typeName(r.type());
    }
}
