package io.dmtree.lock;

import io.dmtree.core.lock.LockDesign;
import io.dmtree.lock.baseline.DslrLock;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded stress of every registered design on 3 logical CNs x 3 threads over 2 MNs (run with
 * -Ddmtree.stress.seed=N to repeat a seed, -Ddmtree.stress.millis=M for a longer budget).
 */
class AllDesignsStressTest {
    static final long MILLIS = Long.getLong("dmtree.stress.millis", 1000);
    /** Designs whose shared holders may overlap. */
    static final Set<String> SHARED_CAPABLE = Set.of("modular", "modular-mn-grant", "dslr");

    static List<String> designs() {
        return LockDesigns.names();
    }

    @ParameterizedTest
    @MethodSource("designs")
    void mutualExclusionAndSharedOverlap(String name) throws Exception {
        long seed = Long.getLong("dmtree.stress.seed", System.nanoTime());
        LockDesign d = LockDesigns.byName(name);
        LockStress.Result r = LockStress.run(d, seed, 2, 3, 3, 3, 0.5, MILLIS);
        System.out.printf("  %s: %d operations, max shared overlap %d%n", name, r.operations(), r.maxSharedOverlap());
        assertNull(r.failure(), name + " seed " + seed + ": " + r.failure());
        assertTrue(r.operations() > 0, name + " made no progress (seed " + seed + ")");
        if (SHARED_CAPABLE.contains(name)) {
            assertTrue(r.maxSharedOverlap() > 1, name + ": shared holders never overlapped (seed " + seed + ")");
        } else {
            assertEquals(1, r.maxSharedOverlap(), name + " treats shared as exclusive");
        }
    }

    /** DSLR with its counters reset every 8 tickets: the overflow handling runs thousands of times. */
    @Test
    void dslrCounterResetUnderStress() throws Exception {
        long seed = Long.getLong("dmtree.stress.seed", System.nanoTime());
        LockStress.Result r = LockStress.run(new DslrLock(8, 0, 4_000), seed, 1, 3, 2, 2, 0.5, MILLIS);
        assertNull(r.failure(), "seed " + seed + ": " + r.failure());
        assertTrue(r.operations() > 100, "too few operations to cross resets: " + r.operations());
    }
}
