package io.dmtree.core.wire;

import io.dmtree.core.memory.AccessRight;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** RDMA_ATTACH requests and replies: round trips, the layout's sizes, and refusals of bad frames. */
class RdmaAttachFrameTest {
    private static FrameReader read(FrameWriter w) {
        UnsafeBuffer b = new UnsafeBuffer(new byte[w.length()]);
        b.putBytes(0, w.buffer(), 0, w.length());
        return new FrameReader().wrap(b, 0, w.length());
    }

    @Test
    void requestsAndRepliesRoundTripWithTheirLayoutSizes() throws Exception {
        List<InetSocketAddress> qps = List.of(new InetSocketAddress(InetAddress.getByName("10.0.0.7"), 40001),
                new InetSocketAddress(InetAddress.getByName("fe80::1"), 65535), new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 1));
        FrameWriter w = RdmaAttachFrame.request(new FrameWriter(64), 9, qps);
        assertEquals(FrameHeader.LENGTH + 4 + qps.size() * RdmaAttachFrame.QP_BYTES, w.length());
        FrameReader r = read(w);
        assertEquals(FrameHeader.TYPE_RDMA_ATTACH, r.type());
        assertEquals(9, r.correlationId());
        assertEquals(qps, RdmaAttachFrame.queuePairs(r));

        List<List<RdmaWindow>> windows = new ArrayList<>();
        windows.add(List.of(new RdmaWindow(0, 0x7f00_0000_0000L, 64, 0x1234, AccessRight.READ.bit()),
                new RdmaWindow(1L << 40, -1L, Integer.MAX_VALUE, -7, AccessRight.ALL)));
        windows.add(List.of());
        windows.add(List.of(new RdmaWindow(4096, 42, 8, 0, AccessRight.READ.bit() | AccessRight.ATOMIC.bit())));
        FrameWriter reply = RdmaAttachFrame.reply(new FrameWriter(64), 9, windows);
        assertEquals(FrameHeader.LENGTH + 4 + 3 * 4 + 3 * RdmaAttachFrame.WINDOW_BYTES, reply.length());
        FrameReader rr = read(reply);
        assertEquals(FrameHeader.TYPE_RDMA_ATTACH | FrameHeader.REPLY_BIT, rr.type());
        assertEquals(windows, RdmaAttachFrame.windows(rr));
    }

    @Test
    void badFramesAreRefused() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> RdmaAttachFrame.request(new FrameWriter(64), 1, List.of()));
        List<InetSocketAddress> many = new ArrayList<>();
        for (int i = 0; i <= RdmaAttachFrame.MAX_QUEUE_PAIRS; i++) {
            many.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), 1000 + i));
        }
        assertThrows(IllegalArgumentException.class, () -> RdmaAttachFrame.request(new FrameWriter(64), 1, many));

        FrameWriter zero = new FrameWriter(64).begin(FrameHeader.TYPE_RDMA_ATTACH, 0, 1).u16(0).u16(0).finish();
        assertEquals(ErrorCode.OUT_OF_RANGE, assertThrows(MalformedFrameException.class,
                () -> RdmaAttachFrame.queuePairs(read(zero))).code());
        FrameWriter family = new FrameWriter(64).begin(FrameHeader.TYPE_RDMA_ATTACH, 0, 1).u16(1).u16(0).u8(5).u8(0).u16(1)
                .bytes(new byte[RdmaAttachFrame.QP_ADDRESS_BYTES]).finish();
        assertEquals(ErrorCode.MALFORMED, assertThrows(MalformedFrameException.class,
                () -> RdmaAttachFrame.queuePairs(read(family))).code());
        FrameWriter truncated = new FrameWriter(64).begin(FrameHeader.TYPE_RDMA_ATTACH, 0, 1).u16(2).u16(0).u8(4).u8(0).u16(1)
                .bytes(new byte[RdmaAttachFrame.QP_ADDRESS_BYTES]).finish();
        assertThrows(MalformedFrameException.class, () -> RdmaAttachFrame.queuePairs(read(truncated)));
        FrameWriter noRights = new FrameWriter(64).begin(FrameHeader.TYPE_RDMA_ATTACH | FrameHeader.REPLY_BIT, 0, 1).u16(1).u16(0)
                .u16(1).u16(0).i64(0).i64(0).i32(8).i32(1).i32(0).i32(0).finish();
        assertEquals(ErrorCode.MALFORMED, assertThrows(MalformedFrameException.class,
                () -> RdmaAttachFrame.windows(read(noRights))).code());
    }
}
