package io.dmtree.core.tree;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;

/**
 * A lock-free walk of every level's sibling chain, from the root down by leftmost children, that
 * tolerates a tree other members change meanwhile: a torn read is read again (bounded), a removed
 * node is passed through by its sibling pointer (which still leads right) but not collected, and a
 * removed first node of a level restarts the walk (bounded). Its result is a hint, not a proof:
 * a node split off or linked during the walk may be missing, and a node removed after it was read
 * may be present. {@link MemoryReclaim} uses it to skip the locked check for most kept nodes.
 */
final class TreeWalk {
    private static final int READ_ATTEMPTS = 1000;
    private static final int WALK_ATTEMPTS = 100;
    private static final long MAX_NODES = 1L << 26;

    private final Verbs verbs;
    private final NodeLayout layout;
    private final NodeImage image;

    TreeWalk(Verbs verbs, TreeConfig config) {
        this.verbs = verbs;
        this.layout = config.layout();
        this.image = new NodeImage(layout, ByteBuffer.allocate(layout.nodeBytes()));
    }

    /** The live nodes the walk reached. */
    Set<Long> liveNodes() {
        for (int attempt = 0; attempt < WALK_ATTEMPTS; attempt++) {
            Set<Long> live = walk();
            if (live != null) {
                return live;
            }
        }
        throw new IllegalStateException("the tree changed under every one of " + WALK_ATTEMPTS + " walks");
    }

    private Set<Long> walk() {
        Set<Long> live = new HashSet<>();
        Set<Long> seen = new HashSet<>();
        org.agrona.concurrent.UnsafeBuffer word = new org.agrona.concurrent.UnsafeBuffer(new byte[8]);
        verbs.read(IndexSuperblock.ROOT_POINTER, word, 0, 8);
        long head = word.getLong(0);
        while (head != GlobalAddress.NULL) {
            if (!read(head) || image.isRemoved()) {
                return null; // a level's first node changed under us: walk again
            }
            int level = image.level();
            long down = level > 0 ? image.leftmost() : GlobalAddress.NULL;
            long node = head;
            while (node != GlobalAddress.NULL && seen.add(node) && seen.size() < MAX_NODES) {
                if (!read(node)) {
                    return null;
                }
                if (!image.isRemoved() && image.level() == level) {
                    live.add(node);
                }
                node = image.sibling();
            }
            head = down;
        }
        return live;
    }

    private boolean read(long address) {
        for (int i = 0; i < READ_ATTEMPTS; i++) {
            verbs.read(address, image.buffer(), 0, layout.nodeBytes());
            if (image.checksumValid()) {
                return true;
            }
            Thread.onSpinWait();
        }
        return false;
    }
}
