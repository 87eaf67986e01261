package io.dmtree.core.tree;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Layout arithmetic, fences, search and the checksum's detection of torn images. */
class NodeImageTest {
    private final NodeLayout layout = new NodeLayout(8, 8, 1024);

    @Test
    void layoutOffsetsAreConsistent() {
        assertEquals(64, NodeLayout.LOW_FENCE_OFFSET);
        assertEquals(72, layout.highFenceOffset());
        assertEquals(80, layout.entriesOffset());
        assertEquals(17, layout.leafEntryBytes());
        assertEquals((1024 - 80) / 17, layout.leafCapacity());
        assertEquals((1024 - 80) / 16, layout.internalCapacity());
        assertTrue(layout.leafEntry(layout.leafCapacity() - 1) + layout.leafEntryBytes() <= 1024);
        NodeLayout odd = new NodeLayout(3, 5, 256);
        assertEquals(72, odd.entriesOffset(), "entries start 8-byte aligned after two 3-byte fences");
        assertTrue(NodeLayout.HEADER_WRITE_BYTES >= NodeLayout.COUNT_OFFSET + 2);
    }

    @Test
    void autoNodeSizeHoldsEnoughEntries() {
        assertEquals(1024, new TreeConfig(8, 8, 0, 0).nodeBytes());
        TreeConfig wide = new TreeConfig(64, 256, 0, 0);
        assertTrue(wide.layout().leafCapacity() >= TreeConfig.MIN_AUTO_FANOUT, wide.toString());
        assertThrows(IllegalArgumentException.class, () -> new TreeConfig(8, 8, 1000, 0));
    }

    @Test
    void keyOrderIsUnsignedAndLongKeysOrderNumerically() {
        long[] sorted = {Long.MIN_VALUE, -5, -1, 0, 1, 255, 256, Long.MAX_VALUE};
        for (int i = 1; i < sorted.length; i++) {
            UnsafeBuffer a = new UnsafeBuffer(KeyOrder.longKeyBytes(sorted[i - 1]));
            UnsafeBuffer b = new UnsafeBuffer(KeyOrder.longKeyBytes(sorted[i]));
            assertTrue(KeyOrder.compare(a, 0, b, 0, 8) < 0, sorted[i - 1] + " < " + sorted[i]);
            assertEquals(sorted[i], KeyOrder.getLongKey(b, 0));
        }
        UnsafeBuffer x = new UnsafeBuffer(new byte[]{1, 2, 3, 4, 5, 6, 7, 8, (byte) 0x80});
        UnsafeBuffer y = new UnsafeBuffer(new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 0x7F});
        assertTrue(KeyOrder.compare(x, 0, y, 0, 9) > 0, "bytes compare unsigned");
    }

    @Test
    void internalSearchPicksTheCoveringChild() {
        NodeImage n = new NodeImage(layout);
        n.init(1, new UnsafeBuffer(KeyOrder.longKeyBytes(0)), 0, null, 0, 0, 0);
        n.setLeftmost(100);
        long[] seps = {10, 20, 30};
        for (int i = 0; i < seps.length; i++) {
            n.insertSeparator(i, new UnsafeBuffer(KeyOrder.longKeyBytes(seps[i])), 0, 101 + i);
        }
        n.insertSeparator(0, new UnsafeBuffer(KeyOrder.longKeyBytes(5)), 0, 99);
        assertEquals(4, n.count());
        assertEquals(100, n.childFor(new UnsafeBuffer(KeyOrder.longKeyBytes(4)), 0));
        assertEquals(99, n.childFor(new UnsafeBuffer(KeyOrder.longKeyBytes(5)), 0));
        assertEquals(101, n.childFor(new UnsafeBuffer(KeyOrder.longKeyBytes(19)), 0));
        assertEquals(103, n.childFor(new UnsafeBuffer(KeyOrder.longKeyBytes(1000)), 0));
    }

    /**
     * Two consistent states of a node; images mixing their cache lines in any combination are
     * rejected, and each pure state is accepted. Line placement order plays no part.
     */
    @Test
    void checksumRejectsEveryMixOfTwoStates() {
        Random rnd = new Random(7);
        NodeImage before = new NodeImage(layout);
        before.init(0, new UnsafeBuffer(new byte[8]), 0, null, 0, 0, 0);
        for (int i = 0; i < 30; i++) {
            before.putLeafEntry(i, new UnsafeBuffer(KeyOrder.longKeyBytes(i)), 0, new UnsafeBuffer(new byte[8]), 0);
        }
        before.seal();
        assertTrue(before.checksumValid());
        int lines = layout.nodeBytes() / 64;
        for (int trial = 0; trial < 2000; trial++) {
            NodeImage after = new NodeImage(layout);
            after.copyFrom(before);
            int slot = rnd.nextInt(layout.leafCapacity());
            byte[] v = new byte[8];
            rnd.nextBytes(v);
            after.putLeafEntry(slot, new UnsafeBuffer(KeyOrder.longKeyBytes(rnd.nextLong())), 0, new UnsafeBuffer(v), 0);
            after.seal();
            assertTrue(after.checksumValid());
            NodeImage mix = new NodeImage(layout);
            boolean allBefore = true;
            boolean allAfter = true;
            byte[] a = new byte[layout.nodeBytes()];
            byte[] b = new byte[layout.nodeBytes()];
            before.copyTo(a);
            after.copyTo(b);
            byte[] m = new byte[layout.nodeBytes()];
            for (int line = 0; line < lines; line++) {
                boolean takeAfter = rnd.nextBoolean();
                byte[] src = takeAfter ? b : a;
                System.arraycopy(src, line * 64, m, line * 64, 64);
                boolean same = java.util.Arrays.equals(a, line * 64, line * 64 + 64, b, line * 64, line * 64 + 64);
                if (!same) {
                    allBefore &= !takeAfter;
                    allAfter &= takeAfter;
                }
            }
            mix.copyFrom(m);
            assertEquals(allBefore || allAfter, mix.checksumValid(), "trial " + trial);
        }
    }
}
