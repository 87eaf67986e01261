package io.dmtree.core.memory;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class GlobalAddressTest {
    @Test
    void packsNodeAndOffset() {
        long a = GlobalAddress.of(3, 5L << 32);
        assertEquals(3, GlobalAddress.memoryNode(a));
        assertEquals(5L << 32, GlobalAddress.offset(a));
        assertEquals(GlobalAddress.of(3, (5L << 32) + 64), GlobalAddress.plus(a, 64));
        long max = GlobalAddress.of(GlobalAddress.MAX_MEMORY_NODES - 1, GlobalAddress.MAX_OFFSET);
        assertEquals(GlobalAddress.MAX_MEMORY_NODES - 1, GlobalAddress.memoryNode(max));
        assertEquals(GlobalAddress.MAX_OFFSET, GlobalAddress.offset(max));
        assertEquals("mn3:0x500000000", GlobalAddress.toString(a));
    }

    @Test
    void rejectsOutOfRangeParts() {
        assertThrows(IllegalArgumentException.class, () -> GlobalAddress.of(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> GlobalAddress.of(GlobalAddress.MAX_MEMORY_NODES, 0));
        assertThrows(IllegalArgumentException.class, () -> GlobalAddress.of(0, -8));
        assertThrows(IllegalArgumentException.class, () -> GlobalAddress.of(0, GlobalAddress.MAX_OFFSET + 1));
        assertThrows(IllegalArgumentException.class, () -> GlobalAddress.plus(GlobalAddress.of(1, GlobalAddress.MAX_OFFSET), 1));
    }

    @Test
    void batchKeepsOrderResultsAndRoundTrips() {
        VerbBatch b = new VerbBatch();
        for (int i = 0; i < 10; i++) {
            b.faa(GlobalAddress.of(i % 3, 8L * i), i);
        }
        assertEquals(10, b.size());
        assertEquals(3, b.memoryNodesTouched());
        assertEquals(VerbKind.FAA, b.kind(9));
        assertEquals(9, b.operand1(9));
        b.setResult(4, 77);
        assertEquals(77, b.result(4));
        VerbBatch c = new VerbBatch().cas(GlobalAddress.of(0, 8), 1, 2).addAll(b);
        assertEquals(11, c.size());
        assertEquals(VerbKind.CAS, c.kind(0));
        assertEquals(0, c.result(5), "copied requests start without results");
        b.clear();
        assertTrue(b.isEmpty());
        assertThrows(IndexOutOfBoundsException.class, () -> b.kind(0));
    }

    @Test
    void countsAddUpAndSubtract() {
        VerbCounters c = new VerbCounters();
        c.countRead(100);
        c.countWrite(10);
        c.countCas();
        c.countFaa();
        c.countRoundTrip();
        VerbCounts s = c.snapshot();
        assertEquals(4, s.verbs());
        assertEquals(100 + 8 + 8, s.readBytes());
        assertEquals(10 + 16 + 8, s.writeBytes());
        assertEquals(1, s.roundTrips());
        assertEquals(VerbCounts.ZERO, s.minus(s));
        c.reset();
        assertEquals(VerbCounts.ZERO, c.snapshot());
    }
}
