package io.dmtree.cn.crash;

import io.dmtree.core.cn.CnThreads;
import io.dmtree.core.lock.HostMemory;
import io.dmtree.core.lock.HostMemoryContext;
import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;

/**
 * A lock design whose clients see the membership view {@code liveness} instead of whatever their
 * compute node's context says: how an in-process rig of compute nodes, which reports its stopped
 * members departed itself, gives every lock client the same view. Name, lock size and recovery
 * are the wrapped design's; a client's context keeps its host memory node, if any.
 */
public final class LivenessBoundDesign implements LockDesign {
    private final LockDesign design;
    private final MemberLiveness liveness;

    public LivenessBoundDesign(LockDesign design, MemberLiveness liveness) {
        if (design == null || liveness == null) {
            throw new IllegalArgumentException("a liveness-bound design needs a design and a liveness view");
        }
        this.design = design;
        this.liveness = liveness;
    }

    /** The design wrapped. */
    public LockDesign design() {
        return design;
    }

    public MemberLiveness liveness() {
        return liveness;
    }

    @Override
    public String name() {
        return design.name();
    }

    @Override
    public int lockBytes() {
        return design.lockBytes();
    }

    @Override
    public LockClient newClient(LockContext context) {
        return design.newClient(new Bound(context, liveness));
    }

    @Override
    public RecoveryReport recover(RecoveryContext context, int lapsedComputeNode) {
        return design.recover(context, lapsedComputeNode);
    }

    @Override
    public String toString() {
        return design.name() + " under " + liveness;
    }

    /** {@code context} with {@code liveness} in place of its own view. */
    private record Bound(LockContext context, MemberLiveness liveness) implements HostMemoryContext {
        @Override
        public int computeNode() {
            return context.computeNode();
        }

        @Override
        public int computeNodeCount() {
            return context.computeNodeCount();
        }

        @Override
        public Verbs verbs() {
            return context.verbs();
        }

        @Override
        public CnMessaging messaging() {
            return context.messaging();
        }

        @Override
        public CnThreads threads() {
            return context.threads();
        }

        @Override
        public int hostMemoryNode() {
            return context instanceof HostMemoryContext h ? h.hostMemoryNode() : -1;
        }

        @Override
        public HostMemory hostMemory() {
            return context instanceof HostMemoryContext h ? h.hostMemory() : null;
        }
    }
}
