package io.dmtree.mn.carrier.rdma;

import io.dmtree.core.memory.AccessRight;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.MemberRights;

import java.util.ArrayList;
import java.util.List;

/**
 * Which memory windows the {@code rdma} carrier registers for one member: one per range of the
 * member's {@link MemberRights} that grants anything, granting exactly that range's rights
 * ({@link RdmaAccess#of}), cut where the region's off-heap segments end (a registration covers
 * contiguous virtual memory) and every {@link #MAX_WINDOW_BYTES} (DiSNI takes an {@code int}
 * length). Ranges that grant nothing (reserved header bytes, the gap before the chunks) get no
 * window, so a verb there finds no rkey at all and the NIC refuses it.
 *
 * <p>Invariant: the windows are disjoint, in increasing offset order, and cover exactly the bytes on
 * which the member holds some right, each with the rights it holds there.
 *
 * <p>The index superblock grants write only while the index is created; a registration cannot
 * follow that state, so a window made before the index is ready grants write there, and one made
 * after does not (the member's windows are made when it attaches its queue pairs).
 */
public final class MemberWindows {
    /** Largest window registered at once. */
    public static final long MAX_WINDOW_BYTES = 1L << 30;

    /** One window to register: region offsets, virtual address, length, rights. */
    public record Planned(long regionOffset, long address, int length, int rights, String range) {
    }

    private MemberWindows() {
    }

    /** The windows of {@code rights} on {@code region}, given whether the index is ready. */
    public static List<Planned> plan(MemberRights rights, OffHeapRegion region, boolean indexReady) {
        return plan(rights, segmentStarts(region), segmentAddresses(region), indexReady, MAX_WINDOW_BYTES);
    }

    /**
     * Testable form: segment {@code s} holds region offsets from {@code segmentStarts[s]} to the
     * next start (the last to the end of the rights' last range) at address {@code segmentAddresses[s]}.
     */
    static List<Planned> plan(MemberRights rights, long[] segmentStarts, long[] segmentAddresses, boolean indexReady,
                              long maxWindow) {
        List<Planned> out = new ArrayList<>();
        for (int i = 0; i < rights.rangeCount(); i++) {
            int bits = rights.rangeRights(i, indexReady);
            if (bits == AccessRight.NONE) {
                continue;
            }
            long at = rights.rangeStart(i);
            long end = rights.rangeEnd(i);
            while (at < end) {
                int s = segmentOf(segmentStarts, at);
                long segEnd = s + 1 < segmentStarts.length ? segmentStarts[s + 1] : Long.MAX_VALUE;
                long n = Math.min(Math.min(end, segEnd) - at, maxWindow);
                out.add(new Planned(at, segmentAddresses[s] + (at - segmentStarts[s]), (int) n, bits, rights.rangeName(i)));
                at += n;
            }
        }
        return out;
    }

    private static int segmentOf(long[] starts, long offset) {
        int s = 0;
        while (s + 1 < starts.length && starts[s + 1] <= offset) {
            s++;
        }
        return s;
    }

    private static long[] segmentStarts(OffHeapRegion region) {
        long[] starts = new long[region.segmentCount()];
        long at = 0;
        for (int s = 0; s < starts.length; s++) {
            starts[s] = at;
            at += region.segmentBytes(s);
        }
        return starts;
    }

    private static long[] segmentAddresses(OffHeapRegion region) {
        long[] a = new long[region.segmentCount()];
        for (int s = 0; s < a.length; s++) {
            a[s] = region.segmentAddress(s);
        }
        return a;
    }
}
