package io.dmtree.cn.carrier;

import io.dmtree.core.memory.Verbs;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.local.LocalVerbs;

import java.util.List;

/** The {@code local} carrier against the shared verb semantics. */
class LocalVerbsContractTest extends VerbSemanticsContract {
    @Override
    protected Fixture start() {
        List<MemoryNode> nodes = List.of(new MemoryNode(0, CONFIG), new MemoryNode(1, CONFIG));
        Verbs a = new LocalVerbs(nodes);
        Verbs b = new LocalVerbs(nodes);
        return new Fixture() {
            @Override
            public Verbs client(int i) {
                return i == 0 ? a : b;
            }

            @Override
            public void close() {
                nodes.forEach(MemoryNode::close);
            }
        };
    }
}
