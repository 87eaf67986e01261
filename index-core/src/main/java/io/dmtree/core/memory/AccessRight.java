package io.dmtree.core.memory;

/**
 * What a member may do to a range of a memory node's region: one bit per kind of verb. A READ
 * needs {@link #READ}, a WRITE {@link #WRITE}, a CAS or FAA {@link #ATOMIC}.
 */
public enum AccessRight {
    READ(1), WRITE(2), ATOMIC(4);

    /** Every right. */
    public static final int ALL = 7;
    public static final int NONE = 0;

    private final int bit;

    AccessRight(int bit) {
        this.bit = bit;
    }

    public int bit() {
        return bit;
    }

    /** The rights in {@code bits}, for messages: "read, atomic", or "none". */
    public static String describe(int bits) {
        StringBuilder b = new StringBuilder();
        for (AccessRight r : values()) {
            if ((bits & r.bit) != 0) {
                b.append(b.length() == 0 ? "" : ", ").append(r.name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        return b.length() == 0 ? "none" : b.toString();
    }
}
