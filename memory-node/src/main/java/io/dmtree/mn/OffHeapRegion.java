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
 *
 * <p><b>Memory it does not own.</b> {@link #overSegments} makes a region over memory mapped by
 * someone else (a shared-memory file, an RDMA registration): consecutive segments of
 * {@code 2^segmentShift} bytes each at their own address, as a file over 2 GiB must be mapped in
 * several pieces. Copies are split at segment boundaries; aligned words never straddle one.
 */
public final class OffHeapRegion implements AutoCloseable {
    private static final Unsafe UNSAFE = UnsafeAccess.UNSAFE;
    private static final Cleaner CLEANER = Cleaner.create();
    public static final int CACHE_LINE = 64;

    private final long base;
    private final long size;
    /** Segment start addresses, or null when the region is one contiguous block at {@link #base}. */
    private final long[] segments;
    private final int segmentShift;
    private final long segmentMask;
    /** Keeps external memory (mappings) reachable as long as the region is. */
    private final Object keepAlive;
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
        this.segments = null;
        this.segmentShift = 63;
        this.segmentMask = -1L >>> 1;
        this.keepAlive = null;
        long a = address;
        CLEANER.register(this, () -> UNSAFE.freeMemory(a));
    }

    private OffHeapRegion(long size, long[] segments, int segmentShift, Object keepAlive) {
        this.base = segments[0];
        this.size = size;
        this.segments = segments.length == 1 ? null : segments.clone();
        this.segmentShift = segments.length == 1 ? 63 : segmentShift;
        this.segmentMask = segments.length == 1 ? -1L >>> 1 : (1L << segmentShift) - 1;
        this.keepAlive = keepAlive;
    }

    /**
     * A region over memory it does not allocate: segment {@code i} covers offsets
     * {@code [i << segmentShift, min(size, (i + 1) << segmentShift))} and starts at address
     * {@code segmentAddresses[i]}. {@code keepAlive} (for example the mapped buffers) stays reachable
     * as long as the region is; the memory must stay valid until then.
     */
    public static OffHeapRegion overSegments(long size, long[] segmentAddresses, int segmentShift, Object keepAlive) {
        if (size < 4096 || size % 8 != 0) {
            throw new IllegalArgumentException("region size must be a multiple of 8 and at least 4096 bytes: " + size);
        }
        if (segmentShift < 12 || segmentShift > 62) {
            throw new IllegalArgumentException("segment shift out of [12, 62]: " + segmentShift);
        }
        long expected = (size + (1L << segmentShift) - 1) >>> segmentShift;
        if (segmentAddresses.length != expected) {
            throw new IllegalArgumentException(size + " bytes in segments of 2^" + segmentShift + " need " + expected
                    + " segment addresses, got " + segmentAddresses.length);
        }
        for (long a : segmentAddresses) {
            if (a == 0 || (a & 7) != 0) {
                throw new IllegalArgumentException("segment address must be non-null and 8-byte aligned: " + a);
            }
        }
        return new OffHeapRegion(size, segmentAddresses, segmentShift, keepAlive);
    }

    /** Contiguous pieces of the region: 1 for a region this class allocated. */
    public int segmentCount() {
        return segments == null ? 1 : segments.length;
    }

    /** The native address of segment {@code i}'s first byte (to register it with an RDMA device). */
    public long segmentAddress(int i) {
        return segments == null ? checkSegment(i, base) : segments[i];
    }

    /** The bytes of segment {@code i}. */
    public long segmentBytes(int i) {
        if (segments == null) {
            return checkSegment(i, size);
        }
        long start = (long) i << segmentShift;
        return Math.min(size - start, 1L << segmentShift);
    }

    private static long checkSegment(int i, long value) {
        if (i != 0) {
            throw new IndexOutOfBoundsException("segment " + i + " of 1");
        }
        return value;
    }

    /** The native address of {@code offset}, which the caller has range-checked. */
    private long address(long offset) {
        return segments == null ? base + offset : segments[(int) (offset >>> segmentShift)] + (offset & segmentMask);
    }

    /** Bytes from {@code offset} to the end of its segment. */
    private long segmentRemaining(long offset) {
        return segments == null ? Long.MAX_VALUE : (1L << segmentShift) - (offset & segmentMask);
    }

    private void copyOutPieces(long offset, Object dstBase, long dstOffset, long length) {
        while (length > 0) {
            long n = Math.min(length, segmentRemaining(offset));
            UNSAFE.copyMemory(null, address(offset), dstBase, dstOffset, n);
            offset += n;
            dstOffset += n;
            length -= n;
        }
    }

    private void copyInPieces(long offset, Object srcBase, long srcOffset, long length) {
        while (length > 0) {
            long n = Math.min(length, segmentRemaining(offset));
            UNSAFE.copyMemory(srcBase, srcOffset, null, address(offset), n);
            offset += n;
            srcOffset += n;
            length -= n;
        }
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
            copyOutPieces(offset, dstBase, dstOffset, length);
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
            copyOutPieces(offset + start, dstBase, dstOffset + start, n);
            Thread.yield();
        }
    }

    /** Copies {@code length} bytes from {@code srcBase/srcOffset} (Unsafe addressing) into the region. */
    public void copyIn(long offset, Object srcBase, long srcOffset, int length) {
        checkRange(offset, length);
        copyInPieces(offset, srcBase, srcOffset, length);
        UNSAFE.storeFence();
        Reference.reachabilityFence(this);
    }

    public long compareAndSwap(long offset, long expected, long desired) {
        checkWord(offset);
        long addr = address(offset);
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
        long before = UNSAFE.getAndAddLong(null, address(offset), delta);
        Reference.reachabilityFence(this);
        return before;
    }

    public long getLongVolatile(long offset) {
        checkWord(offset);
        long v = UNSAFE.getLongVolatile(null, address(offset));
        Reference.reachabilityFence(this);
        return v;
    }

    public void putLongVolatile(long offset, long value) {
        checkWord(offset);
        UNSAFE.putLongVolatile(null, address(offset), value);
        Reference.reachabilityFence(this);
    }

    /** Zeroes {@code length} bytes at {@code offset}. */
    public void zero(long offset, long length) {
        checkRange(offset, length);
        while (length > 0) {
            long n = Math.min(length, segmentRemaining(offset));
            UNSAFE.setMemory(address(offset), n, (byte) 0);
            offset += n;
            length -= n;
        }
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
