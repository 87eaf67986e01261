package io.dmtree.core.membership;

import java.util.Collections;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a released barrier round tells every one of its waiters (all get equal releases).
 *
 * @param barrier  the barrier's name
 * @param round    the round of that name, from 0; a name is reused round after round
 * @param arrivals every counted arrival and its payload
 * @param lapsed   parties excused because their lease ended before they arrived (empty for
 *                 {@link BarrierParties.Count} rounds)
 */
public record BarrierRelease(String barrier, long round, SortedMap<Member, byte[]> arrivals, SortedSet<Member> lapsed) {
    public BarrierRelease {
        arrivals = Collections.unmodifiableSortedMap(new TreeMap<>(arrivals));
        lapsed = Collections.unmodifiableSortedSet(new TreeSet<>(lapsed));
    }

    /** The payload of the arrival with slot {@code id}, or null if it did not arrive. */
    public byte[] payloadOf(MemberId id) {
        for (var e : arrivals.entrySet()) {
            if (e.getKey().id().equals(id)) {
                return e.getValue();
            }
        }
        return null;
    }
}
