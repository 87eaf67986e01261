package io.dmtree.cn.carrier;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.memory.Verbs;
import io.dmtree.mn.MemoryNodeConfig;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The verb semantics of DESIGN.md that every carrier keeps, as one suite each carrier's test runs
 * against its own {@link Fixture}: two memory nodes, two independent compute-node clients.
 */
public abstract class VerbSemanticsContract {
    /** Small regions: 4 MiB, 64 KiB chunks, 64 KiB lock table. */
    protected static final MemoryNodeConfig CONFIG = new MemoryNodeConfig(4L << 20, 64L << 10, 64L << 10);
    /** Where tests scribble: the chunk area. */
    protected static final long SCRATCH = CONFIG.chunkAreaOffset();
    /** The scratch bytes the suite uses: a memory node zeroes only its header and the chunks it hands out. */
    private static final int SCRATCH_BYTES = 256 << 10;

    /** Two memory nodes of {@link #CONFIG} and two clients (compute nodes) on them. */
    protected interface Fixture extends AutoCloseable {
        Verbs client(int i);

        @Override
        void close() throws Exception;
    }

    protected abstract Fixture start() throws Exception;

    private Fixture fixture;
    private Verbs v;

    @BeforeEach
    void setUp() throws Exception {
        fixture = start();
        v = fixture.client(0);
        UnsafeBuffer zeros = new UnsafeBuffer(new byte[SCRATCH_BYTES]);
        for (int mn = 0; mn < 2; mn++) {
            v.write(at(mn, SCRATCH), zeros, 0, SCRATCH_BYTES);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    private static long at(int mn, long offset) {
        return GlobalAddress.of(mn, offset);
    }

    @Test
    void writeThenReadGivesTheBytesBackAtAnyOffsetAndLength() {
        Random rnd = new Random(7);
        for (int round = 0; round < 200; round++) {
            int mn = rnd.nextInt(2);
            int length = 1 + rnd.nextInt(rnd.nextBoolean() ? 64 : 9000);
            long offset = SCRATCH + rnd.nextInt(200_000);
            byte[] data = new byte[length];
            rnd.nextBytes(data);
            UnsafeBuffer src = new UnsafeBuffer(new byte[length + 16]);
            src.putBytes(5, data);
            v.write(at(mn, offset), src, 5, length);
            UnsafeBuffer dst = new UnsafeBuffer(new byte[length + 32]);
            v.read(at(mn, offset), dst, 11, length);
            byte[] back = new byte[length];
            dst.getBytes(11, back);
            assertArrayEquals(data, back, "round " + round);
            assertEquals(0, dst.getByte(10));
            assertEquals(0, dst.getByte(11 + length));
        }
    }

    @Test
    void memoryNodesAreSeparate() {
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        b.putLong(0, 111);
        v.write(at(0, SCRATCH), b, 0, 8);
        b.putLong(0, 222);
        v.write(at(1, SCRATCH), b, 0, 8);
        v.read(at(0, SCRATCH), b, 0, 8);
        assertEquals(111, b.getLong(0));
        v.read(at(1, SCRATCH), b, 0, 8);
        assertEquals(222, b.getLong(0));
    }

    @Test
    void casAndFaaReturnTheWordFound() {
        long a = at(0, SCRATCH + 64);
        assertEquals(0, v.cas(a, 0, 10));
        assertEquals(10, v.cas(a, 0, 20), "failed CAS returns the word found");
        assertEquals(10, v.faa(a, 5));
        assertEquals(15, v.cas(a, 15, -1));
        assertEquals(-1, v.faa(a, 1));
        assertEquals(0, v.faa(a, 0));
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        v.read(a, b, 0, 8);
        assertEquals(0, b.getLong(0));
    }

    @Test
    void aBatchAppliesItsRequestsInOrder() {
        long a = at(0, SCRATCH + 128);
        UnsafeBuffer one = new UnsafeBuffer(new byte[8]);
        UnsafeBuffer two = new UnsafeBuffer(new byte[8]);
        one.putLong(0, 1);
        two.putLong(0, 2);
        UnsafeBuffer seen1 = new UnsafeBuffer(new byte[8]);
        UnsafeBuffer seen2 = new UnsafeBuffer(new byte[8]);
        VerbBatch batch = new VerbBatch()
                .write(a, one, 0, 8)
                .read(a, seen1, 0, 8)
                .write(a, two, 0, 8)
                .faa(a, 40)
                .cas(a, 42, 7)
                .read(a, seen2, 0, 8)
                .write(at(1, SCRATCH + 128), one, 0, 8);
        v.post(batch);
        assertEquals(1, seen1.getLong(0));
        assertEquals(2, batch.result(3));
        assertEquals(42, batch.result(4));
        assertEquals(7, seen2.getLong(0));
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        v.read(at(1, SCRATCH + 128), b, 0, 8);
        assertEquals(1, b.getLong(0));
    }

    @Test
    void writeThenReleaseInOneBatchIsSeenInOrderByAnotherClient() throws Exception {
        // "write the entry, then clear the lock" as one batch: a reader that sees the lock clear sees the entry
        Verbs other = fixture.client(1);
        long lock = at(0, SCRATCH + 4096);
        long entry = at(0, SCRATCH + 8192);
        int rounds = 300;
        AtomicReference<Throwable> error = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try {
                UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
                long lastSeen = 0;
                while (lastSeen < rounds) {
                    long l = other.faa(lock, 0);
                    other.read(entry, b, 0, 8);
                    long e = b.getLong(0);
                    if (e < l) {
                        throw new AssertionError("released round " + l + " but entry shows " + e);
                    }
                    lastSeen = l;
                }
            } catch (Throwable t) {
                error.set(t);
            }
        });
        reader.start();
        UnsafeBuffer e = new UnsafeBuffer(new byte[8]);
        UnsafeBuffer l = new UnsafeBuffer(new byte[8]);
        VerbBatch batch = new VerbBatch();
        for (long r = 1; r <= rounds; r++) {
            e.putLong(0, r);
            l.putLong(0, r);
            batch.clear();
            v.post(batch.write(entry, e, 0, 8).write(lock, l, 0, 8));
        }
        reader.join(30_000);
        assertNull(error.get());
    }

    @Test
    void countersCountVerbsBytesAndRoundTripsPerMemoryNode() {
        VerbCounts before0 = v.counters(0).snapshot();
        VerbCounts before1 = v.counters(1).snapshot();
        UnsafeBuffer b = new UnsafeBuffer(new byte[100]);
        v.read(at(0, SCRATCH), b, 0, 100);
        v.write(at(0, SCRATCH), b, 0, 40);
        v.cas(at(0, SCRATCH), 0, 0);
        v.faa(at(1, SCRATCH), 0);
        v.post(new VerbBatch().read(at(0, SCRATCH), b, 0, 16).write(at(1, SCRATCH + 8), b, 0, 24)
                .faa(at(0, SCRATCH + 8), 1).cas(at(1, SCRATCH + 16), 0, 0));
        VerbCounts d0 = v.counters(0).snapshot().minus(before0);
        VerbCounts d1 = v.counters(1).snapshot().minus(before1);
        // mn0: READ 100, WRITE 40, CAS, READ 16, FAA ; 4 single round trips + 1 batch
        assertEquals(new VerbCounts(2, 1, 1, 1, 100 + 16 + 8 + 8, 40 + 16 + 8, 4), d0);
        // mn1: FAA, WRITE 24, CAS ; 1 single + 1 batch
        assertEquals(new VerbCounts(0, 1, 1, 1, 8 + 8, 8 + 24 + 16, 2), d1);
        assertEquals(d0.plus(d1), v.totalCounts().minus(before0.plus(before1)));
    }

    @Test
    void badAddressesAreRefusedAndWriteNothing() {
        long size = CONFIG.regionBytes();
        UnsafeBuffer b = new UnsafeBuffer(new byte[64]);
        b.setMemory(0, 64, (byte) 0x5A);
        UnsafeBuffer zero = new UnsafeBuffer(new byte[64]);
        v.write(at(0, size - 64), zero, 0, 64);
        assertThrows(RemoteAccessException.class, () -> v.write(at(0, size - 32), b, 0, 64));
        assertThrows(RemoteAccessException.class, () -> v.read(at(0, size - 8), b, 0, 16));
        assertThrows(RemoteAccessException.class, () -> v.read(at(0, size), b, 0, 1));
        assertThrows(RemoteAccessException.class, () -> v.cas(at(0, SCRATCH + 4), 0, 1));
        assertThrows(RemoteAccessException.class, () -> v.faa(at(0, SCRATCH + 1), 1));
        assertThrows(RemoteAccessException.class, () -> v.faa(at(0, size), 1));
        assertThrows(RemoteAccessException.class, () -> v.faa(at(2, SCRATCH), 1), "unknown memory node");
        assertThrows(RemoteAccessException.class, () -> v.post(new VerbBatch().faa(at(0, SCRATCH), 1).faa(at(5, 0), 1)));
        UnsafeBuffer check = new UnsafeBuffer(new byte[64]);
        v.read(at(0, size - 64), check, 0, 64);
        assertEquals(0, check.getLong(32), "a refused write wrote nothing");
        assertEquals(0, check.getLong(56));
        UnsafeBuffer w = new UnsafeBuffer(new byte[8]);
        v.read(at(0, SCRATCH), w, 0, 8);
        assertEquals(0, w.getLong(0), "a batch refused for an unknown node took no effect");
        // the client still works afterwards
        assertEquals(0, v.faa(at(0, SCRATCH + 24), 3));
        assertEquals(3, v.faa(at(0, SCRATCH + 24), 0));
    }

    @Test
    void concurrentFaaFromManyThreadsOfTwoClientsIsExact() throws Exception {
        long a = at(1, SCRATCH + 512);
        int threadsPerClient = 3;
        int perThread = Integer.getInteger("dmtree.test.faaPerThread", 2000);
        Set<Long> seen = ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch go = new CountDownLatch(1);
        for (int c = 0; c < 2; c++) {
            Verbs client = fixture.client(c);
            for (int t = 0; t < threadsPerClient; t++) {
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < perThread; i++) {
                            long before = client.faa(a, 1);
                            if (!seen.add(before)) {
                                throw new AssertionError("two FAAs returned " + before);
                            }
                        }
                    } catch (Throwable e) {
                        error.set(e);
                    }
                });
                th.start();
                threads.add(th);
            }
        }
        go.countDown();
        for (Thread t : threads) {
            t.join(60_000);
        }
        assertNull(error.get());
        long total = 2L * threadsPerClient * perThread;
        assertEquals(total, v.faa(a, 0));
        Set<Long> expected = new HashSet<>();
        for (long i = 0; i < total; i++) {
            expected.add(i);
        }
        assertEquals(expected, seen);
    }

    @Test
    void concurrentCasIncrementsFromTwoClientsAreExact() throws Exception {
        long a = at(0, SCRATCH + 1024);
        int perThread = Integer.getInteger("dmtree.test.casPerThread", 1000);
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        for (int c = 0; c < 2; c++) {
            Verbs client = fixture.client(c);
            for (int t = 0; t < 2; t++) {
                Thread th = new Thread(() -> {
                    try {
                        for (int i = 0; i < perThread; i++) {
                            long cur = client.faa(a, 0);
                            long found;
                            while ((found = client.cas(a, cur, cur + 1)) != cur) {
                                cur = found; // lost the race: retry from the word found
                            }
                        }
                    } catch (Throwable e) {
                        error.set(e);
                    }
                });
                th.start();
                threads.add(th);
            }
        }
        for (Thread t : threads) {
            t.join(60_000);
        }
        assertNull(error.get());
        assertEquals(4L * perThread, v.faa(a, 0));
    }

    @Test
    void atomicsAndWritesFromTwoClientsSeeEachOther() {
        Verbs other = fixture.client(1);
        long a = at(0, SCRATCH + 2048);
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        b.putLong(0, 99);
        v.write(a, b, 0, 8);
        assertEquals(99, other.faa(a, 1));
        assertEquals(100, v.cas(a, 100, 5));
        other.read(a, b, 0, 8);
        assertEquals(5, b.getLong(0));
        assertTrue(other.counters(0).snapshot().verbs() >= 2);
    }
}
