package io.dmtree.cn;

import io.dmtree.core.tree.TreeStats;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The local carrier's torn-read mode copies each wide READ cache line by cache line in shuffled
 * order, yielding between lines, so concurrent write-backs land in the middle of reads. Readers
 * must detect every torn image and retry: no value that was never written may come back, no
 * present key may be reported absent, and the tree's torn-read counter proves tearing happened.
 */
class TornReadTest {
    private static final int VALUE_BYTES = 64;

    /** A value that says which key and which version it belongs to, in every 8-byte word. */
    private static byte[] value(long key, long version) {
        ByteBuffer b = ByteBuffer.allocate(VALUE_BYTES);
        for (int i = 0; i < VALUE_BYTES / 16; i++) {
            b.putLong(key).putLong(version);
        }
        return b.array();
    }

    private static byte[] key(long k) {
        return ByteBuffer.allocate(8).putLong(k).array();
    }

    @Test
    void tornReadsAreDetectedAndRetriedNeverReturned() throws Exception {
        long seed = Seeds.seed("tornReadsAreDetectedAndRetriedNeverReturned");
        long budgetNanos = (long) (10_000_000_000L * Seeds.scale());
        try (EmbeddedCluster cluster = DmTree.embedded().computeNodes(2).keyBytes(8).valueBytes(VALUE_BYTES)
                .nodeBytes(1024).tornReads(true).regionBytes(64L << 20).start()) {
            int keys = 64;
            for (long k = 0; k < keys; k++) {
                cluster.index(0).put(key(k), value(k, 0));
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            threads.add(new Thread(() -> {
                Random r = new Random(seed);
                long version = 1;
                try {
                    while (!stop.get()) {
                        long k = r.nextInt(keys);
                        cluster.index(1).put(key(k), value(k, version++));
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
            threads.add(new Thread(() -> {
                Random r = new Random(seed + 1);
                try {
                    while (!stop.get()) {
                        long k = r.nextInt(keys);
                        byte[] v = cluster.index(0).get(key(k));
                        assertNotNull(v, "present key " + k + " reported absent");
                        ByteBuffer b = ByteBuffer.wrap(v);
                        long version = b.getLong(8);
                        for (int i = 0; i < VALUE_BYTES / 16; i++) {
                            assertEquals(k, b.getLong(), "value of another key returned for key " + k);
                            assertEquals(version, b.getLong(), "value mixing two versions returned for key " + k);
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
            threads.forEach(Thread::start);
            TreeStats readerStats = cluster.computeNode(0).tree().stats();
            long deadline = System.nanoTime() + budgetNanos;
            while (System.nanoTime() < deadline && failure.get() == null && readerStats.tornReads.sum() < 200) {
                Thread.sleep(10);
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("seed " + seed, failure.get());
            }
            assertTrue(readerStats.tornReads.sum() > 0, "no torn read was injected within the budget: " + readerStats);
            assertTrue(cluster.check().ok());
        }
    }
}
