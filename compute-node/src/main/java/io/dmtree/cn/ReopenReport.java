package io.dmtree.cn;

import io.dmtree.core.tree.TreeReport;

import java.util.List;

/**
 * What opening an embedded index on its data directory found ({@link EmbeddedCluster#reopened()}).
 *
 * @param cleanStop whether the previous life stopped cleanly (then nothing needed recovery)
 * @param recovered the compute-node slots of the previous life recovered (none after a clean stop)
 * @param check     the tree checker's report, after recovery
 */
public record ReopenReport(boolean cleanStop, List<Integer> recovered, TreeReport check) {
    public ReopenReport {
        recovered = List.copyOf(recovered);
    }
}
