package io.dmtree.lock;

import io.dmtree.lock.modular.ModularLockConfig;
import io.dmtree.lock.modular.ModularLockDesign;
import io.dmtree.lock.modular.LockAssignment;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ModularLockStressTest {
    static final long MILLIS = Long.getLong("dmtree.stress.millis", 1500);

    static long seed() {
        return Long.getLong("dmtree.stress.seed", System.nanoTime());
    }

    @Test
    void modularExclusiveAndSharedOnFewLocks() throws Exception {
        LockStress.Result r = LockStress.run(ModularLockDesign.modular(), seed(), 1, 3, 3, 2, 0.5, MILLIS);
        assertNull(r.failure(), "seed " + r.seed() + ": " + r.failure());
        assertTrue(r.operations() > 0);
        assertTrue(r.maxSharedOverlap() > 1, "shared holders never overlapped (seed " + r.seed() + ")");
    }

    @Test
    void modularNoLocalHandover() throws Exception {
        ModularLockDesign d = new ModularLockDesign(LockAssignment.MODULAR, ModularLockConfig.defaults().withMaxLocalGrants(1));
        LockStress.Result r = LockStress.run(d, seed(), 2, 3, 2, 3, 0.3, MILLIS);
        assertNull(r.failure(), "seed " + r.seed() + ": " + r.failure());
    }

    @Test
    void mnGrantExclusiveAndShared() throws Exception {
        LockStress.Result r = LockStress.run(ModularLockDesign.mnGrant(), seed(), 1, 3, 2, 2, 0.5, MILLIS);
        assertNull(r.failure(), "seed " + r.seed() + ": " + r.failure());
        assertTrue(r.maxSharedOverlap() > 1, "shared holders never overlapped (seed " + r.seed() + ")");
    }
}
