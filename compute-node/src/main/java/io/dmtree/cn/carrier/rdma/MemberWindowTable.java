package io.dmtree.cn.carrier.rdma;

import io.dmtree.core.memory.AccessDeniedException;
import io.dmtree.core.memory.AccessRight;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.wire.RdmaWindow;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One queue pair's memory windows on one memory node (what attaching it returned): which rkey
 * reaches a region offset, and whether the member holds the right a verb needs there. The compute
 * node checks every verb here before posting it, so a verb outside its rights fails with an
 * {@link AccessDeniedException} naming the address and the right without taking the queue pair
 * down; the memory node's NIC enforces the same windows for a client that does not check.
 *
 * <p>Windows are disjoint and sorted by offset; lookups walk the dense arrays and allocate nothing
 * (only a refusal builds its message).
 */
final class MemberWindowTable {
    private final int memoryNode;
    private final long[] starts;
    private final long[] ends;
    private final long[] addresses;
    private final int[] rkeys;
    private final int[] rights;

    MemberWindowTable(int memoryNode, List<RdmaWindow> windows) {
        this.memoryNode = memoryNode;
        List<RdmaWindow> sorted = new ArrayList<>(windows);
        sorted.sort(Comparator.comparingLong(RdmaWindow::regionOffset));
        int n = sorted.size();
        starts = new long[n];
        ends = new long[n];
        addresses = new long[n];
        rkeys = new int[n];
        rights = new int[n];
        for (int i = 0; i < n; i++) {
            RdmaWindow w = sorted.get(i);
            if (i > 0 && w.regionOffset() < ends[i - 1]) {
                throw new IllegalArgumentException("memory node " + memoryNode + " gave overlapping windows at offset "
                        + w.regionOffset());
            }
            starts[i] = w.regionOffset();
            ends[i] = w.end();
            addresses[i] = w.address();
            rkeys[i] = w.rkey();
            rights[i] = w.rights();
        }
    }

    int size() {
        return starts.length;
    }

    /**
     * The window holding {@code offset}, after checking that every byte of {@code [offset, offset
     * + length)} lies in windows granting {@code right} (a zero-length access needs its offset in
     * a window, or at a window's end); throws {@link AccessDeniedException} otherwise.
     */
    int check(long offset, int length, AccessRight right) {
        int first = -1;
        long at = offset;
        long end = offset + Math.max(length, 1);
        for (int i = 0; i < starts.length && at < end; i++) {
            if (ends[i] <= at) {
                continue;
            }
            if (starts[i] > at || (rights[i] & right.bit()) == 0) {
                break;
            }
            if (first < 0) {
                first = i;
            }
            at = ends[i];
        }
        if (at >= end) {
            return first;
        }
        if (length == 0) {
            for (int i = 0; i < starts.length; i++) {
                if (ends[i] == offset && (rights[i] & right.bit()) != 0) {
                    return i;
                }
            }
        }
        throw new AccessDeniedException(right.name() + " of " + length + " bytes at 0x"
                + Long.toHexString(GlobalAddress.of(memoryNode, offset)) + " (memory node " + memoryNode + ", offset " + offset
                + "): this member's memory windows there grant " + held(at));
    }

    private String held(long offset) {
        for (int i = 0; i < starts.length; i++) {
            if (offset >= starts[i] && offset < ends[i]) {
                return AccessRight.describe(rights[i]) + " [" + starts[i] + ", " + ends[i] + ")";
            }
        }
        return "nothing (no window covers offset " + offset + ")";
    }

    long windowStart(int i) {
        return starts[i];
    }

    long windowEnd(int i) {
        return ends[i];
    }

    /** The virtual address at the memory node of region offset {@code offset} in window {@code i}. */
    long remoteAddress(int i, long offset) {
        return addresses[i] + (offset - starts[i]);
    }

    int rkey(int i) {
        return rkeys[i];
    }
}
