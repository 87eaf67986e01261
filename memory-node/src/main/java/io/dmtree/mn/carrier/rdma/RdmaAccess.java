package io.dmtree.mn.carrier.rdma;

import io.dmtree.core.memory.AccessRight;

/**
 * libibverbs' {@code enum ibv_access_flags} values a registration takes, and the flags that grant
 * a member's {@link AccessRight}s to its peer: READ is remote read; WRITE remote write; ATOMIC
 * remote atomic. libibverbs refuses remote write or remote atomic without local write
 * ({@code ibv_reg_mr} fails with EINVAL), so either brings it along. A test checks the values
 * against {@code <infiniband/verbs.h>}.
 */
public final class RdmaAccess {
    public static final int IBV_ACCESS_LOCAL_WRITE = 1;
    public static final int IBV_ACCESS_REMOTE_WRITE = 1 << 1;
    public static final int IBV_ACCESS_REMOTE_READ = 1 << 2;
    public static final int IBV_ACCESS_REMOTE_ATOMIC = 1 << 3;
    public static final int IBV_ACCESS_MW_BIND = 1 << 4;

    private RdmaAccess() {
    }

    /** The registration flags granting exactly {@code rights} ({@link AccessRight} bits, not none) to the peer. */
    public static int of(int rights) {
        if (rights == AccessRight.NONE || (rights & ~AccessRight.ALL) != 0) {
            throw new IllegalArgumentException("no registration grants rights " + rights);
        }
        int flags = 0;
        if ((rights & AccessRight.READ.bit()) != 0) {
            flags |= IBV_ACCESS_REMOTE_READ;
        }
        if ((rights & AccessRight.WRITE.bit()) != 0) {
            flags |= IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_LOCAL_WRITE;
        }
        if ((rights & AccessRight.ATOMIC.bit()) != 0) {
            flags |= IBV_ACCESS_REMOTE_ATOMIC | IBV_ACCESS_LOCAL_WRITE;
        }
        return flags;
    }
}
