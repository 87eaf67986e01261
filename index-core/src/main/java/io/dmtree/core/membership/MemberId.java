package io.dmtree.core.membership;

/**
 * A member slot: a kind and an id from that kind's pool. The slot outlives its holders: when a
 * lease ends the id returns to the pool and a later join may take it with a new epoch, so a slot
 * names "compute node 3", while a {@link Member} names one incarnation of it.
 */
public record MemberId(MemberKind kind, int id) implements Comparable<MemberId> {
    public MemberId {
        if (kind == null) {
            throw new IllegalArgumentException("member kind is required");
        }
        if (id < 0) {
            throw new IllegalArgumentException(kind.noun() + " id " + id + " is negative");
        }
    }

    public static MemberId computeNode(int id) {
        return new MemberId(MemberKind.COMPUTE_NODE, id);
    }

    public static MemberId memoryNode(int id) {
        return new MemberId(MemberKind.MEMORY_NODE, id);
    }

    @Override
    public int compareTo(MemberId o) {
        int c = kind.compareTo(o.kind);
        return c != 0 ? c : Integer.compare(id, o.id);
    }

    @Override
    public String toString() {
        return kind.tag() + " " + id;
    }
}
