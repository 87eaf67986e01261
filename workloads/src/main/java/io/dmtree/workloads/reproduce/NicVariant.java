package io.dmtree.workloads.reproduce;

import io.dmtree.core.nic.NicModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * The two readings of how a memory-node NIC treats contended atomics that the published rates
 * leave open ({@link NicModelConfig#atomicHeadOfLine()}): {@code aside}, an atomic waiting for its
 * address lets its processing unit serve others; {@code hol}, it keeps its unit (head-of-line).
 * A reproduction runs under each named, so a reader sees which reading a claim needs.
 */
record NicVariant(String name, NicModelConfig config) {
    static final List<String> NAMES = List.of("aside", "hol");

    static List<NicVariant> of(List<String> names, NicModelConfig base) {
        List<NicVariant> out = new ArrayList<>();
        for (String n : names) {
            String name = n.trim();
            switch (name) {
                case "aside" -> out.add(new NicVariant(name, base.with("atomic-hol", "0")));
                case "hol" -> out.add(new NicVariant(name, base.with("atomic-hol", "1")));
                default -> throw new IllegalArgumentException("unknown NIC variant '" + n + "'; known: " + String.join(", ", NAMES));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("name at least one NIC variant: " + String.join(", ", NAMES));
        }
        return out;
    }
}
