package io.dmtree.core.membership;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An immutable snapshot of the live members as one process knows them: at most one incarnation per
 * slot. Taken from {@link Membership#view()}, it may lag the service by the time change
 * notices take to arrive.
 */
public record MembershipView(SortedMap<MemberId, Member> bySlot) {
    public static final MembershipView EMPTY = new MembershipView(new TreeMap<>());

    public MembershipView {
        for (Map.Entry<MemberId, Member> e : bySlot.entrySet()) {
            if (!e.getKey().equals(e.getValue().id())) {
                throw new IllegalArgumentException("view maps " + e.getKey() + " to " + e.getValue());
            }
        }
        bySlot = Collections.unmodifiableSortedMap(new TreeMap<>(bySlot));
    }

    /** Every live member, by slot. */
    public List<Member> members() {
        return List.copyOf(bySlot.values());
    }

    public List<Member> members(MemberKind kind) {
        List<Member> out = new ArrayList<>();
        for (Member m : bySlot.values()) {
            if (m.kind() == kind) {
                out.add(m);
            }
        }
        return out;
    }

    /** The live incarnation of {@code id}, if any. */
    public Optional<Member> member(MemberId id) {
        return Optional.ofNullable(bySlot.get(id));
    }

    /** {@code true} when this very incarnation (slot and epoch) is live. */
    public boolean isLive(Member m) {
        Member now = bySlot.get(m.id());
        return now != null && now.epoch() == m.epoch();
    }

    public int size() {
        return bySlot.size();
    }
}
