package io.dmtree.cn;

import io.dmtree.core.layout.ChunkTableLayout;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.CountingVerbs;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.InJvmMessageBus;
import io.dmtree.core.region.ChunkTable;
import io.dmtree.core.tree.IndexSuperblock;
import io.dmtree.core.tree.NodeImage;
import io.dmtree.core.tree.NodeLayout;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.lock.LockDesigns;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.local.LocalVerbs;
import io.dmtree.mn.local.LocalControlPlane;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The root pointer's ABA under reuse: a reader whose cached root pointer names a root another
 * compute node has just removed (a root shrink) must not swing the pointer itself. Were it to CAS
 * the pointer from the removed root's address to that root's forward, the CAS could land after
 * the block was freed and installed as a new root, and would throw the new root away for a stale
 * child. The reader's verbs hold any CAS of the root pointer until the block has become the root
 * again; afterwards the root pointer must still name it.
 */
class RootSwingReuseTest {
    private static final TreeConfig TREE = new TreeConfig(8, 8, 256, 1L << 20);
    private static final MemoryNodeConfig MN = new MemoryNodeConfig(16L << 20, 64L << 10, 64L << 10);

    /** Verbs that, when armed, hold the first CAS of the root pointer until released. */
    private static final class HoldingRootCas implements Verbs {
        final Verbs inner;
        volatile boolean armed;
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        HoldingRootCas(Verbs inner) {
            this.inner = inner;
        }

        @Override
        public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
            inner.read(address, dst, dstOffset, length);
        }

        @Override
        public void write(long address, DirectBuffer src, int srcOffset, int length) {
            inner.write(address, src, srcOffset, length);
        }

        @Override
        public long cas(long address, long expected, long desired) {
            if (armed && address == IndexSuperblock.ROOT_POINTER) {
                armed = false;
                held.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return inner.cas(address, expected, desired);
        }

        @Override
        public long faa(long address, long delta) {
            return inner.faa(address, delta);
        }

        @Override
        public void post(VerbBatch batch) {
            inner.post(batch);
        }

        @Override
        public int memoryNodeCount() {
            return inner.memoryNodeCount();
        }
    }

    @Test
    void aReaderNeverSwingsTheRootPointerToAStaleChild() throws Exception {
        MemoryNode memoryNode = new MemoryNode(0, MN);
        List<MemoryNode> memoryNodes = List.of(memoryNode);
        LocalControlPlane controlPlane = new LocalControlPlane(memoryNodes);
        InJvmMessageBus bus = new InJvmMessageBus();
        HoldingRootCas holding = new HoldingRootCas(new LocalVerbs(memoryNodes));
        Verbs verbs = LocalVerbs.counted(memoryNodes);
        try (ComputeNode writerNode = new ComputeNode(0, 2, verbs, controlPlane, bus.join(), TREE,
                LockDesigns.byName("cas-spin"), 4);
             ComputeNode readerNode = new ComputeNode(1, 2, CountingVerbs.over(holding), controlPlane, bus.join(), TREE,
                     LockDesigns.byName("cas-spin"), 4)) {
            writerNode.tree().reusing(true);
            DmIndex writer = writerNode.index();
            DmIndex reader = readerNode.index();
            int n = 40; // a few leaves under one internal root
            for (long k = 0; k < n; k++) {
                writer.put(k, k);
            }
            long oldRoot = rootPointer(verbs);
            NodeLayout layout = TREE.layout();
            NodeImage image = new NodeImage(layout);
            verbs.read(oldRoot, image.buffer(), 0, layout.nodeBytes());
            assertEquals(1, image.level(), "the tree should be two levels high");
            for (long k = 0; k < n; k++) {
                assertEquals(OptionalLong.of(k), reader.get(k)); // the reader's cached root pointer is now oldRoot
            }
            for (long k = 1; k < n; k++) {
                writer.delete(k); // merges down to one leaf: the root shrinks, its block is freed
            }
            long leaf = rootPointer(verbs);
            assertNotEquals(oldRoot, leaf, "the root did not shrink");
            verbs.read(oldRoot, image.buffer(), 0, layout.nodeBytes());
            assertTrue(image.isRemoved(), "the old root is not written removed");
            assertEquals(leaf, image.forward());
            assertEquals(ChunkTableLayout.BLOCK_FREE, blockState(verbs, oldRoot), "the old root's block was not freed");

            // the reader, without cached internal nodes, starts at its stale root pointer
            readerNode.tree().cache().clear();
            holding.armed = true;
            AtomicReference<Object> got = new AtomicReference<>();
            Thread lookup = new Thread(() -> {
                try {
                    got.set(reader.get(0L));
                } catch (Throwable e) {
                    got.set(e);
                }
            });
            lookup.setDaemon(true);
            lookup.start();
            boolean casHeld = holding.held.await(2, TimeUnit.SECONDS); // false: the reader did not try to swing
            if (!casHeld) {
                lookup.join(TimeUnit.SECONDS.toMillis(10));
            }

            // meanwhile the freed block is handed out again and becomes the root, over the one leaf (as a
            // growth that got the block would install it; with one child it is a valid, shrinkable root)
            ChunkTable table = ChunkTable.open(verbs);
            long wordAt = blockWordAddress(table, oldRoot);
            long free = wordAt(verbs, wordAt);
            assertEquals(free, verbs.cas(wordAt, free, ChunkTableLayout.word(ChunkTableLayout.BLOCK_NODE, 0, 0)));
            long born = verbs.faa(GlobalAddress.of(0, RegionLayout.REUSE_ERA_OFFSET), 1) + 1;
            NodeImage newRoot = new NodeImage(layout);
            newRoot.init(1, new UnsafeBuffer(new byte[TREE.keyBytes()]), 0, null, 0, GlobalAddress.NULL, 0);
            newRoot.setLeftmost(leaf);
            newRoot.setCount(0);
            newRoot.setBornEra(born);
            newRoot.seal();
            verbs.write(oldRoot, newRoot.buffer(), 0, layout.nodeBytes());
            assertEquals(leaf, verbs.cas(IndexSuperblock.ROOT_POINTER, leaf, oldRoot));

            holding.release.countDown();
            lookup.join(TimeUnit.SECONDS.toMillis(10));
            assertFalse(lookup.isAlive(), "the lookup did not finish");
            assertEquals(OptionalLong.of(0), got.get(), "the lookup's answer");
            assertEquals(oldRoot, rootPointer(verbs), "a reader's late CAS swung the root pointer away from the reused root"
                    + (casHeld ? " (it tried to swing the pointer)" : ""));
            for (long k = 1; k < n; k++) {
                writer.put(k, k); // grows under the reused root
            }
            for (long k = 0; k < n; k++) {
                assertEquals(OptionalLong.of(k), reader.get(k), "get " + k);
            }
            TreeReport report = writerNode.check();
            assertTrue(report.ok(), report::toString);
            assertEquals(n, report.keys());
            assertEquals(0, report.region().leaked(), report::toString);
        } finally {
            memoryNode.close();
        }
    }

    private static long rootPointer(Verbs verbs) {
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        verbs.read(IndexSuperblock.ROOT_POINTER, b, 0, 8);
        return b.getLong(0);
    }

    private static long wordAt(Verbs verbs, long address) {
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        verbs.read(address, b, 0, 8);
        return b.getLong(0);
    }

    private static long blockWordAddress(ChunkTable table, long node) {
        int mn = GlobalAddress.memoryNode(node);
        ChunkTableLayout t = table.layout(mn);
        long offset = GlobalAddress.offset(node);
        long c = t.chunkOf(offset);
        return GlobalAddress.of(mn, t.blockWord(c, (offset - t.chunkOffset(c)) / TREE.nodeBytes()));
    }

    private static int blockState(Verbs verbs, long node) {
        return ChunkTableLayout.state(wordAt(verbs, blockWordAddress(ChunkTable.open(verbs), node)));
    }
}
