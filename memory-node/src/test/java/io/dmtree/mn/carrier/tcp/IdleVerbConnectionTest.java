package io.dmtree.mn.carrier.tcp;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.core.wire.ConnectionLimits;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.ErrorReply;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.core.wire.VerbFrame;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A compute node's verb connection may stay silent between frames for longer than the idle
 * timeout (an idle lane of a long-lived client) and still be served; a connection that stalls
 * partway through a frame is closed by the idle timer like any other.
 */
class IdleVerbConnectionTest {
    private static final int IDLE_MILLIS = 300;

    @TempDir
    Path dir;

    @Test
    void anIdleVerbConnectionBetweenFramesOutlivesTheIdleTimerAndAStalledFrameDoesNot() throws Exception {
        try (MemoryNodeServer mn = MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0),
                new MemoryNodeConfig(8L << 20, 64L << 10, 64L << 10), "tcp", dir).withMaxFrameBytes(1 << 20)
                .withLimits(ConnectionLimits.MEMORY_NODE.toBuilder().idleTimeoutMillis(IDLE_MILLIS).build()))) {
            FrameChannel idle = FrameChannel.open(mn.address(), HelloFrame.SERVICE_VERBS, 1 << 20, 10_000);
            FrameChannel stalled = FrameChannel.open(mn.address(), HelloFrame.SERVICE_VERBS, 1 << 20, 10_000);
            try {
                long offset = new MemoryNodeConfig(8L << 20, 64L << 10, 64L << 10).chunkAreaOffset();
                long before = faa(idle, offset, 5, 1);
                FrameWriter half = new FrameWriter();
                half.begin(FrameHeader.TYPE_VERB_REQUEST, 1, 3).u8(VerbFrame.KIND_FAA).u8(0).u16(0).i32(8).i64(offset).i64(1).finish();
                ByteBuffer partial = ByteBuffer.wrap(new byte[FrameHeader.LENGTH + 4]);
                half.buffer().getBytes(0, partial.array());
                synchronized (stalled.writeLock()) {
                    stalled.writeRaw(partial);
                }
                Thread.sleep(5L * IDLE_MILLIS);
                assertEquals(before + 5, faa(idle, offset, 0, 4), "the idle verb connection is still served");
                try {
                    stalled.readWithTimeout(10_000);
                    FrameReader r = new FrameReader().wrap(stalled.frame(), 0, stalled.frameLength());
                    assertEquals(FrameHeader.TYPE_ERROR, r.type());
                    assertEquals(ErrorCode.TIMEOUT, ErrorReply.of(r).code());
                    assertThrows(IOException.class, () -> stalled.readWithTimeout(10_000), "then the connection is closed");
                } catch (IOException closedAtOnce) {
                    // closed without the best-effort error reply: closed all the same
                }
                assertEquals(1, mn.frameServer().stats().idleTimeouts(), mn.frameServer().stats().toString());
            } finally {
                idle.close();
                stalled.close();
            }
        }
    }

    private static long faa(FrameChannel ch, long offset, long delta, long id) throws IOException, MalformedFrameException {
        FrameWriter w = new FrameWriter();
        w.begin(FrameHeader.TYPE_VERB_REQUEST, 1, id).u8(VerbFrame.KIND_FAA).u8(0).u16(0).i32(8).i64(offset).i64(delta).finish();
        synchronized (ch.writeLock()) {
            ch.write(w);
        }
        ch.readWithTimeout(10_000);
        assertEquals(FrameHeader.TYPE_VERB_REQUEST | FrameHeader.REPLY_BIT, ch.frame().getByte(FrameHeader.TYPE_OFFSET) & 0xFF);
        return ch.frame().getLong(FrameHeader.LENGTH, ByteOrder.LITTLE_ENDIAN);
    }
}
