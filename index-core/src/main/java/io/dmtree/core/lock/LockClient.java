package io.dmtree.core.lock;

import io.dmtree.core.memory.VerbBatch;

/**
 * One compute node's side of a lock design. A lock is named by the global address of its MN
 * state. The calling thread is the holder: the thread that acquires must be the thread that
 * releases, and a thread holds at most one lock of one client at a time unless a design says
 * otherwise.
 */
public interface LockClient extends AutoCloseable {
    /** Blocks until the calling thread holds {@code lock} in {@code mode}. */
    void acquire(long lock, LockMode mode);

    /**
     * Releases {@code lock}. The requests already in {@code writeBack} (may be null or empty) go
     * out before the release's own verbs in the same batch: the design appends its release verbs
     * to that batch and posts it, so "write back, then unlock" costs one round trip when the
     * release needs only verbs to the same memory node. On return the batch holds what was
     * posted; the caller clears it before reuse.
     */
    void release(long lock, LockMode mode, VerbBatch writeBack);

    /**
     * The design's own client under any decorators (what {@link LockDesign#recover} expects in its
     * {@link RecoveryContext}); a decorator returns its delegate's.
     */
    default LockClient designClient() {
        return this;
    }

    @Override
    default void close() {
    }
}
