package io.dmtree.core.wire;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static io.dmtree.core.wire.TestServices.ECHO;
import static io.dmtree.core.wire.TestServices.closedByServer;
import static io.dmtree.core.wire.TestServices.eventually;
import static io.dmtree.core.wire.TestServices.header;
import static io.dmtree.core.wire.TestServices.hello;
import static io.dmtree.core.wire.TestServices.loopback;
import static io.dmtree.core.wire.TestServices.reply;
import static io.dmtree.core.wire.TestServices.send;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The front door's limits, one at a time: each is hit by a peer, answered as documented (an error
 * reply and a close, or waiting), counted in the server's stats, and leaves the server serving;
 * the server's own accounting of buffer bytes returns to its resting value afterwards.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FrameServerLimitsTest {
    private static final int MAX_FRAME = 1 << 20;
    private FrameServer server;
    private final List<FrameChannel> clients = new ArrayList<>();

    private FrameServer start(ConnectionLimits limits, FrameService... services) throws IOException {
        Map<Integer, FrameService> m = new java.util.HashMap<>();
        for (FrameService s : services) {
            m.put(s.serviceId(), s);
        }
        server = new FrameServer(loopback(), 7, MAX_FRAME, m, "limits-test", limits);
        return server;
    }

    private FrameChannel track(FrameChannel ch) {
        clients.add(ch);
        return ch;
    }

    @AfterEach
    void stop() {
        clients.forEach(FrameChannel::close);
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aFrameLargerThanTheHelloBufferBeforeHelloIsRefusedAndClosed() throws Exception {
        start(ConnectionLimits.DEFAULTS, new TestServices.Echo(ECHO, false));
        FrameChannel ch = track(TestServices.connect(server));
        ch.writeRaw(ByteBuffer.wrap(header(16 << 20, FrameHeader.TYPE_HELLO, 3)));
        assertEquals(FrameHeader.TYPE_ERROR, reply(ch));
        assertEquals(ErrorCode.TOO_LARGE, ErrorReply.of(new FrameReader().wrap(ch.frame(), 0, ch.frameLength())).code());
        assertTrue(closedByServer(ch));
        FrameServerStats s = server.stats();
        assertEquals(1, s.helloFramesTooLarge());
        assertTrue(s.peakReceiveBufferBytes() <= ConnectionLimits.DEFAULT_HELLO_BUFFER_BYTES,
                "nothing beyond the HELLO buffer was allocated: " + s);
        assertServing();
    }

    @Test
    void aConnectionThatNeverSaysHelloIsClosedAfterTheHelloTimeout() throws Exception {
        start(ConnectionLimits.builder().helloTimeoutMillis(200).build(), new TestServices.Echo(ECHO, false));
        FrameChannel silent = track(TestServices.connect(server));
        FrameChannel partial = track(TestServices.connect(server));
        partial.writeRaw(ByteBuffer.wrap(Arrays.copyOf(hello(ECHO), 9)));
        for (FrameChannel ch : List.of(silent, partial)) {
            assertEquals(FrameHeader.TYPE_ERROR, reply(ch));
            assertEquals(ErrorCode.TIMEOUT, ErrorReply.of(new FrameReader().wrap(ch.frame(), 0, ch.frameLength())).code());
            assertTrue(closedByServer(ch));
        }
        assertEquals(2, server.stats().helloTimeouts());
        assertTrue(eventually(10, () -> server.openConnections() == 0));
        assertServing();
    }

    @Test
    void idleConnectionsAreClosedButParkedAndMemberConnectionsAreNot() throws Exception {
        TestServices.Parking parking = new TestServices.Parking();
        start(ConnectionLimits.builder().idleTimeoutMillis(200).build(), new TestServices.Echo(ECHO, false), parking,
                new TestServices.Member());
        FrameChannel idle = track(TestServices.open(server, ECHO));
        FrameChannel parked = track(TestServices.open(server, TestServices.PARKING));
        FrameChannel member = track(TestServices.open(server, TestServices.MEMBER));
        send(parked, TestServices.TYPE_ECHO, 11, new byte[] {1, 2, 3});
        send(member, TestServices.TYPE_JOIN, 12, new byte[0]);
        assertEquals(TestServices.TYPE_JOIN | FrameHeader.REPLY_BIT, reply(member));
        PendingReply p = parking.parked.poll(10, TimeUnit.SECONDS);
        assertTrue(p != null, "the request was parked");
        assertTrue(closedByServer(idle), "the idle connection was closed");
        assertEquals(1, server.stats().idleTimeouts());
        Thread.sleep(1000); // five idle timeouts: the parked and the member connection must outlive them
        assertEquals(1, server.stats().idleTimeouts(), "only the idle connection was closed: " + server.stats());
        assertEquals(0, parking.closed.get());
        send(member, TestServices.TYPE_ECHO, 13, new byte[] {9});
        assertEquals(TestServices.TYPE_ECHO | FrameHeader.REPLY_BIT, reply(member));
        assertTrue(p.complete(w -> w.begin(TestServices.TYPE_ECHO | FrameHeader.REPLY_BIT, 0, p.correlationId()).i64(42).finish()));
        assertEquals(TestServices.TYPE_ECHO | FrameHeader.REPLY_BIT, reply(parked));
        assertEquals(11, parked.frame().getLong(FrameHeader.CORRELATION_OFFSET, java.nio.ByteOrder.LITTLE_ENDIAN));
        assertEquals(42, parked.frame().getLong(FrameHeader.LENGTH, java.nio.ByteOrder.LITTLE_ENDIAN));
        // once its reply left, the parked connection is idle like any other
        assertTrue(closedByServer(parked));
        assertTrue(eventually(10, () -> parking.closed.get() == 1));
        assertEquals(0, server.internalErrors());
    }

    @Test
    void connectionsOverTheLimitGetAnErrorReplyAndAreClosed() throws Exception {
        start(ConnectionLimits.builder().maxConnections(4).build(), new TestServices.Echo(ECHO, false));
        List<FrameChannel> four = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            four.add(track(TestServices.open(server, ECHO)));
        }
        FrameChannel fifth = track(TestServices.connect(server));
        assertEquals(FrameHeader.TYPE_ERROR, reply(fifth));
        ErrorReply e = ErrorReply.of(new FrameReader().wrap(fifth.frame(), 0, fifth.frameLength()));
        assertEquals(ErrorCode.UNAVAILABLE, e.code());
        assertTrue(e.message().contains("limit"), e.message());
        assertTrue(closedByServer(fifth));
        assertEquals(1, server.stats().refusedOverLimit());
        try {
            TestServices.open(server, ECHO).close();
            throw new AssertionError("a fifth HELLO was served");
        } catch (IOException expected) {
            assertTrue(expected.getMessage().contains("limit") || expected.getMessage().contains("closed")
                    || expected.getMessage().contains("reset"), expected.getMessage());
        }
        four.get(0).close();
        assertTrue(eventually(10, () -> server.openConnections() == 3));
        FrameChannel again = track(TestServices.open(server, ECHO));
        send(again, TestServices.TYPE_ECHO, 1, new byte[] {5});
        assertEquals(TestServices.TYPE_ECHO | FrameHeader.REPLY_BIT, reply(again));
    }

    @Test
    void aLargeFrameGrowsTheBufferOnlyAsItsBytesArriveAndItShrinksBackAfterwards() throws Exception {
        ConnectionLimits limits = ConnectionLimits.DEFAULTS;
        start(limits, new TestServices.Echo(ECHO, false));
        FrameChannel ch = track(TestServices.open(server, ECHO));
        long resting = server.stats().receiveBufferBytes();
        assertEquals(limits.sessionBufferBytes(), resting);
        byte[] body = new byte[MAX_FRAME - FrameHeader.LENGTH];
        new Random(1).nextBytes(body);
        // announce the frame and send a tenth of it: the buffer follows the bytes, not the announcement
        byte[] frame = new byte[MAX_FRAME];
        System.arraycopy(header(MAX_FRAME, TestServices.TYPE_ECHO, 5), 0, frame, 0, FrameHeader.LENGTH);
        System.arraycopy(body, 0, frame, FrameHeader.LENGTH, body.length);
        ch.writeRaw(ByteBuffer.wrap(frame, 0, MAX_FRAME / 10));
        assertTrue(eventually(10, () -> server.stats().budgetReservedBytes() > 0));
        Thread.sleep(100);
        long partial = server.stats().receiveBufferBytes();
        assertTrue(partial <= 2L * (MAX_FRAME / 10) + (64 << 10) + limits.sessionBufferBytes(),
                "a tenth of the frame holds " + partial + " bytes");
        ch.writeRaw(ByteBuffer.wrap(frame, MAX_FRAME / 10, MAX_FRAME - MAX_FRAME / 10));
        assertEquals(TestServices.TYPE_ECHO | FrameHeader.REPLY_BIT, reply(ch));
        byte[] echoed = new byte[ch.frameLength() - FrameHeader.LENGTH];
        ch.frame().getBytes(FrameHeader.LENGTH, echoed);
        assertArrayEquals(body, echoed);
        assertTrue(eventually(10, () -> server.stats().receiveBufferBytes() == resting), "shrunk back: " + server.stats());
        assertEquals(0, server.stats().budgetReservedBytes());
        // the peak counts the frame's buffer and, for the instant of its last doubling, the half-size one before it
        assertTrue(server.stats().peakReceiveBufferBytes() <= resting + MAX_FRAME + MAX_FRAME / 2, server.stats().toString());
    }

    @Test
    void framesThatDoNotFitTheBudgetWaitWithoutReadingAndAllFinish() throws Exception {
        int frameBytes = 400 << 10;
        ConnectionLimits limits = ConnectionLimits.builder().receiveBudgetBytes(MAX_FRAME).build(); // two such frames fit, not three
        start(limits, new TestServices.Echo(ECHO, false));
        int n = 6;
        List<FrameChannel> chs = new ArrayList<>();
        List<byte[]> frames = new ArrayList<>();
        Random rnd = new Random(2);
        for (int i = 0; i < n; i++) {
            FrameChannel ch = track(TestServices.open(server, ECHO));
            byte[] f = new byte[frameBytes];
            rnd.nextBytes(f);
            System.arraycopy(header(frameBytes, TestServices.TYPE_ECHO, i), 0, f, 0, FrameHeader.LENGTH);
            chs.add(ch);
            frames.add(f);
        }
        // every connection sends half its frame: two fit the budget, the others wait for it
        for (int i = 0; i < n; i++) {
            chs.get(i).writeRaw(ByteBuffer.wrap(frames.get(i), 0, frameBytes / 2));
        }
        assertTrue(eventually(10, () -> server.stats().budgetWaits() >= n - 2), server.stats().toString());
        FrameServerStats s = server.stats();
        assertTrue(s.budgetReservedBytes() <= s.receiveBudgetBytes());
        long bound = (long) n * limits.sessionBufferBytes() + s.receiveBudgetBytes() + frameBytes; // + one resize in flight
        assertTrue(s.receiveBufferBytes() <= bound, s.toString());
        for (int i = 0; i < n; i++) {
            chs.get(i).writeRaw(ByteBuffer.wrap(frames.get(i), frameBytes / 2, frameBytes - frameBytes / 2));
        }
        for (int i = 0; i < n; i++) {
            assertEquals(TestServices.TYPE_ECHO | FrameHeader.REPLY_BIT, reply(chs.get(i)));
            byte[] echoed = new byte[chs.get(i).frameLength() - FrameHeader.LENGTH];
            chs.get(i).frame().getBytes(FrameHeader.LENGTH, echoed);
            assertArrayEquals(Arrays.copyOfRange(frames.get(i), FrameHeader.LENGTH, frameBytes), echoed, "echo of " + i);
        }
        assertTrue(server.stats().peakReceiveBufferBytes() <= bound, server.stats().toString());
        assertTrue(eventually(10, () -> server.stats().budgetReservedBytes() == 0));
    }

    @Test
    void aFrameBeyondTheServicesLimitAfterHelloIsRefusedAndClosed() throws Exception {
        start(ConnectionLimits.DEFAULTS, new TestServices.Echo(ECHO, false));
        FrameChannel ch = track(TestServices.open(server, ECHO));
        assertEquals(MAX_FRAME, ch.peer().maxFrameBytes());
        ch.writeRaw(ByteBuffer.wrap(header(MAX_FRAME + 1, TestServices.TYPE_ECHO, 1)));
        assertEquals(FrameHeader.TYPE_ERROR, reply(ch));
        assertTrue(closedByServer(ch));
        assertEquals(1, server.stats().framesTooLarge());
        assertServing();
    }

    @Test
    void badLimitsAreRefusedWithTheirReason() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ConnectionLimits.builder().sessionBufferBytes(1024).build());
        assertTrue(e.getMessage().contains("session buffer"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ConnectionLimits.builder().receiveBudgetBytes(1 << 20).build().budgetFor(16 << 20));
        assertTrue(e.getMessage().contains("receive budget"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ConnectionLimits.builder().eventLoops(0).build());
        assertTrue(e.getMessage().contains("event loops"), e.getMessage());
    }

    private void assertServing() throws Exception {
        FrameChannel ch = track(TestServices.open(server, ECHO));
        send(ch, TestServices.TYPE_ECHO, 99, new byte[] {1, 2, 3, 4});
        assertEquals(TestServices.TYPE_ECHO | FrameHeader.REPLY_BIT, reply(ch));
        assertEquals(0, server.internalErrors());
    }
}
