package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.dmtree.cn.carrier.tcp.TcpTestCluster.SCRATCH;
import static io.dmtree.cn.carrier.tcp.TcpTestCluster.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Single behaviours of the tcp carrier's connection: a full socket, interrupts, no allocation per verb, batching. */
class VerbConnectionBehaviourTest {
    @TempDir
    Path dir;

    @Test
    void framesThatDoNotFitTheSocketGoOutWhenItDrains() throws Exception {
        int threads = 6;
        int bytes = 512 << 10;
        try (TcpTestCluster cluster = new TcpTestCluster(1, dir, TcpVerbsConfig.defaults())) {
            Verbs v = cluster.verbs;
            cluster.proxies.get(0).pause(); // the memory node reads nothing: the socket fills
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    try {
                        UnsafeBuffer src = new UnsafeBuffer(new byte[bytes]);
                        for (int i = 0; i < bytes; i++) {
                            src.putByte(i, (byte) (i * 7 + id));
                        }
                        long a = at(0, SCRATCH + (long) id * bytes);
                        v.write(a, src, 0, bytes);
                        UnsafeBuffer back = new UnsafeBuffer(new byte[bytes]);
                        v.read(a, back, 0, bytes);
                        for (int i = 0; i < bytes; i++) {
                            if (back.getByte(i) != src.getByte(i)) {
                                throw new AssertionError("thread " + id + " read back another byte at " + i);
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                writers.add(th);
                th.start();
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (cluster.verbs.wireStats().writesCutShort() == 0 && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            assertTrue(cluster.verbs.wireStats().writesCutShort() > 0, "a write was cut short by the full socket");
            Thread.sleep(50);
            cluster.proxies.get(0).resume();
            for (Thread th : writers) {
                th.join(30_000);
                assertFalse(th.isAlive());
            }
            assertNull(failure.get());
            WireStats w = cluster.verbs.wireStats();
            assertEquals(w.framesWritten(), w.repliesRead());
        }
    }

    @Test
    void anInterruptedCallerGetsItsReplyKeepsItsInterruptAndTheConnectionLives() throws Exception {
        try (TcpTestCluster cluster = new TcpTestCluster(1, dir, TcpVerbsConfig.defaults())) {
            Verbs v = cluster.verbs;
            long a = at(0, SCRATCH);
            v.write(a, new UnsafeBuffer(new byte[8]), 0, 8);
            Thread.currentThread().interrupt();
            try {
                assertEquals(0, v.faa(a, 5));
                assertEquals(5, v.faa(a, 1));
                assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept");
            } finally {
                Thread.interrupted();
            }
            assertFalse(cluster.verbs.failed(0));
            assertEquals(6, v.faa(a, 0));
        }
    }

    @Test
    void anInterruptDuringTheWaitNeitherEndsNorSpinsIt() throws Exception {
        try (TcpTestCluster cluster = new TcpTestCluster(1, dir, TcpVerbsConfig.defaults())) {
            Verbs v = cluster.verbs;
            long a = at(0, SCRATCH + 64);
            v.write(a, new UnsafeBuffer(new byte[8]), 0, 8);
            cluster.proxies.get(0).pause();
            long[] result = {-1};
            boolean[] keptInterrupt = {false};
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread waiter = new Thread(() -> {
                try {
                    result[0] = v.faa(a, 7);
                    keptInterrupt[0] = Thread.currentThread().isInterrupted();
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            waiter.start();
            Thread.sleep(100);
            waiter.interrupt();
            Thread.sleep(50);
            long reads0 = cluster.verbs.wireStats().socketReads();
            Thread.sleep(300);
            long reads = cluster.verbs.wireStats().socketReads() - reads0;
            cluster.proxies.get(0).resume();
            waiter.join(10_000);
            assertFalse(waiter.isAlive());
            assertNull(failure.get());
            assertEquals(0, result[0], "the verb took effect once and returned its reply");
            assertTrue(keptInterrupt[0], "the interrupt is kept for the caller");
            assertTrue(reads < 20, "an interrupted waiter waits in select instead of polling the socket: " + reads
                    + " reads in 300 ms with nothing to read");
            assertEquals(7, v.faa(a, 0));
        }
    }

    @Test
    void aWarmedUpCallerAllocatesNothingPerVerb() throws Exception {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (TcpTestCluster cluster = new TcpTestCluster(2, dir, TcpVerbsConfig.defaults())) {
            Verbs v = cluster.verbs;
            UnsafeBuffer buf = new UnsafeBuffer(new byte[1024]);
            VerbBatch batch = new VerbBatch();
            Runnable round = () -> {
                v.read(at(0, SCRATCH), buf, 0, 1024);
                v.write(at(1, SCRATCH), buf, 0, 256);
                v.cas(at(0, SCRATCH + 2048), 0, 0);
                v.faa(at(1, SCRATCH + 2048), 1);
                batch.clear();
                v.post(batch.write(at(0, SCRATCH + 4096), buf, 0, 64).read(at(1, SCRATCH + 4096), buf, 64, 64)
                        .faa(at(0, SCRATCH + 8192), 1));
            };
            for (int i = 0; i < 20_000; i++) {
                round.run();
            }
            long id = Thread.currentThread().getId();
            int rounds = 5_000;
            long before = mx.getThreadAllocatedBytes(id);
            for (int i = 0; i < rounds; i++) {
                round.run();
            }
            long allocated = mx.getThreadAllocatedBytes(id) - before;
            System.out.println("allocated " + allocated + " bytes in " + rounds * 5 + " verbs and batches");
            // The JDK's epoll selector looks a ready descriptor up in a map keyed by Integer, so a wait that
            // reaches select() boxes the descriptor once it is above the Integer cache (127): 16 bytes a
            // wakeup that are not this carrier's. Tests that leave sockets open push new descriptors there.
            assertTrue(allocated < rounds, "a verb allocates nothing: " + allocated + " bytes in " + rounds * 5 + " calls ("
                    + openDescriptors() + " descriptors open; above 127 the JDK selector boxes one per wakeup)");
        }
    }

    private static long openDescriptors() {
        try (java.util.stream.Stream<Path> fds = java.nio.file.Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return -1;
        }
    }
}
