package io.dmtree.workloads.kv;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/** The systems dmtree is compared with side by side, by the name the {@code --peers} option uses. */
public enum Peer {
    CSL(SkipListSystem.NAME, SkipListSystem::new),
    LMDB(LmdbSystem.NAME, LmdbSystem::new);

    private final String label;
    private final Function<KvShape, KvSystem> factory;

    Peer(String label, Function<KvShape, KvSystem> factory) {
        this.label = label;
        this.factory = factory;
    }

    public String label() {
        return label;
    }

    public KvSystem open(KvShape shape) {
        return factory.apply(shape);
    }

    /**
     * Parses a comma list such as {@code "csl,lmdb"}; {@code "none"} (or an empty list) means no
     * peers. Unknown or repeated names raise an {@link IllegalArgumentException} naming them.
     */
    public static List<Peer> parseList(String list) {
        String trimmed = list == null ? "" : list.trim();
        if (trimmed.isEmpty() || trimmed.equalsIgnoreCase("none")) {
            return List.of();
        }
        Set<Peer> out = new LinkedHashSet<>();
        for (String part : trimmed.split(",")) {
            String name = part.trim().toLowerCase(Locale.ROOT);
            Peer found = null;
            for (Peer p : values()) {
                if (p.label.equals(name)) {
                    found = p;
                }
            }
            if (found == null) {
                throw new IllegalArgumentException("unknown peer '" + part.trim() + "'; known: " + String.join(", ", labels())
                        + " (or none)");
            }
            if (!out.add(found)) {
                throw new IllegalArgumentException("peer '" + name + "' is listed twice");
            }
        }
        return new ArrayList<>(out);
    }

    public static List<String> labels() {
        List<String> out = new ArrayList<>();
        for (Peer p : values()) {
            out.add(p.label);
        }
        return out;
    }
}
