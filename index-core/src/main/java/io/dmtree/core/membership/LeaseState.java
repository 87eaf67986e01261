package io.dmtree.core.membership;

/**
 * Where a lease stands, as its holder sees it. {@link #LIVE} and {@link #SUSPENDED} may alternate;
 * {@link #LAPSED} and {@link #CLOSED} are final.
 */
public enum LeaseState {
    /** Renewed: the service counts the member live. */
    LIVE,
    /**
     * The holder lost touch with the service and cannot tell whether the lease still holds; it
     * either comes back ({@link #LIVE}) or ends ({@link #LAPSED}) within one lease length. A
     * holder must not start work that needs the lease while suspended.
     */
    SUSPENDED,
    /** The lease ended without the holder closing it: the member stopped renewing in time. */
    LAPSED,
    /** The holder closed the lease (left the cluster). */
    CLOSED;

    public boolean ended() {
        return this == LAPSED || this == CLOSED;
    }
}
