package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.memory.Verbs;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static io.dmtree.cn.carrier.tcp.TcpTestCluster.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many threads on few tcp connections, pipelining mixed verbs and batches over two memory nodes
 * while a relay holds requests back now and then (so sockets fill, the ring fills, and leaders
 * change at every moment), every reply checked against a shadow model ({@link MixedVerbWorkload}).
 * Seeded ({@code -Ddmtree.seed=N}), bounded in operations ({@code -Ddmtree.test.tcpStressOps}) and
 * in time.
 */
class TcpVerbsStressTest {
    private static final int THREADS = 12;
    private static final int MEMORY_NODES = 2;
    private static final long TIME_LIMIT_MILLIS = 60_000;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} connections per memory node, {1} in flight per connection, {2} spins, TLS {3}")
    @CsvSource({"2, 2, 0, false", "3, 256, 50, false", "1, 5, 10, false", "2, 64, 10, true", "1, 3, 0, true"})
    void repliesMatchTheShadowModelWhileRequestsAreHeldBack(int connections, int outstanding, int spins, boolean tls)
            throws Exception {
        long seed = TcpTestCluster.seed("TcpVerbsStressTest/" + connections + "x" + outstanding + (tls ? "/tls" : ""));
        io.dmtree.core.wire.ClusterSecret secret = tls ? TlsMaterial.secretWith(TlsMaterial.make(dir.resolve("tls"), "cluster"))
                : null;
        int ops = Integer.getInteger("dmtree.test.tcpStressOps", 1200);
        TcpVerbsConfig config = TcpVerbsConfig.defaults().withConnectionsPerNode(connections).withMaxOutstanding(outstanding)
                .withSpins(spins).withTimeoutMillis(30_000);
        try (TcpTestCluster cluster = new TcpTestCluster(MEMORY_NODES, dir, config, secret, secret)) {
            Verbs v = cluster.verbs;
            MixedVerbWorkload.zeroCounters(v, MEMORY_NODES);
            List<MixedVerbWorkload> workloads = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicBoolean done = new AtomicBoolean();
            CountDownLatch go = new CountDownLatch(1);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIME_LIMIT_MILLIS);
            for (int t = 0; t < THREADS; t++) {
                MixedVerbWorkload w = new MixedVerbWorkload(v, MEMORY_NODES, t, seed, true);
                workloads.add(w);
                Thread th = new Thread(() -> {
                    try {
                        w.zeroRanges();
                        go.await();
                        for (int i = 0; i < ops && failure.get() == null && System.nanoTime() < deadline; i++) {
                            w.step();
                        }
                        w.verifyRanges();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "stress-" + t);
                threads.add(th);
                th.start();
            }
            Thread chaos = new Thread(() -> holdBackNowAndThen(cluster, new Random(seed ^ 0x5DEECE66DL), done), "stress-chaos");
            chaos.start();
            go.countDown();
            Thread watchdog = new Thread(() -> dumpWhenStuck(cluster, threads), "stress-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
            for (Thread th : threads) {
                th.join(TIME_LIMIT_MILLIS + 30_000);
                assertFalse(th.isAlive(), th.getName() + " hangs");
            }
            done.set(true);
            chaos.join(10_000);
            cluster.proxies.forEach(LoopbackProxy::resume);
            assertNull(failure.get(), () -> "seed " + seed + ": " + failure.get());
            long total = workloads.stream().mapToLong(w -> w.operations).sum();
            long refused = workloads.stream().mapToLong(w -> w.refused).sum();
            checkSharedCounters(v, workloads);
            WireStats wire = cluster.verbs.wireStats();
            System.out.printf("seed %d: %d operations (%d refused) by %d threads on %d connection(s) per memory node: %s%n",
                    seed, total, refused, THREADS, connections, wire);
            assertTrue(total >= THREADS, "the threads did something");
            assertEquals(wire.framesWritten(), wire.repliesRead(), "every request frame got its reply");
        }
    }

    /** Prints the connections and every stuck thread's stack when the run takes far longer than it should. */
    private static void dumpWhenStuck(TcpTestCluster cluster, List<Thread> threads) {
        try {
            for (int i = 0; i < 200; i++) {
                Thread.sleep(100);
                if (threads.stream().noneMatch(Thread::isAlive)) {
                    return;
                }
            }
            StringBuilder b = new StringBuilder("still running after 20 s:\n").append(cluster.verbs.describe());
            for (Thread t : threads) {
                if (t.isAlive()) {
                    b.append(t.getName()).append(' ').append(t.getState()).append('\n');
                    for (StackTraceElement e : t.getStackTrace()) {
                        b.append("    at ").append(e).append('\n');
                    }
                }
            }
            System.out.println(b);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Every few milliseconds, holds one memory node's requests back for a few milliseconds. */
    private static void holdBackNowAndThen(TcpTestCluster cluster, Random rnd, AtomicBoolean done) {
        try {
            for (int round = 0; round < 100_000 && !done.get(); round++) {
                Thread.sleep(2 + rnd.nextInt(20));
                LoopbackProxy p = cluster.proxies.get(rnd.nextInt(cluster.proxies.size()));
                p.pause();
                Thread.sleep(1 + rnd.nextInt(15));
                p.resume();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The FAAs on each shared counter tile [0, final value): each began where another ended, none twice. */
    private static void checkSharedCounters(Verbs v, List<MixedVerbWorkload> workloads) {
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        for (int mn = 0; mn < MEMORY_NODES; mn++) {
            for (int c = 0; c < MixedVerbWorkload.COUNTERS; c++) {
                int n = 0;
                for (MixedVerbWorkload w : workloads) {
                    n += w.sharedCount[mn][c];
                }
                long[][] pairs = new long[n][];
                int k = 0;
                for (MixedVerbWorkload w : workloads) {
                    for (int i = 0; i < w.sharedCount[mn][c]; i++) {
                        pairs[k++] = new long[]{w.sharedFaa[mn][c][2 * i], w.sharedFaa[mn][c][2 * i + 1]};
                    }
                }
                Arrays.sort(pairs, (x, y) -> Long.compare(x[0], y[0]));
                long next = 0;
                for (long[] p : pairs) {
                    assertEquals(next, p[0], "memory node " + mn + " counter " + c + ": an FAA began at " + p[0]
                            + " where the previous one ended at " + next);
                    next += p[1];
                }
                v.read(at(mn, MixedVerbWorkload.COUNTER_BASE + 64L * c), b, 0, 8);
                assertEquals(next, b.getLong(0), "memory node " + mn + " counter " + c + " is the sum of its FAAs");
            }
        }
    }
}
