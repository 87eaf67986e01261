package io.dmtree.mn.control;

import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.mn.MemoryNodeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded fuzzing of a memory node's control plane (and of HELLO): valid control frames of every
 * type, mutated by bit flips, lying lengths and counts, truncation, garbage and trailing bytes,
 * plus random HELLOs. The memory node must answer each with a reply or an error, or close that
 * connection; it must count no internal error, hand out no chunk twice, keep its region header
 * intact, and serve a well-behaved compute node afterwards. Seed: -Ddmtree.fuzz.seed.
 */
class ControlPlaneFuzzTest {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final long BYTES = org.agrona.UnsafeAccess.UNSAFE.arrayBaseOffset(byte[].class);

    @TempDir
    Path dir;

    @Test
    void fuzzedControlFramesAreAnsweredOrDroppedAndTheMemoryNodeKeepsServing() throws Exception {
        long seed = Long.getLong("dmtree.fuzz.seed", System.nanoTime());
        int cases = Integer.getInteger("dmtree.fuzz.cases", 3000);
        System.out.println("ControlPlaneFuzzTest seed=" + seed + " cases=" + cases + " (rerun with -Ddmtree.fuzz.seed=" + seed + ")");
        Random rnd = new Random(seed);
        MemoryNodeOptions o = MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0),
                new MemoryNodeConfig(8L << 20, 64L << 10, 64L << 10), "tcp", dir).withMaxFrameBytes(1 << 16);
        try (MemoryNodeServer mn = MemoryNodeServer.start(o)) {
            byte[] header = new byte[128];
            mn.memoryNode().region().copyOut(0, header, BYTES, header.length);
            FrameChannel ch = open(mn);
            int replies = 0;
            int errors = 0;
            int drops = 0;
            for (int c = 0; c < cases; c++) {
                boolean hello = rnd.nextInt(40) == 0;
                if (hello) {
                    ch.close();
                    ch = FrameChannel.connect(mn.address(), 1 << 20, 10_000);
                }
                byte[] bytes = hello ? helloFrame(rnd) : controlFrame(rnd);
                if (rnd.nextInt(3) == 0) {
                    bytes = mutate(bytes, rnd);
                }
                long declared = bytes.length >= 4 ? Integer.toUnsignedLong(ByteBuffer.wrap(bytes).order(LE).getInt(0)) : 0;
                boolean answerExpected = declared >= FrameHeader.LENGTH && declared <= bytes.length;
                try {
                    ch.writeRaw(ByteBuffer.wrap(bytes));
                    if (!answerExpected && declared > bytes.length) {
                        throw new IOException("truncated: hang up");
                    }
                    ch.readWithTimeout(10_000);
                    int type = ch.frame().getByte(FrameHeader.TYPE_OFFSET) & 0xFF;
                    if (type == FrameHeader.TYPE_ERROR) {
                        errors++;
                    } else {
                        replies++;
                    }
                    if (hello || declared != bytes.length) {
                        throw new IOException("resynchronise");
                    }
                } catch (IOException | io.dmtree.core.wire.MalformedFrameException e) {
                    ch.close();
                    drops++;
                    ch = open(mn);
                }
            }
            ch.close();
            System.out.println("ControlPlaneFuzzTest: " + replies + " replies, " + errors + " errors, " + drops + " reconnects");
            assertEquals(0, mn.frameServer().internalErrors());
            assertTrue(replies > cases / 10 && errors > cases / 10, replies + " replies, " + errors + " errors");
            byte[] after = new byte[128];
            mn.memoryNode().region().copyOut(0, after, BYTES, after.length);
            assertEquals(Arrays.toString(Arrays.copyOf(header, 64)), Arrays.toString(Arrays.copyOf(after, 64)),
                    "the region header (first 64 bytes) is untouched by control traffic");
            // a well-behaved compute node is served
            FrameChannel good = open(mn);
            FrameWriter w = new FrameWriter();
            good.write(w.begin(FrameHeader.TYPE_JOIN, 0, 1).u16(ControlFrame.ANY_COMPUTE_NODE).u16(0).i32(0).finish());
            good.readWithTimeout(10_000);
            assertEquals(FrameHeader.TYPE_JOIN | FrameHeader.REPLY_BIT, good.frame().getByte(FrameHeader.TYPE_OFFSET) & 0xFF);
            good.write(w.begin(FrameHeader.TYPE_ALLOCATE_CHUNK, 0, 2).finish());
            good.readWithTimeout(10_000);
            assertEquals(FrameHeader.TYPE_ALLOCATE_CHUNK | FrameHeader.REPLY_BIT, good.frame().getByte(FrameHeader.TYPE_OFFSET) & 0xFF);
            good.close();
        }
    }

    private static FrameChannel open(MemoryNodeServer mn) throws IOException {
        return FrameChannel.open(mn.address(), HelloFrame.SERVICE_CONTROL, 1 << 20, 10_000);
    }

    private static byte[] helloFrame(Random rnd) {
        FrameWriter w = new FrameWriter();
        w.begin(FrameHeader.TYPE_HELLO, 0, rnd.nextLong()).i32(rnd.nextInt(4) == 0 ? rnd.nextInt() : HelloFrame.MAGIC)
                .u8(rnd.nextInt(5)).u8(0).u16(0).finish();
        return bytes(w);
    }

    private static byte[] controlFrame(Random rnd) {
        FrameWriter w = new FrameWriter();
        long id = rnd.nextLong();
        switch (rnd.nextInt(11)) {
            case 0 -> w.begin(FrameHeader.TYPE_JOIN, 0, id).u16(rnd.nextBoolean() ? ControlFrame.ANY_COMPUTE_NODE : rnd.nextInt(5000))
                    .u16(0).i32(0);
            case 1 -> w.begin(FrameHeader.TYPE_LEAVE, 0, id);
            case 2 -> w.begin(FrameHeader.TYPE_DESCRIBE, 0, id);
            case 3 -> w.begin(FrameHeader.TYPE_ALLOCATE_CHUNK, 0, id);
            case 4 -> w.begin(FrameHeader.TYPE_ROOT_HOME, 0, id);
            case 5 -> w.begin(FrameHeader.TYPE_REGISTER_ENDPOINT, 0, id).string("tcp:127.0.0.1:" + rnd.nextInt(65536), 600);
            case 6 -> w.begin(FrameHeader.TYPE_LOOKUP_ENDPOINT, 0, id).u16(rnd.nextInt(8)).u16(0).i32(rnd.nextInt(3));
            case 7 -> {
                byte[] payload = new byte[rnd.nextInt(64)];
                rnd.nextBytes(payload);
                // a barrier for one party releases at once; more parties would wait out the short timeout
                w.begin(FrameHeader.TYPE_BARRIER, 0, id).string("b" + rnd.nextInt(3), 64).u16(rnd.nextInt(8) == 0 ? 2 : 1)
                        .i32(rnd.nextInt(3)).i32(payload.length).bytes(payload);
                int members = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(2) : 0;
                w.u16(members);
                for (int m = 0; m < members; m++) {
                    w.u16(rnd.nextInt(3));
                }
            }
            case 8 -> w.begin(FrameHeader.TYPE_VERB_REQUEST, 1, id).u8(1).u8(0).u16(0).i32(8).i64(0);
            case 9 -> w.begin(rnd.nextInt(256), rnd.nextInt(3), id);
            default -> {
                w.begin(FrameHeader.TYPE_MESSAGE, 0, id).u16(1).u16(4).i32(0).i32(7);
            }
        }
        w.finish();
        return bytes(w);
    }

    private static byte[] bytes(FrameWriter w) {
        byte[] b = new byte[w.length()];
        w.buffer().getBytes(0, b);
        return b;
    }

    private static byte[] mutate(byte[] b, Random rnd) {
        byte[] m;
        switch (rnd.nextInt(6)) {
            case 0 -> {
                m = b.clone();
                for (int i = 0; i < 1 + rnd.nextInt(4); i++) {
                    m[rnd.nextInt(m.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> {
                m = b.clone();
                int len = switch (rnd.nextInt(3)) {
                    case 0 -> rnd.nextInt(FrameHeader.LENGTH);
                    case 1 -> (1 << 16) + 1 + rnd.nextInt(1 << 20);
                    default -> -1 - rnd.nextInt(100);
                };
                ByteBuffer.wrap(m).order(LE).putInt(0, len);
            }
            case 2 -> {
                int n = FrameHeader.LENGTH + rnd.nextInt(Math.max(1, b.length - FrameHeader.LENGTH));
                m = Arrays.copyOf(b, n);
                ByteBuffer.wrap(m).order(LE).putInt(0, n);
            }
            case 3 -> {
                m = b.clone();
                m[FrameHeader.VERSION_OFFSET] = (byte) rnd.nextInt(256);
            }
            case 4 -> {
                m = b.clone();
                for (int i = FrameHeader.LENGTH; i < m.length; i++) {
                    m[i] = (byte) rnd.nextInt(256);
                }
            }
            default -> {
                m = Arrays.copyOf(b, b.length + 1 + rnd.nextInt(16));
                ByteBuffer.wrap(m).order(LE).putInt(0, m.length);
            }
        }
        return m;
    }

}
