package io.dmtree.core.membership;

import java.util.Collections;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Who a barrier round waits for. Every arrival of one round must name equal parties; an arrival
 * that names others is refused (its caller runs with different settings).
 */
public sealed interface BarrierParties {
    /**
     * {@code count} live members of {@code kind}: released when that many have arrived and are
     * still live (an arrival whose lease ends before the release is withdrawn). Nobody is excused:
     * a round of a member that died waits for a replacement or times out.
     */
    record Count(MemberKind kind, int count) implements BarrierParties {
        public Count {
            if (kind == null) {
                throw new IllegalArgumentException("barrier member kind is required");
            }
            if (count < 1) {
                throw new IllegalArgumentException("barrier of " + count + " members");
            }
        }

        @Override
        public String toString() {
            return count + " " + kind.noun() + (count == 1 ? "" : "s");
        }
    }

    /**
     * These incarnations: released when each either arrived or lapsed. A lapsed party is excused
     * and named in the release, so a member that dies does not hold up the others. Only listed
     * incarnations may arrive (a member that rejoined has a new epoch and is not a party).
     */
    record Members(SortedSet<Member> members) implements BarrierParties {
        public Members {
            if (members == null || members.isEmpty()) {
                throw new IllegalArgumentException("barrier without members");
            }
            TreeSet<MemberId> slots = new TreeSet<>();
            for (Member m : members) {
                if (!slots.add(m.id())) {
                    throw new IllegalArgumentException("barrier names " + m.id() + " twice");
                }
            }
            members = Collections.unmodifiableSortedSet(new TreeSet<>(members));
        }

        public static Members of(Set<Member> members) {
            return new Members(new TreeSet<>(members));
        }

        /** The party with slot {@code id}, or null. */
        public Member party(MemberId id) {
            for (Member m : members) {
                if (m.id().equals(id)) {
                    return m;
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return "members " + members;
        }
    }

    static Count count(MemberKind kind, int count) {
        return new Count(kind, count);
    }

    static Members members(Set<Member> members) {
        return Members.of(members);
    }

    /** Checks that {@code m} may arrive at a round for these parties. */
    default void checkParty(Member m, String barrier) {
        if (this instanceof Count c) {
            if (m.kind() != c.kind()) {
                throw new IllegalArgumentException("barrier '" + barrier + "' waits for " + c + "; " + m + " is a "
                        + m.kind().noun());
            }
        } else if (this instanceof Members ms) {
            if (!ms.members().contains(m)) {
                throw new IllegalArgumentException("barrier '" + barrier + "' waits for " + ms + "; " + m
                        + " is not one of them");
            }
        }
    }
}
