package io.dmtree.cn.carrier;

import io.dmtree.core.memory.CrashedException;
import io.dmtree.core.memory.CrashingVerbs;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbKind;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.local.LocalVerbs;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The fault-injecting decorator: crash points between verbs, inside batches, inside torn WRITEs. */
class CrashingVerbsTest {
    /** Above the C allocator's mmap threshold ceiling (32 MiB): freeing these regions leaves later ones fresh mappings. */
    private static final MemoryNodeConfig CONFIG = new MemoryNodeConfig(48L << 20, 1L << 20, 64L << 10);
    private MemoryNode mn;
    private CrashingVerbs verbs;
    private long base;

    @BeforeEach
    void setUp() {
        mn = new MemoryNode(0, CONFIG);
        base = mn.allocateChunk(); // zeroed
        verbs = new CrashingVerbs(new LocalVerbs(List.of(mn)));
    }

    @AfterEach
    void tearDown() {
        mn.close();
    }

    private long word(long address) {
        return mn.region().getLongVolatile(GlobalAddress.offset(address));
    }

    private static UnsafeBuffer longOf(long v) {
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        b.putLong(0, v);
        return b;
    }

    @Test
    void countsAndTracesEveryRequestUntilArmed() {
        verbs.trace(true);
        verbs.write(base, longOf(5), 0, 8);
        assertEquals(5, verbs.cas(base, 5, 6));
        assertEquals(6, verbs.faa(base, 1));
        VerbBatch b = new VerbBatch().write(base + 8, longOf(1), 0, 8).faa(base, 1).read(base, new UnsafeBuffer(new byte[8]), 0, 8);
        verbs.post(b);
        assertEquals(6, verbs.issued());
        assertEquals(List.of(VerbKind.WRITE, VerbKind.CAS, VerbKind.FAA, VerbKind.WRITE, VerbKind.FAA, VerbKind.READ),
                verbs.traced().stream().map(CrashingVerbs.Request::kind).toList());
        assertEquals(8, word(base));
        assertFalse(verbs.crashed());
    }

    @Test
    void aCrashPointInsideABatchAppliesItsFirstRequestsAndRefusesEverythingAfter() {
        verbs.write(base, longOf(10), 0, 8);
        verbs.crashAfter(3);
        verbs.faa(base, 1); // 1
        VerbBatch b = new VerbBatch()
                .cas(base, 11, 20)                     // 2
                .write(base + 8, longOf(7), 0, 8)      // 3
                .write(base + 16, longOf(9), 0, 8)     // the crash point
                .faa(base, 100);
        assertThrows(CrashedException.class, () -> verbs.post(b));
        assertEquals(11, b.result(0), "the CAS inside the batch ran and kept its result");
        assertEquals(20, word(base));
        assertEquals(7, word(base + 8));
        assertEquals(0, word(base + 16), "the request at the crash point did not land");
        assertTrue(verbs.crashed());
        assertEquals(4, verbs.issued());
        assertThrows(CrashedException.class, () -> verbs.read(base, new UnsafeBuffer(new byte[8]), 0, 8));
        assertThrows(CrashedException.class, () -> verbs.post(new VerbBatch().faa(base, 1)));
        verbs.disarm();
        assertThrows(CrashedException.class, () -> verbs.faa(base, 1), "a crashed node stays crashed");
        assertThrows(IllegalStateException.class, () -> verbs.crashAfter(5));
        assertEquals(20, word(base));
    }

    @Test
    void crashPointZeroRefusesTheNextVerbAndDisarmLetsEverythingThrough() {
        verbs.crashAfter(2);
        verbs.disarm();
        for (int i = 0; i < 5; i++) {
            verbs.faa(base, 1);
        }
        assertEquals(5, word(base));
        verbs.crashAfter(0);
        assertThrows(CrashedException.class, () -> verbs.cas(base, 5, 6));
        assertEquals(5, word(base));
        assertThrows(IllegalArgumentException.class, () -> new CrashingVerbs(new LocalVerbs(List.of(mn))).crashAfter(-1));
    }

    @Test
    void aTornWriteLandsASeededStrictSubsetOfItsCacheLines() {
        byte[] ones = new byte[256];
        java.util.Arrays.fill(ones, (byte) 1);
        UnsafeBuffer src = new UnsafeBuffer(ones);
        boolean[] everLanded = new boolean[5];
        for (int seed = 0; seed < 200; seed++) {
            try (MemoryNode m = new MemoryNode(0, CONFIG)) {
                CrashingVerbs v = new CrashingVerbs(new LocalVerbs(List.of(m)));
                assertEquals(base, m.allocateChunk(), "the same zeroed chunk on a fresh memory node");
                long at = base + 32; // 256 bytes from mid-line: 5 cache lines
                assertEquals(5, new CrashingVerbs.Request(VerbKind.WRITE, at, 256).cacheLines());
                v.crashTornAfter(1, seed);
                v.faa(base + 4096, 1);
                VerbBatch b = new VerbBatch().write(at, src, 0, 256);
                assertThrows(CrashedException.class, () -> v.post(b));
                int landedLines = 0;
                for (int line = 0; line < 5; line++) {
                    long from = Math.max(GlobalAddress.offset(at), GlobalAddress.offset(base) + line * 64L);
                    long to = Math.min(GlobalAddress.offset(at) + 256, GlobalAddress.offset(base) + line * 64L + 64);
                    int set = 0;
                    for (long o = from; o < to; o++) {
                        set += m.region().getLongVolatile(o & ~7L) != 0 ? 1 : 0;
                    }
                    assertTrue(set == 0 || set == to - from, "line " + line + " landed partly");
                    if (set > 0) {
                        landedLines++;
                        everLanded[line] = true;
                    }
                }
                assertTrue(landedLines > 0 && landedLines < 5, "seed " + seed + ": " + landedLines + " of 5 lines landed");
            }
        }
        for (boolean b : everLanded) {
            assertTrue(b, "every line lands under some seed");
        }
        // a WRITE within one cache line is atomic: at a torn crash point it lands nothing
        verbs.crashTornAfter(0, 1);
        assertThrows(CrashedException.class, () -> verbs.write(base, longOf(3), 0, 8));
        assertEquals(0, word(base));
    }
}
