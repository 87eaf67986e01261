package io.dmtree.mn;

import io.dmtree.core.memory.RemoteAccessException;
import org.agrona.UnsafeAccess;
import sun.misc.Unsafe;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A memory node's region as off-heap memory of the JVM: any size that {@code malloc} grants,
 * including more than 2 GiB. Every access is bounds-checked against the region and, for atomics,
 * alignment-checked, before it touches memory. Pages are not touched until used; the owner
 * zeroes what it hands out ({@link #zero}).
 *
 * <p><b>Torn reads.</b> With {@link #setTornReads(boolean)} on, a copy out of the region moves its
 * 64-byte cache lines in a shuffled order and yields between lines, so a concurrent write lands in
 * the middle of it. Tests use this to prove that readers detect tearing without relying on the
 * order in which lines arrive.
 *
 * <p>The memory is freed when the region is closed and no longer reachable; a closed region
 * refuses every access.
 */
public final class OffHeapRegion implements AutoCloseable {
    private static final Unsafe UNSAFE = UnsafeAccess.UNSAFE;
    private static final Cleaner CLEANER = Cleaner.create();
    public static final int CACHE_LINE = 64;

    private final long base;
    private final long size;
    private volatile boolean closed;
    private volatile boolean tornReads;

    public OffHeapRegion(long size) {
        if (size < 4096 || size % 8 != 0) {
            throw new IllegalArgumentException("region size must be a multiple of 8 and at least 4096 bytes: " + size);
        }
        long address;
        try {
            address = UNSAFE.allocateMemory(size);
        } catch (OutOfMemoryError e) {
            throw new IllegalArgumentException("cannot allocate a region of " + size + " bytes: " + e.getMessage(), e);
        }
        this.base = address;
        this.size = size;
        long a = address;
        CLEANER.register(this, () -> UNSAFE.freeMemory(a));
    }

    public long size() {
        return size;
    }

    public void setTornReads(boolean on) {
        this.tornReads = on;
    }

    public boolean tornReads() {
        return tornReads;
    }

    private void checkRange(long offset, long length) {
        if (closed) {
            throw new RemoteAccessException("memory region is closed");
        }
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new RemoteAccessException("access [" + offset + ", " + offset + "+" + length
                    + ") outside region of " + size + " bytes");
        }
    }

    private void checkWord(long offset) {
        checkRange(offset, 8);
        if ((offset & 7) != 0) {
            throw new RemoteAccessException("atomic at unaligned offset " + offset);
        }
    }

    /** Copies {@code length} bytes at {@code offset} to {@code dstBase/dstOffset} (Unsafe addressing). */
    public void copyOut(long offset, Object dstBase, long dstOffset, int length) {
        checkRange(offset, length);
        UNSAFE.fullFence();
        if (tornReads && length > CACHE_LINE) {
            copyOutShuffled(offset, dstBase, dstOffset, length);
        } else {
            UNSAFE.copyMemory(null, base + offset, dstBase, dstOffset, length);
        }
        UNSAFE.loadFence();
        Reference.reachabilityFence(this);
    }

    private void copyOutShuffled(long offset, Object dstBase, long dstOffset, int length) {
        int lines = (length + CACHE_LINE - 1) / CACHE_LINE;
        int[] order = new int[lines];
        for (int i = 0; i < lines; i++) {
            order[i] = i;
        }
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        for (int i = lines - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int line : order) {
            int start = line * CACHE_LINE;
            int n = Math.min(CACHE_LINE, length - start);
            UNSAFE.copyMemory(null, base + offset + start, dstBase, dstOffset + start, n);
            Thread.yield();
        }
    }

    /** Copies {@code length} bytes from {@code srcBase/srcOffset} (Unsafe addressing) into the region. */
    public void copyIn(long offset, Object srcBase, long srcOffset, int length) {
        checkRange(offset, length);
        UNSAFE.copyMemory(srcBase, srcOffset, null, base + offset, length);
        UNSAFE.storeFence();
        Reference.reachabilityFence(this);
    }

    public long compareAndSwap(long offset, long expected, long desired) {
        checkWord(offset);
        long addr = base + offset;
        while (true) {
            long found = UNSAFE.getLongVolatile(null, addr);
            if (found != expected) {
                Reference.reachabilityFence(this);
                return found;
            }
            if (UNSAFE.compareAndSwapLong(null, addr, expected, desired)) {
                Reference.reachabilityFence(this);
                return expected;
            }
        }
    }

    public long fetchAndAdd(long offset, long delta) {
        checkWord(offset);
        long before = UNSAFE.getAndAddLong(null, base + offset, delta);
        Reference.reachabilityFence(this);
        return before;
    }

    public long getLongVolatile(long offset) {
        checkWord(offset);
        long v = UNSAFE.getLongVolatile(null, base + offset);
        Reference.reachabilityFence(this);
        return v;
    }

    public void putLongVolatile(long offset, long value) {
        checkWord(offset);
        UNSAFE.putLongVolatile(null, base + offset, value);
        Reference.reachabilityFence(this);
    }

    /** Zeroes {@code length} bytes at {@code offset}. */
    public void zero(long offset, long length) {
        checkRange(offset, length);
        UNSAFE.setMemory(base + offset, length, (byte) 0);
        UNSAFE.storeFence();
        Reference.reachabilityFence(this);
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Refuses further access. The memory itself is returned when the region becomes unreachable,
     * so a verb racing with close never touches freed memory.
     */
    @Override
    public void close() {
        closed = true;
    }
}
