package io.dmtree.core.tree;

import io.dmtree.core.memory.GlobalAddress;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Redo cell layout, record round trips, and that no torn record passes for one. */
class RedoRecordTest {
    private final NodeLayout nodes = new NodeLayout(8, 8, 1024);

    @Test
    void layoutArithmetic() {
        RedoLayout l = new RedoLayout(nodes);
        assertEquals(64 * ((64 + 1024 + 8 + 63) / 64), l.cellBytes());
        assertEquals(1152, l.cellBytes());
        assertEquals(RedoLayout.BLOCK_HEADER_BYTES, l.cellOffset(0, 0));
        assertEquals(RedoLayout.BLOCK_HEADER_BYTES + 3L * l.cellBytes(), l.cellOffset(1, 1));
        assertEquals(RedoLayout.BLOCK_HEADER_BYTES + 2L * 64 * l.cellBytes(), l.blockBytes(64));
        assertEquals(0, RedoLayout.cellForLevel(0));
        assertEquals(1, RedoLayout.cellForLevel(3));
        assertTrue(NodeLayout.HEADER_WRITE_BYTES + nodes.leafEntryBytes() <= nodes.nodeBytes(), "an entry record fits a cell");
        for (int kind : new int[]{RedoLayout.REDO, RedoLayout.INTENT}) {
            long w = RedoLayout.stateWord(kind, -7);
            assertEquals(kind, RedoLayout.kind(w));
            assertEquals(-7, RedoLayout.seq(w));
        }
        assertEquals(0L, RedoLayout.stateWord(RedoLayout.FREE, 9));
        assertEquals(RedoLayout.FREE, RedoLayout.kind(0L));
        assertEquals(-1, RedoLayout.kind(0x1234_0001_0000_0005L), "no magic");
        assertEquals(-1, RedoLayout.kind((RedoLayout.STATE_MAGIC << 48) | (7L << 32)), "unknown kind");
    }

    private NodeImage leaf(Random rnd) {
        NodeImage n = new NodeImage(nodes);
        n.init(0, new UnsafeBuffer(new byte[8]), 0, null, 0, GlobalAddress.NULL, rnd.nextInt(1000));
        UnsafeBuffer key = new UnsafeBuffer(new byte[8]);
        UnsafeBuffer value = new UnsafeBuffer(new byte[8]);
        for (int i = 0; i < 20; i++) {
            key.putLong(0, rnd.nextLong());
            value.putLong(0, rnd.nextLong());
            n.putLeafEntry(i, key, 0, value, 0);
        }
        n.setCount(20);
        n.seal();
        return n;
    }

    @Test
    void entryAndImageRecordsReadBack() {
        Random rnd = new Random(1);
        NodeImage n = leaf(rnd);
        long node = GlobalAddress.of(1, 1 << 20);
        RedoRecord w = new RedoRecord(nodes);
        int entry = nodes.leafEntry(7);
        int len = w.entry(41, node, n, entry, nodes.leafEntryBytes());
        assertEquals(RedoLayout.CELL_HEADER_BYTES + NodeLayout.HEADER_WRITE_BYTES + nodes.leafEntryBytes(), len);
        RedoRecord r = new RedoRecord(nodes);
        r.buffer().putBytes(0, w.buffer(), 0, len);
        assertEquals(RedoLayout.REDO, r.validKind());
        assertEquals(41, r.seq());
        assertEquals(node, r.node());
        assertEquals(NodeLayout.HEADER_WRITE_BYTES, r.head());
        assertEquals(entry, r.tailAt());
        assertEquals(nodes.leafEntryBytes(), r.tail());
        assertEquals(0, r.intentLevel());
        assertEquals(n.buffer().getInt(NodeLayout.CHECKSUM_OFFSET), r.imageCrc());
        for (int i = 0; i < nodes.leafEntryBytes(); i++) {
            assertEquals(n.buffer().getByte(entry + i), r.buffer().getByte(r.dataOffset() + r.head() + i));
        }

        byte[] sep = {1, 2, 3, 4, 5, 6, 7, 8};
        long child = GlobalAddress.of(1, 5 << 20);
        len = w.image(42, node, n, 3, new UnsafeBuffer(sep), 0, child);
        assertEquals(RedoLayout.CELL_HEADER_BYTES + nodes.nodeBytes() + 8, len);
        r.buffer().setMemory(0, r.layout().cellBytes(), (byte) 0);
        r.buffer().putBytes(0, w.buffer(), 0, len);
        assertEquals(RedoLayout.REDO, r.validKind());
        assertEquals(3, r.intentLevel());
        assertEquals(child, r.intentChild());
        assertArrayEquals(sep, r.intentKey());
        r.buffer().putBytes(0, w.intentWord(), 0, 8);
        assertEquals(RedoLayout.INTENT, r.validKind(), "the retirement to an intent keeps the record valid");
        r.buffer().putByte(len - 1, (byte) (r.buffer().getByte(len - 1) ^ 1));
        assertEquals(RedoLayout.FREE, r.validKind(), "a flipped key byte fails the checksum");
    }

    /**
     * A cell held an older record (retired to FREE or left as an INTENT); a new record's WRITE lands
     * only some of its cache lines. The cell must then read as the new record only when every line
     * that differs landed, and otherwise as nothing or as the old intent, never as a mix.
     */
    @Test
    void aTornRecordIsNeverTakenForARecord() {
        Random rnd = new Random(7);
        RedoRecord old = new RedoRecord(nodes);
        RedoRecord fresh = new RedoRecord(nodes);
        RedoRecord cell = new RedoRecord(nodes);
        int cellBytes = cell.layout().cellBytes();
        byte[] key = new byte[8];
        int sawNew = 0;
        int sawOldIntent = 0;
        int sawNothing = 0;
        for (int trial = 0; trial < 3000; trial++) {
            NodeImage a = leaf(rnd);
            NodeImage b = leaf(rnd);
            long node = GlobalAddress.of(0, 4096L * (1 + rnd.nextInt(1000)));
            rnd.nextBytes(key);
            int oldLen = rnd.nextBoolean()
                    ? old.image(5, node, a, 1 + rnd.nextInt(3), new UnsafeBuffer(key), 0, node + 4096)
                    : old.entry(5, node, a, nodes.leafEntry(rnd.nextInt(20)), nodes.leafEntryBytes());
            boolean oldIntent = old.intentLevel() > 0 && rnd.nextBoolean();
            cell.buffer().setMemory(0, cellBytes, (byte) 0);
            cell.buffer().putBytes(0, old.buffer(), 0, oldLen);
            cell.buffer().putLong(0, oldIntent ? old.intentWord().getLong(0) : 0L);
            byte[] before = new byte[cellBytes];
            cell.buffer().getBytes(0, before);

            int newLen = rnd.nextBoolean()
                    ? fresh.image(6, node, b, rnd.nextInt(2) * (1 + rnd.nextInt(3)), new UnsafeBuffer(key), 0, node + 8192)
                    : fresh.entry(6, node, b, nodes.leafEntry(rnd.nextInt(20)), nodes.leafEntryBytes());
            int lines = (newLen + 63) / 64;
            List<Integer> differing = new ArrayList<>();
            boolean[] land = new boolean[lines];
            boolean complete = true;
            for (int line = 0; line < lines; line++) {
                land[line] = rnd.nextInt(4) != 0;
                boolean differs = false;
                for (int i = line * 64; i < Math.min(newLen, line * 64 + 64); i++) {
                    differs |= before[i] != fresh.buffer().getByte(i);
                }
                if (differs) {
                    differing.add(line);
                    complete &= land[line];
                }
            }
            for (int line = 0; line < lines; line++) {
                if (land[line]) {
                    int from = line * 64;
                    cell.buffer().putBytes(from, fresh.buffer(), from, Math.min(newLen, from + 64) - from);
                }
            }
            int kind = cell.validKind();
            if (complete) {
                assertEquals(RedoLayout.REDO, kind, "every differing line landed: the new record");
                sawNew++;
            } else if (kind == RedoLayout.REDO) {
                fail("a torn new record (lines " + differing + " differ, landed " + java.util.Arrays.toString(land)
                        + ") was taken for a REDO record");
            } else if (kind == RedoLayout.INTENT) {
                assertTrue(oldIntent, "an intent appeared from nowhere");
                assertEquals(5, cell.seq());
                assertEquals(old.intentChild(), cell.intentChild());
                assertArrayEquals(old.intentKey(), cell.intentKey());
                sawOldIntent++;
            } else {
                sawNothing++;
            }
        }
        assertTrue(sawNew > 0 && sawOldIntent > 0 && sawNothing > 0, sawNew + " new, " + sawOldIntent + " old intents, "
                + sawNothing + " nothing");
    }
}
