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
