package io.dmtree.mn.carrier.rdma;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.AccessRight;
import io.dmtree.mn.carrier.MemberRights;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A member's windows are exactly its rights: disjoint, in order, covering every byte on which it
 * holds a right with exactly those rights and no byte on which it holds none, cut at segment ends
 * and at the largest window, at the right virtual addresses; and the registration flags grant
 * exactly the rights.
 */
class MemberWindowsTest {
    private static final long SIZE = 64L << 20;
    private static final long LOCKS = 1L << 20;
    private static final long CHUNKS = RegionLayout.LOCK_TABLE_START + LOCKS + (1L << 20); // a gap before the chunks

    @Test
    void windowsAreExactlyTheRightsCutAtSegmentsAndTheLargestWindow() {
        for (boolean ready : new boolean[]{false, true}) {
            MemberRights rights = MemberRights.of(SIZE, RegionLayout.LOCK_TABLE_START, LOCKS, CHUNKS, 3);
            long[] starts = {0, 24L << 20, 48L << 20};
            long[] addresses = {0x7f00_0000_0000L, 0x7e00_0000_0000L, 0x7d00_0000_0000L};
            long max = 10L << 20;
            List<MemberWindows.Planned> plan = MemberWindows.plan(rights, starts, addresses, ready, max);
            long at = -1;
            for (MemberWindows.Planned p : plan) {
                assertTrue(p.regionOffset() >= at, "disjoint and in order: " + p);
                assertTrue(p.length() > 0 && p.length() <= max, p.toString());
                int s = p.regionOffset() >= starts[2] ? 2 : p.regionOffset() >= starts[1] ? 1 : 0;
                assertTrue(s + 1 >= starts.length || p.regionOffset() + p.length() <= starts[s + 1], "within one segment: " + p);
                assertEquals(addresses[s] + p.regionOffset() - starts[s], p.address(), p.toString());
                at = p.regionOffset() + p.length();
            }
            // every range: covered by windows with its rights exactly when it grants any
            for (int i = 0; i < rights.rangeCount(); i++) {
                int bits = rights.rangeRights(i, ready);
                long covered = 0;
                for (MemberWindows.Planned p : plan) {
                    long lo = Math.max(p.regionOffset(), rights.rangeStart(i));
                    long hi = Math.min(p.regionOffset() + p.length(), rights.rangeEnd(i));
                    if (lo < hi) {
                        assertEquals(bits, p.rights(), rights.rangeName(i));
                        covered += hi - lo;
                    }
                }
                assertEquals(bits == AccessRight.NONE ? 0 : rights.rangeEnd(i) - rights.rangeStart(i), covered,
                        rights.rangeName(i) + " ready=" + ready);
            }
            MemberWindows.Planned superblock = plan.stream().filter(p -> p.regionOffset() == RegionLayout.SUPERBLOCK_OFFSET)
                    .findFirst().orElseThrow();
            assertEquals(!ready, (superblock.rights() & AccessRight.WRITE.bit()) != 0, "superblock write only while creating");
            MemberWindows.Planned own = plan.stream().filter(p -> p.regionOffset() == RegionLayout.redoDirectoryEntry(3))
                    .findFirst().orElseThrow();
            assertEquals(8, own.length());
            assertEquals(AccessRight.ALL, own.rights());
            assertTrue(plan.stream().noneMatch(p -> p.regionOffset() < RegionLayout.REDO_DIRECTORY_OFFSET
                    && p.regionOffset() + p.length() > RegionLayout.COORDINATION_WORDS_END),
                    "no window over the reserved header bytes");
            assertTrue(plan.stream().noneMatch(p -> p.regionOffset() < CHUNKS
                    && p.regionOffset() + p.length() > RegionLayout.LOCK_TABLE_START + LOCKS), "no window over the gap");
        }
    }

    @Test
    void registrationFlagsGrantExactlyTheRights() {
        assertEquals(RdmaAccess.IBV_ACCESS_REMOTE_READ, RdmaAccess.of(AccessRight.READ.bit()));
        assertEquals(RdmaAccess.IBV_ACCESS_REMOTE_READ | RdmaAccess.IBV_ACCESS_REMOTE_ATOMIC | RdmaAccess.IBV_ACCESS_LOCAL_WRITE,
                RdmaAccess.of(AccessRight.READ.bit() | AccessRight.ATOMIC.bit()));
        assertEquals(RdmaAccess.IBV_ACCESS_REMOTE_READ | RdmaAccess.IBV_ACCESS_REMOTE_WRITE | RdmaAccess.IBV_ACCESS_REMOTE_ATOMIC
                | RdmaAccess.IBV_ACCESS_LOCAL_WRITE, RdmaAccess.of(AccessRight.ALL));
        for (int bits = 1; bits <= AccessRight.ALL; bits++) {
            int f = RdmaAccess.of(bits);
            assertEquals((bits & AccessRight.WRITE.bit()) != 0, (f & RdmaAccess.IBV_ACCESS_REMOTE_WRITE) != 0);
            assertEquals((bits & AccessRight.ATOMIC.bit()) != 0, (f & RdmaAccess.IBV_ACCESS_REMOTE_ATOMIC) != 0);
            assertEquals((bits & AccessRight.READ.bit()) != 0, (f & RdmaAccess.IBV_ACCESS_REMOTE_READ) != 0);
            assertEquals(0, f & RdmaAccess.IBV_ACCESS_MW_BIND, "a member may not bind windows of its own");
        }
        assertThrows(IllegalArgumentException.class, () -> RdmaAccess.of(AccessRight.NONE));
    }
}
