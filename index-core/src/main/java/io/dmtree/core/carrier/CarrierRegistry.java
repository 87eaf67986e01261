package io.dmtree.core.carrier;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one registry of carriers, by name. Each half of a carrier is a {@link ServiceLoader}
 * provider of its node module's half interface (the memory node's server half, the compute node's
 * client half), listed in that module's {@code META-INF/services}; this class finds a half by its
 * {@link NamedCarrier#name()} and says which names exist when asked for one that does not. Nothing
 * else in the product chooses by carrier name.
 */
public final class CarrierRegistry {
    private static final Map<Class<?>, Map<String, NamedCarrier>> CACHE = new ConcurrentHashMap<>();

    private CarrierRegistry() {
    }

    /**
     * The half of kind {@code half} named {@code name} (case-insensitive).
     *
     * @throws IllegalArgumentException naming the known carriers, when none has this name
     */
    public static <T extends NamedCarrier> T find(Class<T> half, String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        NamedCarrier c = all(half).get(key);
        if (c == null) {
            throw new IllegalArgumentException("unknown transport '" + name + "': use " + describe(names(half)));
        }
        return half.cast(c);
    }

    /** The names of every registered half of kind {@code half}, sorted. */
    public static List<String> names(Class<? extends NamedCarrier> half) {
        return new ArrayList<>(all(half).keySet());
    }

    private static Map<String, NamedCarrier> all(Class<? extends NamedCarrier> half) {
        return CACHE.computeIfAbsent(half, h -> {
            Map<String, NamedCarrier> found = new TreeMap<>();
            for (NamedCarrier c : ServiceLoader.load(half.asSubclass(NamedCarrier.class), half.getClassLoader())) {
                NamedCarrier earlier = found.putIfAbsent(c.name(), c);
                if (earlier != null) {
                    throw new IllegalStateException("two " + h.getSimpleName() + " carriers are named '" + c.name() + "': "
                            + earlier.getClass().getName() + " and " + c.getClass().getName());
                }
            }
            return Map.copyOf(found);
        });
    }

    private static String describe(List<String> names) {
        if (names.isEmpty()) {
            return "(none registered: the carrier modules are missing from the class path)";
        }
        if (names.size() == 1) {
            return names.get(0);
        }
        return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    }
}
