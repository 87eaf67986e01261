package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.memory.FencedException;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fencing on the tcp carrier: a compute node's threads issue WRITE, CAS and FAA concurrently (on
 * several connections and event loops) while the memory node fences its incarnation. After {@code
 * fence} returns, nothing of that incarnation lands: the region's bytes the threads touch do not
 * change any more, though the threads keep issuing; each of them hears {@link FencedException},
 * and so does every later verb; a new HELLO at the fenced epoch (or an older one) is refused; a
 * new incarnation (larger epoch) of the same slot, and another compute node, work. Seeded (property
 * {@code dmtree.seed}); bounded in count and time.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TcpFenceTest {
    private static final int THREADS = 6;
    private static final int WORDS = 8; // per thread: words 0..5 WRITE, 6 CAS, 7 FAA
    private static final int ROUNDS = 3;

    @TempDir
    Path dir;

    @Test
    void noVerbOfAFencedIncarnationLandsAfterTheFence() throws Exception {
        long seed = TcpTestCluster.seed("TcpFenceTest");
        Random rnd = new Random(seed);
        MemoryNodeOptions o = MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0), TcpTestCluster.CONFIG, "tcp", dir)
                .withLimits(MemoryNodeOptions.DEFAULT_LIMITS.toBuilder().eventLoops(3).build());
        try (MemoryNodeServer mn = MemoryNodeServer.start(o)) {
            List<InetSocketAddress> at = List.of(mn.address());
            TcpVerbsConfig config = new TcpVerbsConfig(3, 16, TcpVerbsConfig.defaults().maxFrameBytes(), 10_000, 50);
            OffHeapRegion region = mn.memoryNode().region();
            long epoch = 10;
            for (int round = 0; round < ROUNDS; round++, epoch += 10) {
                long base = TcpTestCluster.SCRATCH + round * (long) THREADS * WORDS * 8;
                runRound(rnd, at, config, region, 2, epoch, base, mn);
            }
            int cn = 2;
            long fencedEpoch = epoch - 10;
            // a HELLO at a fenced epoch, or an older one, is refused
            for (long e : new long[]{fencedEpoch, fencedEpoch - 3, 1}) {
                FencedException f = assertThrows(FencedException.class, () -> TcpVerbs.connect(at, config, cn, e).close());
                assertEquals(cn, f.computeNode());
                assertEquals(e, f.epoch());
            }
            // a new incarnation of the slot works, and so does another compute node, and one without membership
            for (TcpVerbs v : new TcpVerbs[]{TcpVerbs.connect(at, config, cn, fencedEpoch + 1),
                    TcpVerbs.connect(at, config, 3, 5), TcpVerbs.connect(at, config)}) {
                try (v) {
                    long a = GlobalAddress.of(0, TcpTestCluster.SCRATCH);
                    long before = v.faa(a, 1);
                    assertEquals(before + 1, region.getLongVolatile(TcpTestCluster.SCRATCH));
                }
            }
            assertEquals(0, mn.frameServer().internalErrors());
        }
    }

    /** One incarnation's threads run until fenced at a random moment; checks what landed. */
    private static void runRound(Random rnd, List<InetSocketAddress> at, TcpVerbsConfig config, OffHeapRegion region, int cn,
                                 long epoch, long base, MemoryNodeServer mn) throws Exception {
        TcpVerbs verbs = TcpVerbs.connect(at, config, cn, epoch);
        CountDownLatch started = new CountDownLatch(THREADS);
        AtomicInteger fencedThreads = new AtomicInteger();
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (int t = 0; t < THREADS; t++) {
            int me = t;
            long mine = base + (long) me * WORDS * 8;
            long threadSeed = rnd.nextLong();
            Thread th = new Thread(() -> {
                Random r = new Random(threadSeed);
                UnsafeBuffer buf = new UnsafeBuffer(new byte[8]);
                long n = 0;
                boolean fenced = false;
                int afterFence = 0;
                started.countDown();
                while (afterFence < 20 && System.nanoTime() < deadline) {
                    n++;
                    int word = r.nextInt(WORDS);
                    long a = GlobalAddress.of(0, mine + word * 8L);
                    try {
                        if (word < 6) {
                            buf.putLong(0, n);
                            verbs.write(a, buf, 0, 8);
                        } else if (word == 6) {
                            verbs.cas(a, verbs.faa(GlobalAddress.of(0, mine + 7 * 8L), 0), n);
                        } else {
                            verbs.faa(a, 1);
                        }
                        if (fenced) {
                            throw new AssertionError("thread " + me + ": a verb succeeded after one was fenced");
                        }
                    } catch (FencedException e) {
                        if (e.computeNode() != cn || e.epoch() != epoch) {
                            throw new AssertionError("fenced as " + e.computeNode() + "@" + e.epoch(), e);
                        }
                        if (!fenced) {
                            fenced = true;
                            fencedThreads.incrementAndGet();
                        }
                        afterFence++;
                    } catch (Throwable e) {
                        unexpected.compareAndSet(null, e);
                        return;
                    }
                }
            }, "fence-test-" + me);
            threads.add(th);
            th.start();
        }
        assertTrue(started.await(30, TimeUnit.SECONDS));
        Thread.sleep(5 + rnd.nextInt(60));
        mn.fence(cn, epoch);
        byte[] atFence = new byte[THREADS * WORDS * 8];
        region.copyOut(base, atFence, new UnsafeBuffer(atFence).addressOffset(), atFence.length);
        for (Thread th : threads) {
            th.join(TimeUnit.SECONDS.toMillis(70));
        }
        verbs.close();
        if (unexpected.get() != null) {
            throw new AssertionError("a thread failed otherwise than fenced", unexpected.get());
        }
        assertEquals(THREADS, fencedThreads.get(), "every thread heard the fence");
        byte[] after = new byte[atFence.length];
        region.copyOut(base, after, new UnsafeBuffer(after).addressOffset(), after.length);
        assertArrayEquals(atFence, after, "a verb of compute node " + cn + " epoch " + epoch + " landed after its fence");
        boolean anyLanded = false;
        for (byte b : atFence) {
            anyLanded |= b != 0;
        }
        assertTrue(anyLanded, "the threads ran verbs before the fence");
    }
}
