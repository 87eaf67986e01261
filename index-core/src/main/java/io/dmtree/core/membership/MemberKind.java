package io.dmtree.core.membership;

/**
 * The two kinds of cluster member. Each kind has its own pool of ids ({@code cn 0..15} and
 * {@code mn 0..15} by default), so compute node 3 and memory node 3 are different members.
 */
public enum MemberKind {
    COMPUTE_NODE("cn", "compute node"),
    MEMORY_NODE("mn", "memory node");

    private final String tag;
    private final String noun;

    MemberKind(String tag, String noun) {
        this.tag = tag;
        this.noun = noun;
    }

    /** The short name used in paths and messages: {@code cn} or {@code mn}. */
    public String tag() {
        return tag;
    }

    /** The name in sentences: {@code compute node} or {@code memory node}. */
    public String noun() {
        return noun;
    }

    /** The kind whose {@link #tag()} is {@code tag}. */
    public static MemberKind ofTag(String tag) {
        for (MemberKind k : values()) {
            if (k.tag.equals(tag)) {
                return k;
            }
        }
        throw new IllegalArgumentException("member kind '" + tag + "' is neither cn nor mn");
    }
}
