package io.dmtree.core.carrier;

import java.util.Map;
import java.util.TreeMap;

/**
 * Carrier-specific settings as {@code name=value} pairs ({@code tcp.connections=2}), passed through
 * unchanged from the command line or the API to the carrier that reads them, so that no layer in
 * between knows any carrier's options. A carrier reads its own keys with defaults and checks them;
 * a malformed value raises {@link IllegalArgumentException} naming the key.
 */
public record CarrierOptions(Map<String, String> values) {
    public static final CarrierOptions NONE = new CarrierOptions(Map.of());

    public CarrierOptions {
        values = Map.copyOf(values);
    }

    /** Parses {@code key=value} items, as given to {@code --carrier-option}. */
    public static CarrierOptions parse(Iterable<String> items) {
        Map<String, String> m = new TreeMap<>();
        for (String item : items) {
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("carrier option '" + item + "' is not KEY=VALUE (e.g. tcp.connections=2)");
            }
            m.put(item.substring(0, eq).trim(), item.substring(eq + 1).trim());
        }
        return new CarrierOptions(m);
    }

    public CarrierOptions with(String key, String value) {
        Map<String, String> m = new TreeMap<>(values);
        m.put(key, value);
        return new CarrierOptions(m);
    }

    public String get(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    /** The integer under {@code key} in {@code [min, max]}, or {@code fallback} when absent. */
    public int getInt(String key, int fallback, int min, int max) {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("carrier option " + key + "=" + v + " is not a whole number");
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException("carrier option " + key + "=" + v + " is outside [" + min + ", " + max + "]");
        }
        return n;
    }
}
