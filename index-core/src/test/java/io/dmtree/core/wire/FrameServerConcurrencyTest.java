package io.dmtree.core.wire;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dmtree.core.wire.TestServices.BLOCKING;
import static io.dmtree.core.wire.TestServices.ECHO;
import static io.dmtree.core.wire.TestServices.PARKING;
import static io.dmtree.core.wire.TestServices.eventually;
import static io.dmtree.core.wire.TestServices.header;
import static io.dmtree.core.wire.TestServices.loopback;
import static io.dmtree.core.wire.TestServices.reply;
import static io.dmtree.core.wire.TestServices.send;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The front door under concurrency: blocking services never stall the event loop, requests of a
 * connection are answered in order whether they run inline, on a worker or parked, and a seeded
 * storm of good and bad connections leaks nothing (connections, buffer bytes, budget, sessions).
 * Seed: {@code -Ddmtree.seed}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FrameServerConcurrencyTest {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int MAX_FRAME = 256 << 10;
    private FrameServer server;
    private final List<FrameChannel> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(FrameChannel::close);
        if (server != null) {
            server.close();
        }
    }

    private FrameChannel track(FrameChannel ch) {
        synchronized (clients) {
            clients.add(ch);
        }
        return ch;
    }

    @Test
    void blockedWorkersNeverStallTheEventLoopAndThreadsStayBounded() throws Exception {
        TestServices.Blocking blocking = new TestServices.Blocking(2);
        server = new FrameServer(loopback(), 1, MAX_FRAME, Map.of(ECHO, new TestServices.Echo(ECHO, false), BLOCKING, blocking),
                "stall-test", ConnectionLimits.builder().blockingWorkers(2).build());
        FrameChannel a = track(TestServices.open(server, BLOCKING));
        FrameChannel b = track(TestServices.open(server, BLOCKING));
        FrameChannel queued = track(TestServices.open(server, BLOCKING));
        send(a, TestServices.TYPE_HOLD, 1, new byte[] {1});
        send(b, TestServices.TYPE_HOLD, 2, new byte[] {2});
        assertTrue(blocking.holding[0].await(10, TimeUnit.SECONDS), "both workers hold a request");
        send(queued, TestServices.TYPE_ECHO, 3, new byte[] {3});
        // every worker is blocked; the loop still reads, runs the inline service and answers
        for (int i = 0; i < 20; i++) {
            FrameChannel e = track(TestServices.open(server, ECHO));
            send(e, TestServices.TYPE_ECHO, 100 + i, new byte[] {(byte) i});
            assertEquals(TestServices.TYPE_ECHO | FrameHeader.REPLY_BIT, reply(e));
        }
        FrameServerStats s = server.stats();
        assertEquals(1, s.eventLoopThreads());
        assertTrue(s.workerThreads() <= 2 && s.peakWorkerThreads() <= 2, s.toString());
        blocking.release.countDown();
        assertEquals(TestServices.TYPE_HOLD | FrameHeader.REPLY_BIT, reply(a));
        assertEquals(TestServices.TYPE_HOLD | FrameHeader.REPLY_BIT, reply(b));
        assertEquals(TestServices.TYPE_ECHO | FrameHeader.REPLY_BIT, reply(queued));
        assertEquals(3, queued.frame().getLong(FrameHeader.CORRELATION_OFFSET, LE));
        assertEquals(0, server.internalErrors());
    }

    @Test
    void manyConnectionsMixingGoodAndBadFramesAreAnsweredInOrderAndLeakNothing() throws Exception {
        long seed = Long.getLong("dmtree.seed", System.nanoTime());
        System.out.println("FrameServerConcurrencyTest seed=" + seed + " (replay with -Ddmtree.seed=" + seed + ")");
        TestServices.Parking parking = new TestServices.Parking();
        ConnectionLimits limits = ConnectionLimits.builder().eventLoops(2).blockingWorkers(3).receiveBudgetBytes(2L * MAX_FRAME)
                .build();
        server = new FrameServer(loopback(), 1, MAX_FRAME, Map.of(ECHO, new TestServices.Echo(ECHO, false),
                BLOCKING, new TestServices.Echo(BLOCKING, true), PARKING, parking), "storm-test", limits);
        Thread completer = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    PendingReply p = parking.parked.poll(100, TimeUnit.MILLISECONDS);
                    if (p != null) {
                        p.complete(w -> w.begin(TestServices.TYPE_ECHO | FrameHeader.REPLY_BIT, 0, p.correlationId())
                                .i64(p.correlationId()).finish());
                    }
                }
            } catch (InterruptedException e) {
                // done
            }
        }, "storm-completer");
        completer.setDaemon(true);
        completer.start();
        int threads = 24;
        int sessionsPerThread = 12;
        AtomicInteger parkingSessions = new AtomicInteger();
        AtomicInteger checkedReplies = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Random rnd = new Random(seed + t);
            done.add(pool.submit(() -> {
                for (int s = 0; s < sessionsPerThread; s++) {
                    session(rnd, parkingSessions, checkedReplies);
                }
                return null;
            }));
        }
        try {
            for (Future<?> f : done) {
                f.get(100, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            completer.interrupt();
        }
        System.out.println("FrameServerConcurrencyTest: " + checkedReplies.get() + " replies checked; " + server.stats());
        assertTrue(eventually(20, () -> server.openConnections() == 0), server.stats().toString());
        assertTrue(eventually(20, () -> parking.closed.get() == parkingSessions.get()),
                parking.closed.get() + " of " + parkingSessions.get() + " parking sessions closed");
        FrameServerStats s = server.stats();
        assertEquals(0, s.internalErrors(), s.toString());
        assertEquals(0, s.receiveBufferBytes(), "receive buffers leaked: " + s);
        assertEquals(0, s.sendBufferBytes(), "reply buffers leaked: " + s);
        assertEquals(0, s.budgetReservedBytes(), "budget leaked: " + s);
        assertTrue(s.peakReceiveBufferBytes() <= (long) threads * limits.sessionBufferBytes() + s.receiveBudgetBytes()
                + 2L * MAX_FRAME, "peak receive buffer bytes beyond connections x session buffer + budget: " + s);
        assertTrue(s.peakWorkerThreads() <= 3, s.toString());
        assertTrue(checkedReplies.get() > threads * sessionsPerThread, "the storm was mostly served: " + checkedReplies.get());
    }

    /** One connection: a HELLO, then a random run of pipelined frames, ending in one of several ways. */
    private void session(Random rnd, AtomicInteger parkingSessions, AtomicInteger checked) throws Exception {
        int[] services = {ECHO, BLOCKING, PARKING};
        int service = services[rnd.nextInt(services.length)];
        FrameChannel ch;
        try {
            ch = track(TestServices.open(server, service));
        } catch (IOException e) {
            throw new AssertionError("HELLO failed: " + e.getMessage(), e);
        }
        if (service == PARKING) {
            parkingSessions.incrementAndGet();
        }
        try {
            int frames = 1 + rnd.nextInt(30);
            List<byte[]> bodies = new ArrayList<>();
            List<Integer> types = new ArrayList<>();
            int pipeline = 1 + rnd.nextInt(8);
            long nextId = 1;
            long expectId = 1;
            for (int f = 0; f < frames; f++) {
                int size = rnd.nextInt(20) == 0 ? rnd.nextInt(MAX_FRAME - FrameHeader.LENGTH) : rnd.nextInt(2000);
                byte[] body = new byte[service == PARKING ? 0 : size];
                rnd.nextBytes(body);
                int type = service != PARKING && rnd.nextInt(15) == 0 ? TestServices.TYPE_REFUSE : TestServices.TYPE_ECHO;
                send(ch, type, nextId++, body);
                bodies.add(body);
                types.add(type);
                if (bodies.size() >= pipeline || f == frames - 1) {
                    for (int i = 0; i < bodies.size(); i++) {
                        int replyType = reply(ch);
                        assertEquals(expectId, ch.frame().getLong(FrameHeader.CORRELATION_OFFSET, LE), "replies in request order");
                        if (types.get(i) == TestServices.TYPE_REFUSE) {
                            assertEquals(FrameHeader.TYPE_ERROR, replyType);
                        } else if (service == PARKING) {
                            assertEquals(expectId, ch.frame().getLong(FrameHeader.LENGTH, LE));
                        } else {
                            assertEquals(TestServices.TYPE_ECHO | FrameHeader.REPLY_BIT, replyType);
                            byte[] echoed = new byte[ch.frameLength() - FrameHeader.LENGTH];
                            ch.frame().getBytes(FrameHeader.LENGTH, echoed);
                            assertArrayEquals(bodies.get(i), echoed);
                        }
                        expectId++;
                        checked.incrementAndGet();
                    }
                    bodies.clear();
                    types.clear();
                }
            }
            switch (rnd.nextInt(5)) {
                case 0 -> { // a bad version: error reply and a close
                    byte[] h = header(FrameHeader.LENGTH, TestServices.TYPE_ECHO, nextId);
                    h[FrameHeader.VERSION_OFFSET] = 9;
                    ch.writeRaw(ByteBuffer.wrap(h));
                    assertTrue(TestServices.closedByServer(ch));
                }
                case 1 -> { // a length beyond the limit: error reply and a close
                    ch.writeRaw(ByteBuffer.wrap(header(MAX_FRAME + 1 + rnd.nextInt(1 << 20), TestServices.TYPE_ECHO, nextId)));
                    assertTrue(TestServices.closedByServer(ch));
                }
                case 2 -> { // hang up in the middle of a large frame
                    byte[] h = header(MAX_FRAME - rnd.nextInt(1000), TestServices.TYPE_ECHO, nextId);
                    ch.writeRaw(ByteBuffer.wrap(h));
                    ch.writeRaw(ByteBuffer.wrap(new byte[rnd.nextInt(MAX_FRAME / 2)]));
                    ch.close();
                }
                case 3 -> { // send a request and hang up before its reply (parked or not)
                    send(ch, TestServices.TYPE_ECHO, nextId, new byte[rnd.nextInt(100)]);
                    ch.close();
                }
                default -> ch.close();
            }
        } finally {
            ch.close();
        }
    }
}
