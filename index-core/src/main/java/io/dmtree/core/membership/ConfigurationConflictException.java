package io.dmtree.core.membership;

/** A configuration update named a version that is no longer current; {@link #current()} is the one that is. */
public class ConfigurationConflictException extends MembershipException {
    private static final long serialVersionUID = 1L;
    private final transient ClusterConfiguration current;

    public ConfigurationConflictException(long expected, ClusterConfiguration current) {
        super("cluster configuration is at version " + current.version() + ", not " + expected
                + ": read it again and retry");
        this.current = current;
    }

    public ClusterConfiguration current() {
        return current;
    }
}
