package io.dmtree.cn;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.tree.IndexSuperblock;
import io.dmtree.core.tree.KeyOrder;
import io.dmtree.core.tree.NodeImage;
import io.dmtree.core.tree.NodeLayout;
import io.dmtree.core.tree.TreeReport;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/** The checker finds each kind of damage done to a sound tree behind its back. */
class TreeCheckerTest {

    /** Builds a three-level tree, damages one leaf's image with {@code damage}, and checks. */
    private static TreeReport checkAfter(Consumer<NodeImage> damage) {
        try (EmbeddedCluster cluster = DmTree.embedded().nodeBytes(256).regionBytes(64L << 20).start()) {
            DmIndex index = cluster.index(0);
            for (long k = 0; k < 3_000; k++) {
                index.put(k * 2, k);
            }
            TreeReport sound = index.check();
            assertTrue(sound.ok(), sound::toString);
            assertTrue(sound.height() >= 3);
            Verbs verbs = cluster.computeNode(0).verbs();
            NodeLayout layout = cluster.config().tree().layout();
            // find the leaf holding key 1000 by walking leftmost children and siblings
            UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
            verbs.read(IndexSuperblock.ROOT_POINTER, word, 0, 8);
            long address = word.getLong(0);
            NodeImage n = new NodeImage(layout);
            UnsafeBuffer key = new UnsafeBuffer(KeyOrder.longKeyBytes(1000));
            while (true) {
                verbs.read(address, n.buffer(), 0, layout.nodeBytes());
                if (n.atOrAboveHigh(key, 0)) {
                    address = n.sibling();
                } else if (!n.isLeaf()) {
                    address = n.childFor(key, 0);
                } else {
                    break;
                }
            }
            damage.accept(n);
            n.seal(); // a well-formed image with wrong contents, so only structural checks can find it
            verbs.write(address, n.buffer(), 0, layout.nodeBytes());
            return index.check();
        }
    }

    @Test
    void findsAKeyOutsideItsFences() {
        TreeReport r = checkAfter(n -> {
            int slot = n.freeLeafSlot();
            n.putLeafEntry(slot, new UnsafeBuffer(KeyOrder.longKeyBytes(1_000_000)), 0, new UnsafeBuffer(new byte[8]), 0);
            n.setCount(n.count() + 1);
        });
        assertFalse(r.ok());
        assertTrue(r.problems().stream().anyMatch(p -> p.contains("outside its fences")), r::toString);
    }

    @Test
    void findsADuplicateKeyAndAWrongCount() {
        TreeReport r = checkAfter(n -> {
            int used = -1;
            for (int i = 0; used < 0; i++) {
                if (n.leafUsed(i)) {
                    used = i;
                }
            }
            int free = n.freeLeafSlot();
            n.buffer().putBytes(n.layout().leafEntry(free), n.buffer(), n.layout().leafEntry(used), n.layout().leafEntryBytes());
        });
        assertTrue(r.problems().stream().anyMatch(p -> p.contains("twice")), r::toString);
        assertTrue(r.problems().stream().anyMatch(p -> p.contains("count says")), r::toString);
    }

    @Test
    void findsABrokenSiblingChain() {
        TreeReport r = checkAfter(n -> n.setSibling(GlobalAddress.NULL));
        assertFalse(r.ok());
        assertTrue(r.problems().stream().anyMatch(p -> p.contains("without a +inf high fence")), r::toString);
    }

    @Test
    void findsATornOrCorruptNode() {
        try (EmbeddedCluster cluster = DmTree.embedded().nodeBytes(256).regionBytes(64L << 20).start()) {
            DmIndex index = cluster.index(0);
            for (long k = 0; k < 100; k++) {
                index.put(k, k);
            }
            Verbs verbs = cluster.computeNode(0).verbs();
            UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
            verbs.read(IndexSuperblock.ROOT_POINTER, word, 0, 8);
            long root = word.getLong(0);
            verbs.faa(GlobalAddress.plus(root, NodeLayout.SIBLING_OFFSET + 8), 1); // flip bits behind the checksum
            TreeReport r = index.check();
            assertTrue(r.problems().stream().anyMatch(p -> p.contains("fails its checksum")), r::toString);
        }
    }
}
