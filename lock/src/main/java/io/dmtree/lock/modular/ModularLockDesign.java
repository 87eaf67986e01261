package io.dmtree.lock.modular;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.lock.recovery.RecoveryPreconditions;

/**
 * The modular lock: the four lock managers placed by a {@link LockAssignment}, with the mode,
 * holder and waiter managers fused on the MN ({@link MnLockQueue}), the grant manager on the CNs
 * ({@code modular}) or on the MN ({@code modular-mn-grant}), and a cohort of each CN's threads
 * ({@link Cohort}) in front.
 *
 * <p>Verb budget per lock operation (exact, asserted by tests): an uncontended acquire is one FAA;
 * a release is one FAA and one READ posted after the caller's write-back in one round trip; a
 * waiter adds one WRITE of its entry and, with the CN grant manager, nothing while it waits; a
 * local handover inside a cohort costs no MN verb.
 *
 * <p>Recovery of a departed compute node: {@link ModularRecovery}. Its waits: {@link MnLockQueue}
 * (a releaser gives up on the entry of a departed waiter), {@link GrantManager} (a waiter looks at
 * the MN state itself when membership changed). At most
 * {@link ModularLockLayout#MAX_COMPUTE_NODES} compute nodes use one modular lock.
 */
public final class ModularLockDesign implements LockDesign {
    private final LockAssignment assignment;
    private final ModularLockConfig config;

    public ModularLockDesign(LockAssignment assignment, ModularLockConfig config) {
        this.assignment = assignment;
        this.config = config;
    }

    public static ModularLockDesign modular() {
        return new ModularLockDesign(LockAssignment.MODULAR, ModularLockConfig.defaults());
    }

    public static ModularLockDesign mnGrant() {
        return new ModularLockDesign(LockAssignment.MN_GRANT, ModularLockConfig.defaults());
    }

    public LockAssignment assignment() {
        return assignment;
    }

    public ModularLockConfig config() {
        return config;
    }

    @Override
    public String name() {
        return assignment.name();
    }

    @Override
    public int lockBytes() {
        return ModularLockLayout.lockBytes(config.queueSlots());
    }

    @Override
    public ModularLockClient newClient(LockContext context) {
        return newClient(context, TenureHook.NONE);
    }

    /** A client whose tenures call {@code hook} at their edges (a design built on this one). */
    public ModularLockClient newClient(LockContext context, TenureHook hook) {
        if (context.computeNodeCount() > ModularLockLayout.MAX_COMPUTE_NODES) {
            throw new IllegalArgumentException("lock design " + name() + " serves at most "
                    + ModularLockLayout.MAX_COMPUTE_NODES + " compute nodes (its lock word names each one's request);"
                    + " the cluster has " + context.computeNodeCount());
        }
        if (context.computeNodeCount() > config.queueSlots()) {
            throw new IllegalArgumentException("lock design " + name() + " has " + config.queueSlots()
                    + " waiter entries per lock and so serves at most " + config.queueSlots() + " compute nodes; the"
                    + " cluster has " + context.computeNodeCount() + " (raise queueSlots in ModularLockConfig)");
        }
        if (context.computeNode() > ModularLockLayout.MAX_ID || context.threads().capacity() > ModularLockLayout.MAX_ID + 1) {
            throw new IllegalArgumentException("compute node id " + context.computeNode() + " or thread capacity "
                    + context.threads().capacity() + " does not fit a 16-bit waiter entry field");
        }
        return new ModularLockClient(context, assignment, config, hook);
    }

    @Override
    public RecoveryReport recover(RecoveryContext context, int lapsedComputeNode) {
        if (!(context.client() instanceof ModularLockClient c) || c.assignment() != assignment) {
            throw new IllegalArgumentException("recovery of " + name() + " needs a client of " + name() + ", got "
                    + context.client());
        }
        RecoveryPreconditions.requireDeparted(c.context(), lapsedComputeNode, name());
        return new ModularRecovery(c).run(name(), context, lapsedComputeNode);
    }

    @Override
    public String toString() {
        return name() + " " + config;
    }
}
