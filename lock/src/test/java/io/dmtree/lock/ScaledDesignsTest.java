package io.dmtree.lock;

import io.dmtree.core.lock.LockDesign;
import io.dmtree.lock.modular.ModularLockConfig;
import io.dmtree.lock.modular.ModularLockDesign;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Designs built for a dilated (modelled) network keep their kind and scale their time constants. */
class ScaledDesignsTest {
    @Test
    void everyDesignExistsScaledAndTheModularTenureBoundScales() {
        for (String name : LockDesigns.names()) {
            LockDesign d = LockDesigns.byName(name, 200);
            assertEquals(name, d.name());
            assertEquals(LockDesigns.byName(name).lockBytes(), d.lockBytes());
        }
        ModularLockDesign m = (ModularLockDesign) LockDesigns.byName("modular", 50);
        assertEquals(ModularLockConfig.DEFAULT_MAX_REMOTE_WAIT_NANOS * 50, m.config().maxRemoteWaitNanos());
        assertEquals(ModularLockConfig.defaults().maxLocalGrants(), m.config().maxLocalGrants());
        ModularLockDesign one = (ModularLockDesign) LockDesigns.byName("modular", 1);
        assertEquals(ModularLockConfig.DEFAULT_MAX_REMOTE_WAIT_NANOS, one.config().maxRemoteWaitNanos());
        io.dmtree.lock.adaptive.AdaptiveLockDesign a = (io.dmtree.lock.adaptive.AdaptiveLockDesign) LockDesigns.byName("adaptive", 50);
        assertEquals(io.dmtree.lock.adaptive.AdaptiveLockConfig.DEFAULT_WORD_SPIN_NANOS * 50, a.config().wordSpinNanos());
        assertEquals(ModularLockConfig.DEFAULT_MAX_REMOTE_WAIT_NANOS * 50, a.config().queue().maxRemoteWaitNanos());
        assertThrows(IllegalArgumentException.class, () -> LockDesigns.byName("modular", 0.5));
        assertThrows(IllegalArgumentException.class, () -> LockDesigns.byName("no-such", 2));
    }
}
