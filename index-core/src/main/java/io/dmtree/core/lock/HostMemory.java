package io.dmtree.core.lock;

/**
 * CPU access, from a compute node that shares a host with a memory node, to that memory node's
 * memory: loads, stores and compare-and-swap on 8-byte words at global addresses of that node.
 * These are not network verbs and are not counted as MN traffic.
 */
public interface HostMemory {
    long getVolatile(long address);

    void putVolatile(long address, long value);

    /** Returns the word found (equal to {@code expected} on success). */
    long compareAndSwap(long address, long expected, long desired);
}
