package io.dmtree.core.wire;

import io.dmtree.core.memory.AccessRight;

/**
 * One memory window of a member on a memory node's region, as the rdma carrier registers it for
 * that member alone: region offsets {@code [regionOffset, regionOffset + length)} at virtual
 * address {@code address}, reached with {@code rkey}, granting {@code rights} ({@link AccessRight}
 * bits). Only the member's own queue pairs can use the rkey (the window lives in their protection
 * domain).
 */
public record RdmaWindow(long regionOffset, long address, int length, int rkey, int rights) {
    public RdmaWindow {
        if (regionOffset < 0 || length <= 0 || (rights & ~AccessRight.ALL) != 0 || rights == AccessRight.NONE) {
            throw new IllegalArgumentException("bad RDMA window: offset " + regionOffset + ", " + length + " bytes, rights "
                    + rights);
        }
    }

    public long end() {
        return regionOffset + length;
    }

    /** Whether {@code [offset, offset + bytes)} lies inside this window. */
    public boolean covers(long offset, long bytes) {
        return offset >= regionOffset && bytes >= 0 && offset + bytes <= end();
    }
}
