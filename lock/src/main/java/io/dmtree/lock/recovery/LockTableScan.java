package io.dmtree.lock.recovery;

import io.dmtree.core.lock.LockTable;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Reads the lock table of every memory node in large READs (recovery's scan) and hands each lock
 * slot's first {@code bytesPerLock} bytes to a visitor. The copy is a snapshot per READ, not an
 * atomic one: visitors re-read what they act on.
 */
public final class LockTableScan {
    /** Bytes per READ of the scan. */
    public static final int CHUNK_BYTES = 64 << 10;

    /** Called for each lock slot; {@code buffer} holds its bytes at {@code offset}. */
    @FunctionalInterface
    public interface Visitor {
        void visit(long lock, UnsafeBuffer buffer, int offset);
    }

    private LockTableScan() {
    }

    /** Scans every slot of {@code table} on memory nodes {@code 0 .. memoryNodes-1}; returns the slots visited. */
    public static long scan(Verbs verbs, LockTable table, int memoryNodes, int bytesPerLock, Visitor visitor) {
        if (bytesPerLock < 8 || bytesPerLock > table.stride() || bytesPerLock % 8 != 0) {
            throw new IllegalArgumentException("bytes per lock must be a multiple of 8 in [8, " + table.stride() + "]: "
                    + bytesPerLock);
        }
        int stride = table.stride();
        int perChunk = Math.max(1, CHUNK_BYTES / stride);
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[perChunk * stride]);
        long visited = 0;
        for (int mn = 0; mn < memoryNodes; mn++) {
            for (long slot = 0; slot < table.slots(); slot += perChunk) {
                int n = (int) Math.min(perChunk, table.slots() - slot);
                long first = table.lockAt(mn, slot);
                verbs.read(first, buffer, 0, (n - 1) * stride + bytesPerLock);
                for (int i = 0; i < n; i++) {
                    visitor.visit(GlobalAddress.plus(first, (long) i * stride), buffer, i * stride);
                }
                visited += n;
            }
        }
        return visited;
    }
}
