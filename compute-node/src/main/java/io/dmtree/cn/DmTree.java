package io.dmtree.cn;

/**
 * The entry point of the embedded API.
 *
 * <pre>{@code
 * try (DmIndex index = DmTree.embedded().open()) {      // 1 memory node, 1 compute node, 8-byte keys and values
 *     index.put(42L, 4200L);
 *     index.get(42L);                                  // OptionalLong[4200]
 * }
 * try (DmIndex index = DmTree.embedded().data(Path.of("idx")).open()) {   // durable: the same entries after a reopen
 *     index.put(7L, 70L);
 * }
 * }</pre>
 */
public final class DmTree {
    private DmTree() {
    }

    /** Options for an in-process cluster; {@code .open()} gives an index, {@code .start()} the cluster. */
    public static EmbeddedCluster.Builder embedded() {
        return EmbeddedCluster.builder();
    }
}
