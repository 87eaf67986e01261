package io.dmtree.core.membership;

import java.util.Collections;
import java.util.SortedSet;
import java.util.TreeSet;

/** A barrier round was not released in time; the message names who arrived and who did not. */
public class BarrierTimeoutException extends MembershipTimeoutException {
    private static final long serialVersionUID = 1L;
    private final transient SortedSet<Member> arrived;

    public BarrierTimeoutException(String barrier, BarrierParties parties, SortedSet<Member> arrived, long waitedMillis) {
        super(describe(barrier, parties, arrived, waitedMillis));
        this.arrived = Collections.unmodifiableSortedSet(new TreeSet<>(arrived));
    }

    public SortedSet<Member> arrived() {
        return arrived;
    }

    private static String describe(String barrier, BarrierParties parties, SortedSet<Member> arrived, long waitedMillis) {
        StringBuilder s = new StringBuilder("barrier '").append(barrier).append("': ");
        if (parties instanceof BarrierParties.Count c) {
            s.append(arrived.size()).append(" of ").append(c).append(" arrived within ").append(waitedMillis)
                    .append(" ms");
        } else {
            TreeSet<Member> missing = new TreeSet<>(((BarrierParties.Members) parties).members());
            missing.removeAll(arrived);
            s.append(arrived.size()).append(" of ").append(((BarrierParties.Members) parties).members().size())
                    .append(" members arrived within ").append(waitedMillis).append(" ms; still live and missing: ")
                    .append(missing);
        }
        return s.append("; arrived: ").append(arrived).toString();
    }
}
