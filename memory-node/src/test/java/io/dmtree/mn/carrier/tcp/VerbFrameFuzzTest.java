package io.dmtree.mn.carrier.tcp;

import io.dmtree.core.wire.ErrorReply;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameServer;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.VerbFrame;
import io.dmtree.mn.OffHeapRegion;
import org.agrona.UnsafeAccess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded fuzzing of the tcp verb service. The region is a window inside a larger allocation whose
 * guard bytes before and after must never change; a shadow copy of the region, updated by an
 * independent model of every frame the server acknowledged, must equal the region at the end. Each
 * case is a structured frame (mostly valid, then mutated: bit flips, bad lengths, truncation,
 * wrong counts, out-of-range offsets, misaligned atomics, garbage). The server must answer with a
 * reply or an error or close that connection, never count an internal error, and keep serving a
 * well-behaved client. Seed: -Ddmtree.fuzz.seed; cases: -Ddmtree.fuzz.cases.
 */
class VerbFrameFuzzTest {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int REGION = 64 * 1024;
    private static final int GUARD = 4096;
    private static final int MAX_FRAME = 16 * 1024;

    private long raw;
    private OffHeapRegion region;
    private FrameServer server;
    private byte[] shadow;

    @BeforeEach
    void start() throws IOException {
        raw = UnsafeAccess.UNSAFE.allocateMemory(REGION + 2L * GUARD);
        UnsafeAccess.UNSAFE.setMemory(raw, REGION + 2L * GUARD, (byte) 0xA5);
        UnsafeAccess.UNSAFE.setMemory(raw + GUARD, REGION, (byte) 0);
        region = OffHeapRegion.overSegments(REGION, new long[] {raw + GUARD}, 62, null);
        shadow = new byte[REGION];
        server = new FrameServer(new InetSocketAddress("127.0.0.1", 0), 0, MAX_FRAME,
                Map.of(HelloFrame.SERVICE_VERBS, new VerbService(region, MAX_FRAME)), "fuzz-mn");
    }

    @AfterEach
    void stop() {
        server.close();
        UnsafeAccess.UNSAFE.freeMemory(raw);
    }

    @Test
    void fuzzedVerbFramesNeverCrashTheServerNorWriteOutsideTheRegion() throws Exception {
        long seed = Long.getLong("dmtree.fuzz.seed", System.nanoTime());
        int cases = Integer.getInteger("dmtree.fuzz.cases", 3000);
        System.out.println("VerbFrameFuzzTest seed=" + seed + " cases=" + cases + " (rerun with -Ddmtree.fuzz.seed=" + seed + ")");
        Random rnd = new Random(seed);
        FrameChannel ch = FrameChannel.open(server.address(), HelloFrame.SERVICE_VERBS, MAX_FRAME * 4, 10_000);
        int ok = 0;
        int errors = 0;
        int drops = 0;
        for (int c = 0; c < cases; c++) {
            Frame f = Frame.random(rnd);
            byte[] bytes = f.encode();
            boolean mutated = rnd.nextInt(3) == 0;
            if (mutated) {
                bytes = mutate(bytes, rnd);
            }
            try {
                ch.writeRaw(ByteBuffer.wrap(bytes));
            } catch (IOException e) {
                // the server closed this connection after a fatal frame while we were still writing
                ch.close();
                drops++;
                ch = FrameChannel.open(server.address(), HelloFrame.SERVICE_VERBS, MAX_FRAME * 4, 10_000);
                continue;
            }
            boolean truncated = bytes.length >= 4 && Integer.toUnsignedLong(ByteBuffer.wrap(bytes).order(LE).getInt(0)) > bytes.length;
            if (truncated) {
                // a frame shorter than its length field: the server waits for the rest; we hang up
                ch.close();
                drops++;
                ch = FrameChannel.open(server.address(), HelloFrame.SERVICE_VERBS, MAX_FRAME * 4, 10_000);
                continue;
            }
            // a length field shorter than the bytes sent desynchronises the stream after this frame:
            // the server sees our leftover bytes as the next frame, so we judge the first reply and reconnect
            long declared = bytes.length >= 4 ? Integer.toUnsignedLong(ByteBuffer.wrap(bytes).order(LE).getInt(0)) : 0;
            boolean desync = declared < bytes.length;
            if (desync && declared >= FrameHeader.LENGTH) {
                bytes = Arrays.copyOf(bytes, (int) declared);
            }
            try {
                ch.readWithTimeout(10_000);
            } catch (IOException e) {
                ch.close();
                drops++;
                ch = FrameChannel.open(server.address(), HelloFrame.SERVICE_VERBS, MAX_FRAME * 4, 10_000);
                continue;
            }
            FrameReader r = new FrameReader().wrap(ch.frame(), 0, ch.frameLength());
            if (desync) {
                FrameChannel fresh = FrameChannel.open(server.address(), HelloFrame.SERVICE_VERBS, MAX_FRAME * 4, 10_000);
                drops++;
                if (r.type() == FrameHeader.TYPE_ERROR) {
                    errors++;
                    ch.close();
                    ch = fresh;
                    continue;
                }
                FrameChannel old = ch;
                ch = fresh;
                Frame accepted = Frame.decode(bytes);
                assertTrue(accepted != null, "the server accepted a frame the model refuses");
                byte[] expectedReply = accepted.applyTo(shadow);
                byte[] reply = new byte[old.frameLength() - FrameHeader.LENGTH];
                old.frame().getBytes(FrameHeader.LENGTH, reply);
                old.close();
                assertArrayEquals(expectedReply, reply, "reply of case " + c);
                ok++;
                continue;
            }
            if (r.type() == FrameHeader.TYPE_ERROR) {
                errors++;
                if (!mutated) {
                    assertTrue(f.expectRefusal(), "a valid frame was refused: " + ErrorReply.of(r).getMessage() + " " + f);
                }
                continue;
            }
            assertEquals(FrameHeader.TYPE_VERB_REQUEST | FrameHeader.REPLY_BIT, r.type());
            ok++;
            // the server accepted the frame: apply what it says to the shadow with the test's own decoder
            Frame accepted = Frame.decode(bytes);
            assertTrue(accepted != null, "the server accepted a frame the model refuses");
            byte[] expectedReply = accepted.applyTo(shadow);
            byte[] reply = new byte[ch.frameLength() - FrameHeader.LENGTH];
            ch.frame().getBytes(FrameHeader.LENGTH, reply);
            assertArrayEquals(expectedReply, reply, "reply of case " + c);
        }
        ch.close();
        System.out.println("VerbFrameFuzzTest: " + ok + " applied, " + errors + " refused, " + drops + " connections dropped");
        for (int i = 0; i < GUARD; i++) {
            assertEquals((byte) 0xA5, UnsafeAccess.UNSAFE.getByte(raw + i), "guard byte before the region at " + i);
            assertEquals((byte) 0xA5, UnsafeAccess.UNSAFE.getByte(raw + GUARD + REGION + i), "guard byte after the region at " + i);
        }
        byte[] actual = new byte[REGION];
        region.copyOut(0, actual, UnsafeAccess.UNSAFE.arrayBaseOffset(byte[].class), REGION);
        assertArrayEquals(shadow, actual, "region differs from the model of the acknowledged frames");
        assertEquals(0, server.internalErrors());
        assertTrue(ok > cases / 4 && errors > cases / 20, "the fuzzer exercised both paths: " + ok + " ok, " + errors + " errors");
        // a well-behaved client is still served
        FrameChannel good = FrameChannel.open(server.address(), HelloFrame.SERVICE_VERBS, MAX_FRAME, 10_000);
        FrameWriter w = new FrameWriter();
        w.begin(FrameHeader.TYPE_VERB_REQUEST, 1, 9).u8(VerbFrame.KIND_FAA).u8(0).u16(0).i32(8).i64(0).i64(5).finish();
        good.write(w);
        good.readWithTimeout(10_000);
        assertEquals(FrameHeader.TYPE_VERB_REQUEST | FrameHeader.REPLY_BIT, good.frame().getByte(FrameHeader.TYPE_OFFSET) & 0xFF);
        good.close();
    }

    private static byte[] mutate(byte[] b, Random rnd) {
        switch (rnd.nextInt(7)) {
            case 0 -> { // flip bits
                byte[] m = b.clone();
                for (int i = 0; i < 1 + rnd.nextInt(4); i++) {
                    m[rnd.nextInt(m.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
                return m;
            }
            case 1 -> { // lie in the length field
                byte[] m = b.clone();
                int len = switch (rnd.nextInt(4)) {
                    case 0 -> rnd.nextInt(FrameHeader.LENGTH);
                    case 1 -> MAX_FRAME + 1 + rnd.nextInt(1 << 20);
                    case 2 -> -rnd.nextInt(1000) - 1;
                    default -> m.length - 1 - rnd.nextInt(Math.max(1, m.length - FrameHeader.LENGTH));
                };
                ByteBuffer.wrap(m).order(LE).putInt(0, len);
                return m;
            }
            case 2 -> { // truncate and fix the length so the frame is complete but short
                int n = FrameHeader.LENGTH + rnd.nextInt(Math.max(1, b.length - FrameHeader.LENGTH));
                byte[] m = Arrays.copyOf(b, n);
                ByteBuffer.wrap(m).order(LE).putInt(0, n);
                return m;
            }
            case 3 -> { // wrong count
                byte[] m = b.clone();
                ByteBuffer.wrap(m).order(LE).putShort(FrameHeader.COUNT_OFFSET, (short) rnd.nextInt(70000));
                return m;
            }
            case 4 -> { // wrong version or type
                byte[] m = b.clone();
                m[rnd.nextBoolean() ? FrameHeader.VERSION_OFFSET : FrameHeader.TYPE_OFFSET] = (byte) rnd.nextInt(256);
                return m;
            }
            case 5 -> { // garbage body of a plausible length
                byte[] m = b.clone();
                for (int i = FrameHeader.LENGTH; i < m.length; i++) {
                    m[i] = (byte) rnd.nextInt(256);
                }
                return m;
            }
            default -> { // trailing bytes
                byte[] m = Arrays.copyOf(b, b.length + 1 + rnd.nextInt(16));
                ByteBuffer.wrap(m).order(LE).putInt(0, m.length);
                return m;
            }
        }
    }

    /** An independent model of a verb frame: encodes, decodes (strictly) and applies to a shadow region. */
    private record Frame(int[] kinds, int[] lengths, long[] offsets, long[] op1, long[] op2, byte[][] data) {
        static Frame random(Random rnd) {
            int n = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 40 : 4);
            int[] kinds = new int[n];
            int[] lengths = new int[n];
            long[] offsets = new long[n];
            long[] op1 = new long[n];
            long[] op2 = new long[n];
            byte[][] data = new byte[n][];
            for (int i = 0; i < n; i++) {
                int k = 1 + rnd.nextInt(rnd.nextInt(50) == 0 ? 9 : 4);
                kinds[i] = k;
                boolean atomic = k == VerbFrame.KIND_CAS || k == VerbFrame.KIND_FAA;
                lengths[i] = atomic ? 8 : rnd.nextInt(rnd.nextInt(20) == 0 ? 4000 : 200);
                long off = rnd.nextInt(REGION);
                if (atomic && rnd.nextInt(10) != 0) {
                    off &= ~7L;
                }
                if (rnd.nextInt(25) == 0) {
                    off = switch (rnd.nextInt(4)) {
                        case 0 -> REGION - rnd.nextInt(16);
                        case 1 -> -1 - rnd.nextInt(100);
                        case 2 -> Long.MAX_VALUE - rnd.nextInt(100);
                        default -> REGION + rnd.nextInt(1 << 20);
                    };
                }
                offsets[i] = off;
                op1[i] = rnd.nextInt(8) == 0 ? rnd.nextLong() : offsets[i] % 5;
                op2[i] = rnd.nextLong();
                if (k == VerbFrame.KIND_WRITE) {
                    data[i] = new byte[lengths[i]];
                    rnd.nextBytes(data[i]);
                }
            }
            return new Frame(kinds, lengths, offsets, op1, op2, data);
        }

        boolean expectRefusal() {
            long replyBytes = FrameHeader.LENGTH;
            for (int i = 0; i < kinds.length; i++) {
                if (kinds[i] < 1 || kinds[i] > 4) {
                    return true;
                }
                if (offsets[i] < 0 || offsets[i] > REGION - lengths[i]) {
                    return true;
                }
                if ((kinds[i] == VerbFrame.KIND_CAS || kinds[i] == VerbFrame.KIND_FAA) && (offsets[i] & 7) != 0) {
                    return true;
                }
                replyBytes += VerbFrame.replyBytes(kinds[i], lengths[i]);
            }
            return replyBytes > MAX_FRAME || encode().length > MAX_FRAME;
        }

        byte[] encode() {
            ByteBuffer b = ByteBuffer.allocate(1 << 20).order(LE);
            b.putInt(0).put((byte) FrameHeader.VERSION).put((byte) FrameHeader.TYPE_VERB_REQUEST).putShort((short) kinds.length).putLong(1);
            for (int i = 0; i < kinds.length; i++) {
                b.put((byte) kinds[i]).put((byte) 0).putShort((short) 0).putInt(lengths[i]).putLong(offsets[i]);
                switch (kinds[i]) {
                    case VerbFrame.KIND_WRITE -> {
                        b.put(data[i]);
                        while (b.position() % 8 != 0) {
                            b.put((byte) 0);
                        }
                    }
                    case VerbFrame.KIND_CAS -> b.putLong(op1[i]).putLong(op2[i]);
                    case VerbFrame.KIND_FAA -> b.putLong(op1[i]);
                    default -> {
                    }
                }
            }
            int len = b.position();
            b.putInt(0, len);
            return Arrays.copyOf(b.array(), len);
        }

        /** Strict decode of a frame the server accepted; null if the model would refuse it. */
        static Frame decode(byte[] bytes) {
            ByteBuffer b = ByteBuffer.wrap(bytes).order(LE);
            if (b.getInt(0) != bytes.length || bytes[FrameHeader.VERSION_OFFSET] != FrameHeader.VERSION
                    || bytes[FrameHeader.TYPE_OFFSET] != FrameHeader.TYPE_VERB_REQUEST) {
                return null;
            }
            int n = b.getShort(FrameHeader.COUNT_OFFSET) & 0xFFFF;
            int[] kinds = new int[n];
            int[] lengths = new int[n];
            long[] offsets = new long[n];
            long[] op1 = new long[n];
            long[] op2 = new long[n];
            byte[][] data = new byte[n][];
            b.position(FrameHeader.LENGTH);
            try {
                for (int i = 0; i < n; i++) {
                    kinds[i] = b.get() & 0xFF;
                    b.position(b.position() + 3);
                    lengths[i] = b.getInt();
                    offsets[i] = b.getLong();
                    switch (kinds[i]) {
                        case VerbFrame.KIND_READ -> {
                        }
                        case VerbFrame.KIND_WRITE -> {
                            data[i] = new byte[lengths[i]];
                            b.get(data[i]);
                            b.position(b.position() + VerbFrame.padded(lengths[i]) - lengths[i]);
                        }
                        case VerbFrame.KIND_CAS -> {
                            op1[i] = b.getLong();
                            op2[i] = b.getLong();
                        }
                        case VerbFrame.KIND_FAA -> op1[i] = b.getLong();
                        default -> {
                            return null;
                        }
                    }
                }
            } catch (RuntimeException e) {
                return null;
            }
            if (b.hasRemaining() || n == 0) {
                return null;
            }
            Frame f = new Frame(kinds, lengths, offsets, op1, op2, data);
            return f.expectRefusal() ? null : f;
        }

        /** Applies the frame to the shadow; returns the expected reply body. */
        byte[] applyTo(byte[] shadow) {
            ByteBuffer reply = ByteBuffer.allocate(MAX_FRAME).order(LE);
            ByteBuffer s = ByteBuffer.wrap(shadow).order(LE);
            for (int i = 0; i < kinds.length; i++) {
                int off = (int) offsets[i];
                switch (kinds[i]) {
                    case VerbFrame.KIND_READ -> {
                        reply.put(shadow, off, lengths[i]);
                        reply.position(reply.position() + VerbFrame.padded(lengths[i]) - lengths[i]);
                    }
                    case VerbFrame.KIND_WRITE -> System.arraycopy(data[i], 0, shadow, off, lengths[i]);
                    case VerbFrame.KIND_CAS -> {
                        long found = s.getLong(off);
                        if (found == op1[i]) {
                            s.putLong(off, op2[i]);
                        }
                        reply.putLong(found);
                    }
                    case VerbFrame.KIND_FAA -> {
                        long before = s.getLong(off);
                        s.putLong(off, before + op1[i]);
                        reply.putLong(before);
                    }
                    default -> throw new IllegalStateException();
                }
            }
            return Arrays.copyOf(reply.array(), reply.position());
        }

        @Override
        public String toString() {
            return "Frame" + Arrays.toString(kinds) + " lengths " + Arrays.toString(lengths) + " offsets " + Arrays.toString(offsets);
        }
    }

}
