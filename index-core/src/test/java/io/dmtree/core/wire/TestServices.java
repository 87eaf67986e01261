package io.dmtree.core.wire;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Frame services and client helpers for the front-door tests. */
final class TestServices {
    static final int ECHO = 0x41;
    static final int BLOCKING = 0x42;
    static final int PARKING = 0x43;
    static final int MEMBER = 0x44;

    /** Frame types the test services know. */
    static final int TYPE_ECHO = 0x50;
    static final int TYPE_HOLD = 0x51;
    static final int TYPE_JOIN = 0x52;
    static final int TYPE_REFUSE = 0x53;

    private TestServices() {
    }

    /** Answers every frame with its own body (type | REPLY_BIT), on the event loop; TYPE_REFUSE is refused. */
    static final class Echo implements FrameService {
        private final int id;
        private final boolean blocking;

        Echo(int id, boolean blocking) {
            this.id = id;
            this.blocking = blocking;
        }

        @Override
        public int serviceId() {
            return id;
        }

        @Override
        public boolean sessionsMayBlock() {
            return blocking;
        }

        @Override
        public Session open(SocketAddress peer) {
            return TestServices::echo;
        }
    }

    static void echo(FrameReader r, FrameWriter w) throws MalformedFrameException {
        if (r.type() == TYPE_REFUSE) {
            throw new MalformedFrameException(ErrorCode.STATE, "refused as asked");
        }
        int n = r.remaining();
        int at = r.skip(n, "body");
        w.begin(r.type() | FrameHeader.REPLY_BIT, r.count(), r.correlationId()).bytes(r.buffer(), at, n).finish();
    }

    /** A blocking service: TYPE_HOLD waits for {@link #release} (counting who holds), anything else echoes. */
    static final class Blocking implements FrameService {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch[] holding;
        private final java.util.concurrent.atomic.AtomicInteger held = new java.util.concurrent.atomic.AtomicInteger();

        Blocking(int holders) {
            holding = new CountDownLatch[] {new CountDownLatch(holders)};
        }

        @Override
        public int serviceId() {
            return BLOCKING;
        }

        @Override
        public Session open(SocketAddress peer) {
            return (r, w) -> {
                if (r.type() == TYPE_HOLD) {
                    held.incrementAndGet();
                    holding[0].countDown();
                    if (!release.await(30, TimeUnit.SECONDS)) {
                        throw new MalformedFrameException(ErrorCode.TIMEOUT, "never released");
                    }
                }
                echo(r, w);
            };
        }
    }

    /** Parks every frame; the test completes them from {@link #parked}. */
    static final class Parking implements FrameService {
        final BlockingQueue<PendingReply> parked = new LinkedBlockingQueue<>();
        final java.util.concurrent.atomic.AtomicInteger closed = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public int serviceId() {
            return PARKING;
        }

        @Override
        public Session open(SessionContext context) {
            return new Session() {
                @Override
                public void handle(FrameReader r, FrameWriter w) {
                    parked.add(context.park());
                }

                @Override
                public void closed() {
                    closed.incrementAndGet();
                }
            };
        }
    }

    /** Echoes; after a TYPE_JOIN frame its session stays open when idle. */
    static final class Member implements FrameService {
        @Override
        public int serviceId() {
            return MEMBER;
        }

        @Override
        public boolean sessionsMayBlock() {
            return false;
        }

        @Override
        public Session open(SocketAddress peer) {
            return new Session() {
                private boolean joined;

                @Override
                public void handle(FrameReader r, FrameWriter w) throws MalformedFrameException {
                    if (r.type() == TYPE_JOIN) {
                        joined = true;
                    }
                    echo(r, w);
                }

                @Override
                public boolean staysOpenWhenIdle() {
                    return joined;
                }
            };
        }
    }

    // ------------------------------------------------------------------ client helpers

    static FrameChannel open(FrameServer s, int service) throws IOException {
        return FrameChannel.open(s.address(), service, 4 << 20, 10_000);
    }

    static FrameChannel connect(FrameServer s) throws IOException {
        return FrameChannel.connect(s.address(), 4 << 20, 10_000);
    }

    static void send(FrameChannel ch, int type, long id, byte[] body) throws IOException {
        FrameWriter w = new FrameWriter(FrameHeader.LENGTH + body.length);
        w.begin(type, 0, id).bytes(body).finish();
        ch.write(w);
    }

    static byte[] hello(int service) {
        ByteBuffer b = ByteBuffer.allocate(HelloFrame.REQUEST_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(HelloFrame.REQUEST_LENGTH).put((byte) FrameHeader.VERSION).put((byte) FrameHeader.TYPE_HELLO).putShort((short) 0)
                .putLong(0).putInt(HelloFrame.MAGIC).put((byte) service).put((byte) 0).putShort((short) 0);
        return b.array();
    }

    /** A frame header announcing {@code length} bytes (only the 16 header bytes). */
    static byte[] header(int length, int type, long id) {
        ByteBuffer b = ByteBuffer.allocate(FrameHeader.LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(length).put((byte) FrameHeader.VERSION).put((byte) type).putShort((short) 0).putLong(id);
        return b.array();
    }

    /** Reads one reply; returns its type. */
    static int reply(FrameChannel ch) throws IOException, MalformedFrameException {
        ch.readWithTimeout(10_000);
        return ch.frame().getByte(FrameHeader.TYPE_OFFSET) & 0xFF;
    }

    /** The connection is closed by the server: reads (and discards replies) until end of stream, at most 10 s. */
    static boolean closedByServer(FrameChannel ch) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try {
                ch.readWithTimeout(10_000);
            } catch (EOFException e) {
                return true;
            } catch (IOException e) {
                return !(e instanceof java.net.SocketTimeoutException); // reset: closed too
            } catch (MalformedFrameException e) {
                return false;
            }
        }
        return false;
    }

    /** Polls {@code condition} every 10 ms for at most {@code seconds}. */
    static boolean eventually(int seconds, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(10);
        }
        return condition.getAsBoolean();
    }

    static InetSocketAddress loopback() {
        return new InetSocketAddress("127.0.0.1", 0);
    }
}
