package io.dmtree.core.membership;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The cluster configuration: a small versioned document of {@code key -> value} strings (the
 * memory nodes' addresses, the lock design, the index shape, ...). Version 0 is the empty document
 * no one has written; every accepted {@link Membership#updateConfiguration update} replaces the
 * whole document and adds exactly 1 to the version, so two readers that see the same version see
 * the same entries.
 *
 * <p>Limits, so the document fits one coordination-service record (ZooKeeper's is 1 MiB): keys of
 * 1 to {@value #MAX_KEY_BYTES} UTF-8 bytes, values of at most {@value #MAX_VALUE_BYTES}, at most
 * {@value #MAX_TOTAL_BYTES} in all (keys plus values).
 */
public record ClusterConfiguration(long version, SortedMap<String, String> entries) {
    public static final int MAX_KEY_BYTES = 128;
    public static final int MAX_VALUE_BYTES = 64 * 1024;
    public static final int MAX_TOTAL_BYTES = 512 * 1024;

    /** Version 0: nothing written yet. */
    public static final ClusterConfiguration EMPTY = new ClusterConfiguration(0, new TreeMap<>());

    public ClusterConfiguration {
        if (version < 0) {
            throw new IllegalArgumentException("configuration version " + version + " is negative");
        }
        entries = Collections.unmodifiableSortedMap(new TreeMap<>(checkEntries(entries)));
    }

    /** Checks {@code entries} against the limits; returns it. */
    public static Map<String, String> checkEntries(Map<String, String> entries) {
        if (entries == null) {
            throw new IllegalArgumentException("configuration entries are required");
        }
        long total = 0;
        for (Map.Entry<String, String> e : entries.entrySet()) {
            String k = e.getKey();
            String v = e.getValue();
            if (k == null || k.isEmpty()) {
                throw new IllegalArgumentException("configuration key is empty");
            }
            if (v == null) {
                throw new IllegalArgumentException("configuration key '" + k + "' has no value");
            }
            int kb = k.getBytes(StandardCharsets.UTF_8).length;
            int vb = v.getBytes(StandardCharsets.UTF_8).length;
            if (kb > MAX_KEY_BYTES) {
                throw new IllegalArgumentException("configuration key of " + kb + " bytes; at most " + MAX_KEY_BYTES);
            }
            if (vb > MAX_VALUE_BYTES) {
                throw new IllegalArgumentException("configuration value of '" + k + "' has " + vb + " bytes; at most "
                        + MAX_VALUE_BYTES);
            }
            total += kb + vb;
        }
        if (total > MAX_TOTAL_BYTES) {
            throw new IllegalArgumentException("configuration of " + total + " bytes; at most " + MAX_TOTAL_BYTES);
        }
        return entries;
    }

    public Optional<String> get(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    /** The entries with {@code key} set to {@code value}: a convenience for building an update. */
    public SortedMap<String, String> with(String key, String value) {
        SortedMap<String, String> m = new TreeMap<>(entries);
        m.put(key, value);
        return m;
    }
}
