package io.dmtree.cn.carrier.rdma;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.AccessDeniedException;
import io.dmtree.core.memory.AccessRight;
import io.dmtree.core.wire.RdmaWindow;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.MemberRights;
import io.dmtree.mn.carrier.rdma.MemberWindows;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rights to windows to rkeys chain: the windows a memory node plans for a member
 * ({@link MemberWindows}), as the compute node's {@link MemberWindowTable} holds them, allow a
 * verb exactly when the tcp carrier's check of the same {@link MemberRights} does, for seeded
 * random accesses (property {@code dmtree.seed}) on both sides of the index becoming ready; and the
 * window found maps the offset to the right address and rkey.
 */
class MemberWindowTableTest {
    private static final long SIZE = 4L << 20;
    private static final long LOCKS = 64L << 10;
    private static final long CHUNKS = 256L << 10; // a gap between the lock table's end and the chunks

    @Test
    void windowsAllowExactlyWhatTheRightsAllow() {
        long seed = Long.getLong("dmtree.seed", System.nanoTime());
        System.out.println("MemberWindowTableTest seed " + seed + " (-Ddmtree.seed=" + seed + " repeats it)");
        SplittableRandom random = new SplittableRandom(seed);
        try (OffHeapRegion region = new OffHeapRegion(SIZE)) {
            for (boolean ready : new boolean[]{false, true}) {
                region.putLongVolatile(RegionLayout.INDEX_STATE_OFFSET, ready ? RegionLayout.INDEX_READY : 0);
                int member = random.nextInt(16);
                MemberRights rights = MemberRights.of(SIZE, RegionLayout.LOCK_TABLE_START, LOCKS, CHUNKS, member);
                List<MemberWindows.Planned> plan = MemberWindows.plan(rights, region, ready);
                List<RdmaWindow> windows = new ArrayList<>();
                int rkey = 100;
                for (MemberWindows.Planned p : plan) {
                    windows.add(new RdmaWindow(p.regionOffset(), p.address(), p.length(), rkey++, p.rights()));
                }
                MemberWindowTable table = new MemberWindowTable(2, windows);
                for (int i = 0; i < 20_000; i++) {
                    AccessRight right = AccessRight.values()[random.nextInt(3)];
                    long offset = random.nextInt(4) == 0 ? random.nextLong(CHUNKS + 4096) : random.nextLong(SIZE - 64);
                    int length = right == AccessRight.ATOMIC ? 8 : 1 + random.nextInt(64);
                    if (right == AccessRight.ATOMIC) {
                        offset &= ~7L;
                    }
                    boolean allowed = rights.denied(right, offset, length, region) < 0;
                    long o = offset;
                    if (allowed) {
                        int w = table.check(offset, length, right);
                        assertTrue(offset >= table.windowStart(w) && offset < table.windowEnd(w));
                        assertEquals(region.segmentAddress(0) + offset, table.remoteAddress(w, offset), "one segment here");
                    } else {
                        AccessDeniedException e = assertThrows(AccessDeniedException.class, () -> table.check(o, length, right),
                                right + " at " + offset + "+" + length + " member " + member + " ready " + ready);
                        assertTrue(e.getMessage().contains(right.name()) && e.getMessage().contains("memory node 2"), e.getMessage());
                    }
                }
                int own = table.check(RegionLayout.redoDirectoryEntry(member), 8, AccessRight.WRITE);
                assertEquals(RegionLayout.redoDirectoryEntry(member), table.windowStart(own));
                assertThrows(AccessDeniedException.class, () -> table.check(RegionLayout.redoDirectoryEntry((member + 1) % 16), 8,
                        AccessRight.WRITE));
                assertThrows(AccessDeniedException.class, () -> table.check(0, 8, AccessRight.WRITE), "the header is read-only");
            }
        }
    }

    @Test
    void anAccessSpanningTwoWindowsNeedsTheRightInBoth() {
        MemberWindowTable t = new MemberWindowTable(0, List.of(
                new RdmaWindow(0, 1000, 64, 1, AccessRight.ALL),
                new RdmaWindow(64, 5000, 64, 2, AccessRight.READ.bit()),
                new RdmaWindow(256, 9000, 64, 3, AccessRight.ALL)));
        assertEquals(0, t.check(32, 64, AccessRight.READ));
        assertThrows(AccessDeniedException.class, () -> t.check(32, 64, AccessRight.WRITE));
        assertThrows(AccessDeniedException.class, () -> t.check(100, 64, AccessRight.READ), "a hole at [128, 256)");
        assertEquals(1, t.check(128, 0, AccessRight.READ), "an empty access at a window's end");
        assertEquals(5000 + 10, t.remoteAddress(1, 74));
        assertEquals(2, t.rkey(1));
        assertThrows(IllegalArgumentException.class, () -> new MemberWindowTable(0, List.of(
                new RdmaWindow(0, 0, 64, 1, AccessRight.ALL), new RdmaWindow(32, 0, 64, 1, AccessRight.ALL))));
    }
}
