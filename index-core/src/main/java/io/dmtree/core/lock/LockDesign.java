package io.dmtree.core.lock;

/**
 * A lock algorithm whose state lives in memory-node memory: how many zero-initialised bytes one
 * lock takes there, and how a compute node builds its client. The tree knows locks only through
 * this interface and {@link LockClient}.
 */
public interface LockDesign {
    /** The name users select it by, e.g. {@code cas-spin}. */
    String name();

    /** Bytes of MN memory per lock: a positive multiple of 8; the lock starts as all zeros. */
    int lockBytes();

    /** A client for one compute node; thread-safe, shared by all of that node's threads. */
    LockClient newClient(LockContext context);
}
