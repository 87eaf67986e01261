package io.dmtree.core.tree;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Walks every level of a quiescent tree and reports each violated invariant:
 * <ul>
 *   <li>every node's checksum matches, its level is its level in the walk, leaves are flagged leaves;</li>
 *   <li>each level's sibling chain starts at the all-zero low fence, links each node's high fence
 *   to the next node's low fence, ends at +inf, and has no cycle;</li>
 *   <li>keys lie within their node's fences; internal separators strictly increase; a leaf holds
 *   no key twice and its count matches its used slots;</li>
 *   <li>the children of one level, in order, are exactly the next level's chain, and each child's
 *   low fence is its separator;</li>
 *   <li>every key in a leaf is found by a root-to-leaf descent without sibling moves;</li>
 *   <li>no reachable node (through the root pointer, a child pointer or a sibling pointer) is
 *   removed ({@link NodeLayout#FLAG_REMOVED}), and removed nodes carry no live-node header
 *   fields: merges and root shrinks unlinked every node they removed.</li>
 * </ul>
 * Since leaf ranges tile the key space and each leaf has no duplicate, no key appears twice.
 * Then it accounts for the region bytes ({@link RegionAudit}: allocated, reachable, free, leaked),
 * adding as problems a reachable node whose block the chunk table does not record as a node.
 * Reads go through the given verbs (they show in its counters).
 */
public final class TreeChecker {
    private static final int MAX_PROBLEMS = 1000;

    private final Verbs verbs;
    private final TreeConfig config;
    private final NodeLayout layout;
    private final int keyBytes;
    private final Map<Long, NodeImage> nodes = new HashMap<>();
    private final List<String> problems = new ArrayList<>();

    public TreeChecker(Verbs verbs, TreeConfig config) {
        this.verbs = verbs;
        this.config = config;
        this.layout = config.layout();
        this.keyBytes = layout.keyBytes();
    }

    public TreeReport check() {
        nodes.clear();
        problems.clear();
        UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        verbs.read(IndexSuperblock.ROOT_POINTER, word, 0, 8);
        long root = word.getLong(0);
        if (root == GlobalAddress.NULL) {
            return new TreeReport(0, List.of(), 0, List.of("root pointer is null"));
        }
        NodeImage rootImage = load(root);
        if (rootImage == null) {
            return new TreeReport(0, List.of(), 0, List.copyOf(problems));
        }
        int height = rootImage.level() + 1;
        List<List<Long>> chains = new ArrayList<>();
        for (int i = 0; i < height; i++) {
            chains.add(List.of());
        }
        long head = root;
        for (int level = height - 1; level >= 0 && head != GlobalAddress.NULL; level--) {
            List<Long> chain = walkLevel(head, level);
            chains.set(level, chain);
            NodeImage first = nodes.get(head);
            head = level > 0 && first != null ? first.leftmost() : GlobalAddress.NULL;
        }
        for (int level = height - 1; level >= 1; level--) {
            checkChildren(level, chains.get(level), chains.get(level - 1));
        }
        long keys = checkReachability(root, chains.get(0));
        List<Integer> perLevel = new ArrayList<>();
        Set<Long> reachable = new HashSet<>();
        for (List<Long> chain : chains) {
            perLevel.add(chain.size());
            reachable.addAll(chain);
        }
        RegionUse region = RegionAudit.audit(verbs, config, reachable, keys, problems);
        return new TreeReport(height, perLevel, keys, List.copyOf(problems), region);
    }

    private void problem(String text) {
        if (problems.size() < MAX_PROBLEMS) {
            problems.add(text);
        }
    }

    private NodeImage load(long address) {
        NodeImage cached = nodes.get(address);
        if (cached != null) {
            return cached;
        }
        NodeImage image = new NodeImage(layout, ByteBuffer.allocate(layout.nodeBytes()));
        try {
            verbs.read(address, image.buffer(), 0, layout.nodeBytes());
        } catch (RuntimeException e) {
            problem("node " + GlobalAddress.toString(address) + " cannot be read: " + e.getMessage());
            return null;
        }
        if (!image.checksumValid()) {
            problem("node " + GlobalAddress.toString(address) + " fails its checksum");
            return null;
        }
        if (image.isRemoved()) {
            problem("node " + GlobalAddress.toString(address) + " is reachable but removed (forward "
                    + GlobalAddress.toString(image.forward()) + ", removed by member " + image.removedBy() + ")");
        } else if (image.forward() != GlobalAddress.NULL || image.removedBy() != 0) {
            problem("node " + GlobalAddress.toString(address) + " is live but carries a removal's forward or remover");
        }
        nodes.put(address, image);
        return image;
    }

    private String at(long address) {
        return "node " + GlobalAddress.toString(address);
    }

    private List<Long> walkLevel(long head, int level) {
        List<Long> chain = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        NodeImage previous = null;
        long address = head;
        while (address != GlobalAddress.NULL) {
            if (!seen.add(address)) {
                problem("level " + level + " sibling chain has a cycle at " + at(address));
                break;
            }
            NodeImage n = load(address);
            if (n == null) {
                break;
            }
            chain.add(address);
            if (n.level() != level) {
                problem(at(address) + " has level " + n.level() + " in the chain of level " + level);
            }
            if (n.isLeaf() != (level == 0)) {
                problem(at(address) + " leaf flag is " + n.isLeaf() + " at level " + level);
            }
            if (previous == null) {
                if (!isZero(n.buffer(), n.lowFenceOffset())) {
                    problem(at(address) + " starts level " + level + " but its low fence is not the least key");
                }
            } else if (previous.highInfinite()
                    || !KeyOrder.equal(previous.buffer(), previous.highFenceOffset(), n.buffer(), n.lowFenceOffset(), keyBytes)) {
                problem(at(address) + " low fence differs from its left neighbour's high fence at level " + level);
            }
            if (!n.highInfinite() && KeyOrder.compare(n.buffer(), n.lowFenceOffset(), n.buffer(), n.highFenceOffset(), keyBytes) >= 0) {
                problem(at(address) + " has an empty or inverted fence range");
            }
            if (n.isLeaf()) {
                checkLeaf(address, n);
            } else {
                checkInternal(address, n);
            }
            previous = n;
            if (n.highInfinite()) {
                if (n.sibling() != GlobalAddress.NULL) {
                    problem(at(address) + " has a +inf high fence but a sibling");
                }
                break;
            }
            if (n.sibling() == GlobalAddress.NULL) {
                problem(at(address) + " ends level " + level + " without a +inf high fence");
            }
            address = n.sibling();
        }
        return chain;
    }

    private boolean within(NodeImage n, UnsafeBuffer buffer, int offset) {
        return !n.belowLow(buffer, offset) && !n.atOrAboveHigh(buffer, offset);
    }

    private void checkLeaf(long address, NodeImage n) {
        int used = 0;
        int capacity = layout.leafCapacity();
        for (int i = 0; i < capacity; i++) {
            if (!n.leafUsed(i)) {
                continue;
            }
            used++;
            if (!within(n, n.buffer(), n.leafKeyOffset(i))) {
                problem(at(address) + " leaf slot " + i + " holds a key outside its fences");
            }
            for (int j = i + 1; j < capacity; j++) {
                if (n.leafUsed(j) && KeyOrder.equal(n.buffer(), n.leafKeyOffset(i), n.buffer(), n.leafKeyOffset(j), keyBytes)) {
                    problem(at(address) + " holds one key twice (slots " + i + " and " + j + ")");
                }
            }
        }
        if (used != n.count()) {
            problem(at(address) + " count says " + n.count() + " entries but " + used + " slots are used");
        }
    }

    private void checkInternal(long address, NodeImage n) {
        if (n.count() > layout.internalCapacity()) {
            problem(at(address) + " count " + n.count() + " exceeds capacity");
            return;
        }
        for (int i = 0; i < n.count(); i++) {
            if (!within(n, n.buffer(), n.internalKeyOffset(i)) || (i == 0
                    && KeyOrder.equal(n.buffer(), n.internalKeyOffset(0), n.buffer(), n.lowFenceOffset(), keyBytes))) {
                problem(at(address) + " separator " + i + " lies outside (low, high)");
            }
            if (i > 0 && KeyOrder.compare(n.buffer(), n.internalKeyOffset(i - 1), n.buffer(), n.internalKeyOffset(i), keyBytes) >= 0) {
                problem(at(address) + " separators " + (i - 1) + " and " + i + " are not increasing");
            }
        }
    }

    private void checkChildren(int level, List<Long> parents, List<Long> below) {
        List<Long> children = new ArrayList<>();
        for (long p : parents) {
            NodeImage n = nodes.get(p);
            if (n == null) {
                continue;
            }
            for (int i = -1; i < n.count(); i++) {
                long child = i < 0 ? n.leftmost() : n.child(i);
                children.add(child);
                NodeImage c = load(child);
                if (c == null) {
                    continue;
                }
                int sepOffset = i < 0 ? n.lowFenceOffset() : n.internalKeyOffset(i);
                if (!KeyOrder.equal(n.buffer(), sepOffset, c.buffer(), c.lowFenceOffset(), keyBytes)) {
                    problem(at(child) + " low fence differs from its separator in parent " + at(p));
                }
            }
        }
        if (!children.equals(below)) {
            problem("the children of level " + level + " (" + children.size() + ") are not the chain of level "
                    + (level - 1) + " (" + below.size() + ")" + firstDifference(children, below));
        }
    }

    private static String firstDifference(List<Long> a, List<Long> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            if (!a.get(i).equals(b.get(i))) {
                return ": first difference at position " + i + ", " + GlobalAddress.toString(a.get(i)) + " vs "
                        + GlobalAddress.toString(b.get(i));
            }
        }
        return "";
    }

    private long checkReachability(long root, List<Long> leaves) {
        long keys = 0;
        UnsafeBuffer key = new UnsafeBuffer(new byte[keyBytes]);
        for (long leaf : leaves) {
            NodeImage n = nodes.get(leaf);
            for (int i = 0; i < layout.leafCapacity(); i++) {
                if (!n.leafUsed(i)) {
                    continue;
                }
                keys++;
                key.putBytes(0, n.buffer(), n.leafKeyOffset(i), keyBytes);
                long address = root;
                NodeImage at = nodes.get(address);
                while (at != null && !at.isLeaf()) {
                    address = at.childFor(key, 0);
                    at = nodes.get(address);
                }
                if (address != leaf) {
                    problem("a key of " + at(leaf) + " is not reached by descent from the root (lands on "
                            + GlobalAddress.toString(address) + ")");
                }
            }
        }
        return keys;
    }

    private boolean isZero(UnsafeBuffer buffer, int offset) {
        for (int i = 0; i < keyBytes; i++) {
            if (buffer.getByte(offset + i) != 0) {
                return false;
            }
        }
        return true;
    }
}
