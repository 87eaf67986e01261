package io.dmtree.cn.control;

import java.util.Map;
import java.util.Set;

/**
 * What a compute node learns when a barrier releases.
 *
 * @param arrivals every arrival's payload by compute-node id, in id order
 * @param departed members of a member barrier that left the cluster without arriving (always
 *                 empty for a counting barrier)
 */
public record BarrierRelease(Map<Integer, byte[]> arrivals, Set<Integer> departed) {
    public BarrierRelease {
        arrivals = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(arrivals));
        departed = Set.copyOf(departed);
    }
}
