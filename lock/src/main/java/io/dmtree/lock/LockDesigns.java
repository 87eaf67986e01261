package io.dmtree.lock;

import io.dmtree.core.lock.LockDesign;
import io.dmtree.lock.adaptive.AdaptiveLockConfig;
import io.dmtree.lock.adaptive.AdaptiveLockDesign;
import io.dmtree.lock.baseline.ALock;
import io.dmtree.lock.baseline.CasBackoffLock;
import io.dmtree.lock.baseline.CasSpinLock;
import io.dmtree.lock.baseline.DslrLock;
import io.dmtree.lock.baseline.DslrLockLayout;
import io.dmtree.lock.baseline.HoclLock;
import io.dmtree.lock.baseline.RdmaMcsLock;
import io.dmtree.lock.modular.ModularLockConfig;
import io.dmtree.lock.modular.ModularLockDesign;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Every lock design by the name users select it with: the modular lock in its two assignments, the
 * adaptive lock that switches between a word assignment and the modular one, and the baselines. Each call builds a fresh design with its default settings.
 */
public final class LockDesigns {
    private static final Map<String, Supplier<LockDesign>> DESIGNS = new LinkedHashMap<>();

    static {
        DESIGNS.put("modular", ModularLockDesign::modular);
        DESIGNS.put("modular-mn-grant", ModularLockDesign::mnGrant);
        DESIGNS.put(CasSpinLock.NAME, CasSpinLock::new);
        DESIGNS.put(CasBackoffLock.NAME, CasBackoffLock::new);
        DESIGNS.put(DslrLock.NAME, DslrLock::new);
        DESIGNS.put(RdmaMcsLock.NAME, RdmaMcsLock::new);
        DESIGNS.put(ALock.NAME, ALock::new);
        DESIGNS.put(HoclLock.NAME, HoclLock::new);
        DESIGNS.put(AdaptiveLockDesign.NAME, AdaptiveLockDesign::new);
    }

    private LockDesigns() {
    }

    /** The design called {@code name}; an {@link IllegalArgumentException} lists the names when unknown. */
    public static LockDesign byName(String name) {
        Supplier<LockDesign> s = DESIGNS.get(name);
        if (s == null) {
            throw new IllegalArgumentException("unknown lock design '" + name + "'; known: " + String.join(", ", names()));
        }
        return s.get();
    }

    /**
     * The design called {@code name} with every time constant of its defaults multiplied by
     * {@code timeScale}: the dilation of a modelled network, so that backoffs (cas-backoff, dslr)
     * and the modular lock's tenure bound keep their proportion to the modelled round trip. Designs
     * without time constants are as {@link #byName(String)} gives them.
     */
    public static LockDesign byName(String name, double timeScale) {
        if (!(timeScale >= 1) || timeScale > 1e6) {
            throw new IllegalArgumentException("time scale must be in [1, 1e6]: " + timeScale);
        }
        LockDesign d = byName(name);
        if (timeScale == 1) {
            return d;
        }
        if (d instanceof ModularLockDesign m) {
            return new ModularLockDesign(m.assignment(), m.config().withMaxRemoteWaitNanos(
                    scaled(ModularLockConfig.DEFAULT_MAX_REMOTE_WAIT_NANOS, timeScale)));
        }
        if (d instanceof AdaptiveLockDesign a) {
            AdaptiveLockConfig c = a.config();
            return new AdaptiveLockDesign(c.withQueue(c.queue().withMaxRemoteWaitNanos(
                    scaled(ModularLockConfig.DEFAULT_MAX_REMOTE_WAIT_NANOS, timeScale)))
                    .withWordSpinNanos(scaled(AdaptiveLockConfig.DEFAULT_WORD_SPIN_NANOS, timeScale)));
        }
        if (d instanceof CasBackoffLock) {
            return new CasBackoffLock(scaled(CasBackoffLock.DEFAULT_BASE_NANOS, timeScale),
                    scaled(CasBackoffLock.DEFAULT_CAP_NANOS, timeScale));
        }
        if (d instanceof DslrLock) {
            return new DslrLock(DslrLockLayout.COUNT_MAX, scaled(DslrLock.DEFAULT_BASE_BACKOFF_NANOS, timeScale),
                    scaled(DslrLock.DEFAULT_MAX_BACKOFF_NANOS, timeScale));
        }
        return d;
    }

    private static long scaled(long nanos, double scale) {
        return Math.round(nanos * scale);
    }

    public static List<String> names() {
        return List.copyOf(DESIGNS.keySet());
    }

    /** The design the tree uses when none is named: the modular lock. */
    public static String defaultName() {
        return "modular";
    }
}
