package io.dmtree.cn.replica;

/**
 * A verb straddled a failover: the region's placement changed while it was in flight, so its reply
 * (from a primary that may be deposed by now) is refused. Whatever the verb did may or may not
 * have taken effect; the operation that issued it is not acknowledged and retries from its first
 * verb under the new placement, where the lock words it held no longer exist.
 */
public final class StaleReplicaEpochException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final long issuedIn;
    private final long current;

    public StaleReplicaEpochException(long issuedIn, long current, int region) {
        super((region >= 0 ? "region " + region : "a region") + " failed over during the operation (issued in placement epoch "
                + issuedIn + ", now " + current + "): its verb or reply is refused; retry the operation");
        this.issuedIn = issuedIn;
        this.current = current;
    }

    public long issuedIn() {
        return issuedIn;
    }

    public long current() {
        return current;
    }
}
