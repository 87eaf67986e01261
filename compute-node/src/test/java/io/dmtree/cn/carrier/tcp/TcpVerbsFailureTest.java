package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.Verbs;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

import static io.dmtree.cn.carrier.tcp.TcpTestCluster.SCRATCH;
import static io.dmtree.cn.carrier.tcp.TcpTestCluster.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A memory node's connection breaks in the middle of a concurrent stress: every caller that touches
 * it gets a {@link RemoteAccessException} naming the memory node and the cause, within its
 * timeout; none hangs; later verbs to it fail at once; the other memory node keeps working.
 * Seeded ({@code -Ddmtree.seed=N}): which node breaks and when.
 */
class TcpVerbsFailureTest {
    private static final int THREADS = 10;
    private static final int MEMORY_NODES = 2;

    /** How the stream breaks. */
    enum Break {
        /** The link resets every connection (a crashed host, a broken link). */
        RESET(10_000, "unreachable"),
        /** The memory node process stops serving and closes its sockets. */
        SERVER_CLOSED(10_000, "unreachable"),
        /** The memory node stops answering but keeps the connection open (a hung or stopped process). */
        HANG(1_500, "no reply within 1500 ms");

        final int timeoutMillis;
        final String cause;

        Break(int timeoutMillis, String cause) {
            this.timeoutMillis = timeoutMillis;
            this.cause = cause;
        }
    }

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Break.class)
    void everyCallerGetsAnExceptionWithinItsTimeoutAndNoneHangs(Break how) throws Exception {
        long seed = TcpTestCluster.seed("TcpVerbsFailureTest/" + how);
        Random rnd = new Random(seed);
        int broken = rnd.nextInt(MEMORY_NODES);
        TcpVerbsConfig config = TcpVerbsConfig.defaults().withConnectionsPerNode(2).withMaxOutstanding(rnd.nextBoolean() ? 3 : 256)
                .withTimeoutMillis(how.timeoutMillis);
        try (TcpTestCluster cluster = new TcpTestCluster(MEMORY_NODES, dir, config)) {
            Verbs v = cluster.verbs;
            MixedVerbWorkload.zeroCounters(v, MEMORY_NODES);
            AtomicReferenceArray<Throwable> ends = new AtomicReferenceArray<>(THREADS);
            long[] failedCallNanos = new long[THREADS];
            List<Thread> threads = new ArrayList<>();
            CountDownLatch started = new CountDownLatch(THREADS);
            long runLimit = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                MixedVerbWorkload w = new MixedVerbWorkload(v, MEMORY_NODES, t, seed, false);
                Thread th = new Thread(() -> {
                    long callStart = 0;
                    try {
                        w.zeroRanges();
                        started.countDown();
                        // batches span both memory nodes, so every thread soon touches the broken one
                        for (int i = 0; i < 10_000_000 && System.nanoTime() < runLimit; i++) {
                            callStart = System.nanoTime();
                            w.step();
                        }
                        ends.set(id, new AssertionError("thread " + id + " never saw the break"));
                    } catch (Throwable e) {
                        failedCallNanos[id] = System.nanoTime() - callStart;
                        ends.set(id, e);
                    }
                }, "failure-" + t);
                threads.add(th);
                th.start();
            }
            assertTrue(started.await(30, TimeUnit.SECONDS), "threads started");
            Thread.sleep(100 + rnd.nextInt(300));
            switch (how) {
                case RESET -> cluster.proxies.get(broken).cut();
                case SERVER_CLOSED -> cluster.servers.get(broken).close();
                case HANG -> cluster.proxies.get(broken).pause();
            }
            for (Thread th : threads) {
                th.join(how.timeoutMillis + 60_000L);
                assertFalse(th.isAlive(), th.getName() + " hangs after the break (seed " + seed + ")");
            }
            for (int t = 0; t < THREADS; t++) {
                Throwable e = ends.get(t);
                assertNotNull(e);
                if (!(e instanceof RemoteAccessException)) {
                    throw new AssertionError("thread " + t + " ended with something else (seed " + seed + ")", e);
                }
                assertTrue(e.getMessage().contains("memory node " + broken), e.getMessage());
                assertTrue(e.getMessage().contains(how.cause), e.getMessage());
                // bounded wait: the failing call returned within its timeout (plus room for a loaded machine)
                long ms = TimeUnit.NANOSECONDS.toMillis(failedCallNanos[t]);
                assertTrue(ms <= how.timeoutMillis + 10_000L, "thread " + t + " waited " + ms + " ms for its failure");
            }
            assertTrue(cluster.verbs.failed(broken));
            RemoteAccessException later = assertThrows(RemoteAccessException.class, () -> v.faa(at(broken, SCRATCH), 1));
            assertTrue(later.getMessage().contains("memory node " + broken), later.getMessage());
            int other = 1 - broken;
            long before = v.faa(at(other, SCRATCH + 512), 1);
            assertEquals(before + 1, v.faa(at(other, SCRATCH + 512), 0), "the other memory node still works");
            cluster.proxies.get(broken).resume();
        }
    }
}
