package io.dmtree.core.messaging;

import io.dmtree.core.memory.RemoteAccessException;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The modelled-latency messaging decorator: under concurrent senders (seeded, {@code -Ddmtree.seed=N}
 * replays) every message arrives once, no sooner than the one-way time after it was sent, in send
 * order per sending thread and receiver; a full ring makes senders wait instead of dropping; a
 * message to itself is not delayed; a failed delivery reaches the next sender to that receiver.
 */
class ModelledLatencyMessagingTest {
    private static final long ONE_WAY = TimeUnit.MICROSECONDS.toNanos(100);

    private static long seed(String test) {
        String fixed = System.getProperty("dmtree.seed");
        long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        System.out.println(test + " seed=" + seed + " (replay with -Ddmtree.seed=" + seed + ")");
        return seed;
    }

    @Test
    void concurrentSendersKeepOrderPerReceiverAndEveryMessageWaitsTheOneWayTime() throws Exception {
        long seed = seed("ModelledLatencyMessagingTest.concurrent");
        InJvmMessageBus bus = new InJvmMessageBus();
        int nodes = 3;
        int threadsPerNode = 3;
        int perThread = 400;
        List<ModelledLatencyMessaging> endpoints = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            endpoints.add(new ModelledLatencyMessaging(bus.join(), ONE_WAY, 16));
        }
        // last sequence number seen per (receiver, sender node, sender thread)
        ConcurrentHashMap<String, Integer> last = new ConcurrentHashMap<>();
        AtomicInteger received = new AtomicInteger();
        AtomicInteger early = new AtomicInteger();
        List<String> problems = new CopyOnWriteArrayList<>();
        for (ModelledLatencyMessaging e : endpoints) {
            int me = e.self();
            e.onMessage((from, buffer, offset, length) -> {
                long now = System.nanoTime();
                int thread = buffer.getInt(offset);
                int seq = buffer.getInt(offset + 4);
                long sentAt = buffer.getLong(offset + 8);
                if (from != me && now - sentAt < ONE_WAY) {
                    early.incrementAndGet();
                }
                Integer before = last.put(me + "<" + from + "/" + thread, seq);
                if (before != null && before >= seq) {
                    problems.add("at " + me + " from " + from + "/" + thread + ": " + seq + " after " + before);
                }
                received.incrementAndGet();
            });
        }
        List<Thread> senders = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int n = 0; n < nodes; n++) {
            for (int t = 0; t < threadsPerNode; t++) {
                ModelledLatencyMessaging from = endpoints.get(n);
                int thread = t;
                Random rnd = new Random(seed * 31 + n * 7 + t);
                senders.add(new Thread(() -> {
                    UnsafeBuffer m = new UnsafeBuffer(new byte[16 + 64]);
                    try {
                        for (int i = 0; i < perThread; i++) {
                            m.putInt(0, thread);
                            m.putInt(4, i);
                            m.putLong(8, System.nanoTime());
                            from.send(rnd.nextInt(nodes), m, 0, 16 + rnd.nextInt(64));
                            if (rnd.nextInt(50) == 0) {
                                Thread.sleep(0, 200_000);
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
        }
        senders.forEach(Thread::start);
        for (Thread s : senders) {
            s.join(TimeUnit.SECONDS.toMillis(60));
        }
        int total = nodes * threadsPerNode * perThread;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (received.get() < total && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertNull(failure.get());
        assertEquals(List.of(), problems, "send order per sender thread and receiver");
        assertEquals(total, received.get(), "every message arrives once");
        assertEquals(0, early.get(), "messages that arrived sooner than the modelled one-way time");
        long sent = 0;
        for (ModelledLatencyMessaging e : endpoints) {
            sent += e.messagesSent();
            assertEquals(0, e.inFlight());
            e.close();
        }
        assertEquals(total, sent);
    }

    @Test
    void aFullRingMakesTheSenderWaitAndNothingIsLost() throws Exception {
        InJvmMessageBus bus = new InJvmMessageBus();
        ModelledLatencyMessaging a = new ModelledLatencyMessaging(bus.join(), TimeUnit.MILLISECONDS.toNanos(2), 4);
        CnMessaging b = bus.join();
        List<Integer> got = new CopyOnWriteArrayList<>();
        b.onMessage((from, buffer, offset, length) -> got.add(buffer.getInt(offset)));
        UnsafeBuffer m = new UnsafeBuffer(new byte[4]);
        long start = System.nanoTime();
        for (int i = 0; i < 40; i++) {
            m.putInt(0, i);
            a.send(1, m, 0, 4);
            assertTrue(a.inFlight() <= 4);
        }
        // 40 messages through 4 slots of 2 ms each: the sender waited for at least 9 rounds
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(18), "the sender did not wait for room");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (got.size() < 40 && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            expected.add(i);
        }
        assertEquals(expected, got);
        a.close();
    }

    @Test
    void aMessageToItselfIsNotDelayed() {
        InJvmMessageBus bus = new InJvmMessageBus();
        ModelledLatencyMessaging a = new ModelledLatencyMessaging(bus.join(), TimeUnit.SECONDS.toNanos(5));
        List<Integer> got = new CopyOnWriteArrayList<>();
        a.onMessage((from, buffer, offset, length) -> got.add(from));
        a.send(0, new UnsafeBuffer(new byte[1]), 0, 1);
        assertEquals(List.of(0), got, "delivered within send, not 5 s later");
        a.close();
    }

    @Test
    void aDeliveryThatFailedIsReportedToTheNextSenderToThatReceiver() throws Exception {
        CnMessaging failing = new CnMessaging() {
            @Override
            public int self() {
                return 0;
            }

            @Override
            public void send(int toCn, DirectBuffer message, int offset, int length) {
                throw new RemoteAccessException("compute node " + toCn + " is unreachable at tcp:198.18.0.9:1");
            }

            @Override
            public void onMessage(MessageHandler handler) {
            }

            @Override
            public long messagesSent() {
                return 0;
            }

            @Override
            public void close() {
            }
        };
        ModelledLatencyMessaging a = new ModelledLatencyMessaging(failing, ONE_WAY);
        UnsafeBuffer m = new UnsafeBuffer(new byte[8]);
        a.send(2, m, 0, 8); // taken: the failure happens on the courier
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (a.inFlight() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> a.send(2, m, 0, 8));
        assertTrue(e.getMessage().contains("compute node 2") && e.getMessage().contains("198.18.0.9:1"), e.getMessage());
        a.close();
        assertThrows(IllegalStateException.class, () -> a.send(2, m, 0, 8), "closed");
    }
}
