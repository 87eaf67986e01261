package io.dmtree.mn;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.memory.Verbs;
import io.dmtree.mn.carrier.local.LocalVerbs;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Verb semantics of the local carrier and its exact counters. */
class LocalVerbsTest {
    private static final MemoryNodeConfig SMALL = new MemoryNodeConfig(16L << 20, 1L << 20, 1L << 16);

    private static List<MemoryNode> nodes(int n) {
        List<MemoryNode> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new MemoryNode(i, SMALL));
        }
        return list;
    }

    @Test
    void readWriteCasFaaAndCounters() {
        List<MemoryNode> mns = nodes(2);
        Verbs verbs = LocalVerbs.counted(mns);
        long chunk = mns.get(1).allocateChunk();
        UnsafeBuffer src = new UnsafeBuffer(new byte[256]);
        for (int i = 0; i < 256; i++) {
            src.putByte(i, (byte) i);
        }
        verbs.write(chunk, src, 0, 256);
        UnsafeBuffer dst = new UnsafeBuffer(ByteBuffer.allocateDirect(256));
        verbs.read(chunk, dst, 0, 256);
        for (int i = 0; i < 256; i++) {
            assertEquals((byte) i, dst.getByte(i));
        }
        long word = GlobalAddress.plus(chunk, 512);
        assertEquals(0, verbs.cas(word, 0, 5));
        assertEquals(5, verbs.cas(word, 0, 6), "a failed CAS returns the word found");
        assertEquals(5, verbs.faa(word, 10));
        assertEquals(15, verbs.faa(word, 0));
        VerbCounts c = verbs.counters(1).snapshot();
        assertEquals(new VerbCounts(1, 1, 2, 2, 256 + 4 * 8, 256 + 2 * 16 + 2 * 8, 6), c);
        assertEquals(VerbCounts.ZERO, verbs.counters(0).snapshot());
    }

    @Test
    void batchAppliesInOrderInOneRoundTripPerMemoryNode() {
        List<MemoryNode> mns = nodes(2);
        Verbs verbs = LocalVerbs.counted(mns);
        long a = mns.get(0).allocateChunk();
        long b = mns.get(1).allocateChunk();
        UnsafeBuffer one = new UnsafeBuffer(new byte[8]);
        one.putLong(0, 1);
        UnsafeBuffer two = new UnsafeBuffer(new byte[8]);
        two.putLong(0, 2);
        UnsafeBuffer out = new UnsafeBuffer(new byte[8]);
        VerbBatch batch = new VerbBatch().write(a, one, 0, 8).write(a, two, 0, 8).faa(a, 40).read(a, out, 0, 8)
                .cas(b, 0, 9);
        verbs.post(batch);
        assertEquals(2, batch.result(2), "the FAA saw the second write");
        assertEquals(42, out.getLong(0), "the READ saw the FAA");
        assertEquals(0, batch.result(4));
        assertEquals(1, verbs.counters(0).snapshot().roundTrips());
        assertEquals(1, verbs.counters(1).snapshot().roundTrips());
        assertEquals(2, verbs.totalCounts().roundTrips());
        assertEquals(5, verbs.totalCounts().verbs());
    }

    @Test
    void badAddressesFailBeforeAnythingIsWritten() {
        List<MemoryNode> mns = nodes(1);
        Verbs verbs = LocalVerbs.counted(mns);
        long chunk = mns.get(0).allocateChunk();
        UnsafeBuffer eight = new UnsafeBuffer(new byte[8]);
        eight.putLong(0, 99);
        assertThrows(RemoteAccessException.class, () -> verbs.read(GlobalAddress.of(1, 0), eight, 0, 8));
        assertThrows(RemoteAccessException.class, () -> verbs.write(GlobalAddress.of(0, SMALL.regionBytes() - 4), eight, 0, 8));
        assertThrows(RemoteAccessException.class, () -> verbs.cas(GlobalAddress.plus(chunk, 4), 0, 1));
        assertThrows(RemoteAccessException.class, () -> verbs.faa(GlobalAddress.of(0, SMALL.regionBytes()), 1));
        VerbBatch batch = new VerbBatch().write(chunk, eight, 0, 8).faa(GlobalAddress.of(5, 0), 1);
        assertThrows(RemoteAccessException.class, () -> verbs.post(batch));
        assertEquals(0, verbs.faa(chunk, 0), "the batch with an unknown node wrote nothing");
        assertThrows(IndexOutOfBoundsException.class, () -> verbs.read(chunk, eight, 4, 8), "local buffer bounds are checked");
    }

    @Test
    void concurrentFaaIsExact() throws Exception {
        List<MemoryNode> mns = nodes(1);
        long word = mns.get(0).allocateChunk();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Verbs verbs = LocalVerbs.counted(mns); // separate compute nodes
            threads.add(new Thread(() -> {
                for (int i = 0; i < 100_000; i++) {
                    verbs.faa(word, 1);
                    long seen = verbs.faa(word, 0);
                    verbs.cas(word, seen, seen); // CAS mixed in must not lose increments
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(400_000, new LocalVerbs(mns).faa(word, 0));
    }

    @Test
    void regionsLargerThanTwoGibibytesWork() {
        long size = (3L << 30) + 4096;
        try (MemoryNode mn = new MemoryNode(0, new MemoryNodeConfig(size, 1L << 20, 1L << 16))) {
            LocalVerbs verbs = new LocalVerbs(List.of(mn));
            long far = GlobalAddress.of(0, size - 8);
            assertEquals(0, verbs.faa(far, 7));
            assertEquals(7, verbs.faa(far, 0));
            assertEquals(mn.config().chunkCount(), mn.chunks().capacity());
        }
    }

    @Test
    void chunksRunOutWithAClearError() {
        MemoryNode mn = new MemoryNode(0, SMALL);
        long n = mn.chunks().capacity();
        for (long i = 0; i < n; i++) {
            mn.allocateChunk();
        }
        OutOfMemoryNodeSpaceException e = assertThrows(OutOfMemoryNodeSpaceException.class, mn::allocateChunk);
        assertTrue(e.getMessage().contains("no free chunk"), e.getMessage());
    }

    @Test
    void closedRegionRefusesAccess() {
        List<MemoryNode> mns = nodes(1);
        Verbs verbs = LocalVerbs.counted(mns);
        mns.get(0).close();
        RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> verbs.faa(GlobalAddress.of(0, 4096), 1));
        assertTrue(e.getMessage().contains("closed"));
    }

    @Test
    void configurationErrorsAreClear() {
        assertThrows(IllegalArgumentException.class, () -> new MemoryNodeConfig(1L << 20, 1000, 1L << 16));
        assertThrows(IllegalArgumentException.class, () -> new MemoryNodeConfig(8192, 1L << 20, 1L << 16));
        assertThrows(IllegalArgumentException.class, () -> new MemoryNodeConfig(16L << 20, 1L << 20, 100));
    }
}
