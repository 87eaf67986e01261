package io.dmtree.cn.carrier;

import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.carrier.local.LocalVerbs;
import io.dmtree.mn.control.MemoryNodeServer;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code local} carrier against the shared verb semantics: memory nodes served by the
 * registry's local half, reached by two in-JVM compute nodes (the only kind it serves).
 */
class LocalCarrierContractTest extends VerbSemanticsContract {
    @TempDir
    Path dir;

    @Override
    protected Fixture start() {
        return CarrierFixture.served("local", CONFIG, dir, servers -> {
            List<MemoryNode> nodes = new ArrayList<>();
            servers.forEach(s -> nodes.add(s.memoryNode()));
            return List.of(LocalVerbs.counted(nodes), LocalVerbs.counted(nodes));
        });
    }
}
