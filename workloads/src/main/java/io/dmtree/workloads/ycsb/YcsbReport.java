package io.dmtree.workloads.ycsb;

import java.util.List;

/**
 * A finished run: settings, the stream all systems executed, and each system's result in the
 * order they ran (dmtree per lock design first, then the peers).
 */
public record YcsbReport(YcsbSettings settings, OperationStream stream, List<SystemResult> systems) {
    public YcsbReport {
        systems = List.copyOf(systems);
    }
}
