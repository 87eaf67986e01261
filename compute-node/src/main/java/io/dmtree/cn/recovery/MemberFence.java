package io.dmtree.cn.recovery;

import io.dmtree.core.memory.FencedException;

/**
 * This compute node's own side of its fence: once its lease ended it is fenced (the memory nodes
 * refuse its verbs by epoch as soon as they act, and this side refuses them at once, so a holder
 * that learns of its lapse late still issues nothing more after it learnt). {@link #fence} is
 * one-way and idempotent (the first reason is kept); {@link #check} is one volatile read on the
 * path of every verb and allocates only when it throws.
 */
public final class MemberFence {
    private final int computeNode;
    private final long epoch;
    private volatile String why;

    public MemberFence(int computeNode, long epoch) {
        this.computeNode = computeNode;
        this.epoch = epoch;
    }

    public int computeNode() {
        return computeNode;
    }

    public long epoch() {
        return epoch;
    }

    /** Fences this compute node for {@code reason} (the first call wins). */
    public synchronized void fence(String reason) {
        if (why == null) {
            why = reason == null || reason.isBlank() ? "fenced" : reason;
        }
    }

    public boolean fenced() {
        return why != null;
    }

    /** Why this compute node is fenced, or null while it is not. */
    public String reason() {
        return why;
    }

    /** Throws {@link FencedException} once fenced. */
    public void check() {
        String w = why;
        if (w != null) {
            throw new FencedException(computeNode, epoch, w);
        }
    }

    /**
     * What a failure of a verb or a message means once fenced: a {@link FencedException} (with
     * {@code failure} as its cause) if this node is fenced, else {@code failure} itself.
     */
    public RuntimeException translate(RuntimeException failure) {
        String w = why;
        if (w == null || failure instanceof FencedException) {
            return failure;
        }
        FencedException f = new FencedException(computeNode, epoch, w);
        f.initCause(failure);
        return f;
    }

    @Override
    public String toString() {
        return "compute node " + computeNode + " epoch " + epoch + (why == null ? " (not fenced)" : " fenced: " + why);
    }
}
