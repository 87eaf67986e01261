package io.dmtree.cn;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A resumable cursor over a key range of a {@link DmIndex}, ascending or descending: it fetches
 * entries a batch at a time with a scan (or a reverse scan) that starts at the last key it returned,
 * so it holds nothing in the index between batches and can be resumed anywhere, also by another
 * thread or compute node, from {@link #position()} with {@link #resumeAfter(byte[])}.
 *
 * <p>Weakly consistent, like a scan: it returns every key of its range that was present from its
 * first batch to its last, no key absent for all that time, and keys in strictly increasing (or
 * decreasing) order, so never one twice. Not thread-safe itself.
 */
public final class Cursor implements Iterator<DmIndex.Entry> {
    private final DmIndex index;
    private final byte[] low;
    private final byte[] high;
    private final boolean descending;
    private final int batch;
    private final ArrayDeque<DmIndex.Entry> buffered = new ArrayDeque<>();
    private byte[] last;
    private boolean exhausted;

    /** Over {@code low <= key < high}, either bound null for none. */
    Cursor(DmIndex index, byte[] low, byte[] high, boolean descending, int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("a cursor batch is at least 1 entry: " + batch);
        }
        int width = index.keyBytes();
        for (byte[] bound : new byte[][] {low, high}) {
            if (bound != null && bound.length != width) {
                throw new IllegalArgumentException("cursor bound must be " + width + " bytes, got " + bound.length);
            }
        }
        this.index = index;
        this.low = low == null ? null : low.clone();
        this.high = high == null ? null : high.clone();
        this.descending = descending;
        this.batch = batch;
        this.exhausted = low != null && high != null && Arrays.compareUnsigned(low, high) >= 0;
    }

    /** Continues after {@code key} (as if the cursor had just returned it); drops what was fetched. */
    public Cursor resumeAfter(byte[] key) {
        if (key == null || key.length != index.keyBytes()) {
            throw new IllegalArgumentException("cursor position must be " + index.keyBytes() + " bytes");
        }
        buffered.clear();
        last = key.clone();
        exhausted = low != null && high != null && Arrays.compareUnsigned(low, high) >= 0;
        return this;
    }

    /** The key last returned (a copy), or null before the first. */
    public byte[] position() {
        return last == null ? null : last.clone();
    }

    public boolean descending() {
        return descending;
    }

    @Override
    public boolean hasNext() {
        if (buffered.isEmpty() && !exhausted) {
            fill();
        }
        return !buffered.isEmpty();
    }

    @Override
    public DmIndex.Entry next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the cursor is past the end of its range");
        }
        DmIndex.Entry e = buffered.removeFirst();
        last = e.key().clone();
        return e;
    }

    private void fill() {
        int width = index.keyBytes();
        byte[] start;
        if (last != null) {
            start = last;
        } else if (!descending) {
            start = low != null ? low : new byte[width];
        } else if (high != null) {
            start = high;
        } else {
            start = new byte[width];
            Arrays.fill(start, (byte) 0xFF);
        }
        int asked = batch + 1; // the start key itself may come back and is skipped
        List<DmIndex.Entry> got = descending ? index.reverseScan(start, asked) : index.scan(start, asked);
        int taken = 0;
        for (DmIndex.Entry e : got) {
            byte[] k = e.key();
            if (!descending) {
                if (last != null && Arrays.compareUnsigned(k, last) <= 0) {
                    continue;
                }
                if (high != null && Arrays.compareUnsigned(k, high) >= 0) {
                    exhausted = true;
                    break;
                }
            } else {
                if ((last != null && Arrays.compareUnsigned(k, last) >= 0)
                        || (last == null && high != null && Arrays.compareUnsigned(k, high) >= 0)) {
                    continue;
                }
                if (low != null && Arrays.compareUnsigned(k, low) < 0) {
                    exhausted = true;
                    break;
                }
            }
            buffered.addLast(e);
            taken++;
        }
        if (got.size() < asked) {
            exhausted = true;
        } else if (taken == 0 && !exhausted) {
            // every key fetched was at or beyond the position: cannot happen with strictly ordered scans
            throw new IllegalStateException("a cursor batch made no progress");
        }
    }
}
