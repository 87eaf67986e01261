package io.dmtree.core.tree;

import io.dmtree.core.memory.VerbBatch;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;

/**
 * Ordered navigation over a {@link BLinkTree} without locks: {@code ceiling}, {@code higher},
 * {@code floor}, {@code lower}, {@code first}, {@code last} (linearizable), reverse scans and an
 * approximate size (weakly consistent).
 *
 * <h2>Linearizable navigation by validated leaf images</h2>
 * A consistent image of a leaf (its checksum matches) is the state its key range [low, high) had at
 * the instant it was read, since only that leaf holds keys of that range ({@link BLinkTree},
 * invariant 1). So an answer found in the first leaf read, the one whose range holds the probe key,
 * is linearizable at that read, like a lookup.
 *
 * <p>When that leaf holds no answer, the search crosses to a neighbour: {@code ceiling} to the
 * right sibling (whose low fence must equal the leaf's high fence), {@code floor} to the leaf that
 * holds the predecessor of the leaf's low fence (whose high fence must equal that low fence and
 * whose sibling must be the leaf, so the two were adjacent when it was read). The neighbour's image
 * is read later than the first one, so the two images alone prove nothing: between them the first
 * leaf may have gained and lost an answer (one thread puts 8 then 13; a ceiling(8) that read the
 * leaf of 8 before the put and the leaf of 13 after would answer 13, though no instant had 13
 * without 8). So every leaf crossed without an answer is <em>validated</em> after the answer's leaf
 * was read: it is read again (all of them in one batch, one round trip per memory node) and must
 * have the same write counter and checksum. A node's write counter grows with every write-back
 * ({@link NodeLayout}), so an unchanged counter means the leaf was unchanged for the whole time
 * from its first read to its validation, which includes the instant the answer's leaf was read:
 * at that instant every crossed range was as first read and the answer's leaf as read, which is
 * the linearization point. A validation that fails (a changed or torn leaf, a neighbour removed or
 * no longer adjacent) restarts the search from the probe key; restarts are counted
 * ({@link TreeStats#restarts}) and bounded.
 *
 * <p>Cost with a warm cache: one READ when the first leaf answers; crossing k leaves adds k READs
 * (floor: k descents, one READ each while the cache is warm) and one batched validation round trip.
 *
 * <h2>Weakly consistent operations</h2>
 * A reverse scan reads the leaf holding its bound, emits the leaf's keys at or below the bound in
 * descending order, and continues with the leaf holding the predecessor of that leaf's low fence.
 * Since each image is consistent and low fences never move, the ranges visited tile the key space
 * downwards: every key present for the whole scan is returned, none absent for the whole scan is,
 * and none twice, as for forward scans. {@link #approximateSize()} sums the entry counts of the leaf
 * chain read left to right, one READ per leaf: exact when nothing changes meanwhile.
 *
 * <p>Keys are the index's fixed width; results are copied into the caller's arrays. Thread-safe:
 * scratch images are per thread.
 */
public final class TreeNavigation {
    private static final int MAX_RESTARTS = 100_000;

    private final BLinkTree tree;
    private final NodeLayout layout;
    private final int keyBytes;
    private final int valueBytes;
    private final ThreadLocal<Scratch> scratch;
    private volatile boolean validating = true;
    private volatile Runnable onCrossing;

    /** Per-thread images, the leaves crossed and their validation reads. */
    private static final class Scratch {
        NodeImage leaf;
        NodeImage next;
        final byte[] bound;
        final UnsafeBuffer boundBuffer;
        final byte[] fence;
        final UnsafeBuffer fenceBuffer;
        final VerbBatch batch = new VerbBatch();
        long[] crossed = new long[8];
        int[] crossedWrites = new int[8];
        int[] crossedChecksums = new int[8];
        NodeImage[] checks = new NodeImage[0];
        int crossedCount;
        int[] order = new int[64];
        final NodeLayout layout;

        Scratch(NodeLayout layout) {
            this.layout = layout;
            leaf = new NodeImage(layout);
            next = new NodeImage(layout);
            bound = new byte[layout.keyBytes()];
            boundBuffer = new UnsafeBuffer(bound);
            fence = new byte[layout.keyBytes()];
            fenceBuffer = new UnsafeBuffer(fence);
        }

        void swap() {
            NodeImage t = leaf;
            leaf = next;
            next = t;
        }

        void cross(long address, NodeImage image) {
            if (crossedCount == crossed.length) {
                crossed = Arrays.copyOf(crossed, crossedCount * 2);
                crossedWrites = Arrays.copyOf(crossedWrites, crossedCount * 2);
                crossedChecksums = Arrays.copyOf(crossedChecksums, crossedCount * 2);
            }
            crossed[crossedCount] = address;
            crossedWrites[crossedCount] = image.writes();
            crossedChecksums[crossedCount] = image.buffer().getInt(NodeLayout.CHECKSUM_OFFSET);
            crossedCount++;
        }
    }

    public TreeNavigation(BLinkTree tree) {
        this.tree = tree;
        this.layout = tree.config().layout();
        this.keyBytes = layout.keyBytes();
        this.valueBytes = layout.valueBytes();
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(layout));
    }

    /**
     * Whether crossed leaves are validated (on by default). Off, navigation that crosses leaves is
     * not linearizable: a diagnostic for tests that show what validation prevents.
     */
    public void validating(boolean on) {
        validating = on;
    }

    /**
     * Runs {@code action} (null: nothing) on the navigating thread each time a leaf is crossed
     * without an answer, before the next leaf is read: lets tests interleave writes at that point.
     */
    public void onCrossing(Runnable action) {
        onCrossing = action;
    }

    private void crossed() {
        Runnable r = onCrossing;
        if (r != null) {
            r.run();
        }
    }

    /**
     * The least key at or above {@code key} ({@code inclusive}) or above it: copies it to
     * {@code keyOut} and its value to {@code valueOut} (either may be null) and returns true, or
     * returns false when there is none. Linearizable.
     */
    public boolean ceiling(byte[] key, boolean inclusive, byte[] keyOut, byte[] valueOut) {
        checkKey(key);
        Scratch s = scratch.get();
        for (int restart = 0; restart < MAX_RESTARTS; restart++) {
            s.crossedCount = 0;
            System.arraycopy(key, 0, s.bound, 0, keyBytes);
            boolean boundInclusive = inclusive;
            long address = tree.readLeaf(key, s.leaf);
            while (true) {
                NodeImage n = s.leaf;
                int slot = leastFrom(n, s.boundBuffer, boundInclusive);
                if (slot >= 0 || n.highInfinite()) {
                    if (!validate(s)) {
                        break; // a crossed leaf changed meanwhile: restart
                    }
                    return slot >= 0 && copyOut(n, slot, keyOut, valueOut);
                }
                s.cross(address, n);
                n.buffer().getBytes(n.highFenceOffset(), s.bound);
                boundInclusive = true;
                address = n.sibling();
                crossed();
                tree.readNode(address, s.next);
                NodeImage m = s.next;
                if (m.isRemoved() || m.level() != 0
                        || !KeyOrder.equal(m.buffer(), m.lowFenceOffset(), s.boundBuffer, 0, keyBytes)) {
                    tree.stats().restarts.increment(); // the sibling was merged away since: restart
                    break;
                }
                s.swap();
            }
        }
        throw new IllegalStateException("ceiling restarted " + MAX_RESTARTS + " times: its leaves never stayed unchanged");
    }

    /**
     * The greatest key at or below {@code key} ({@code inclusive}) or below it, as
     * {@link #ceiling}. Linearizable.
     */
    public boolean floor(byte[] key, boolean inclusive, byte[] keyOut, byte[] valueOut) {
        checkKey(key);
        Scratch s = scratch.get();
        for (int restart = 0; restart < MAX_RESTARTS; restart++) {
            s.crossedCount = 0;
            System.arraycopy(key, 0, s.bound, 0, keyBytes);
            boolean boundInclusive = inclusive;
            long address = tree.readLeaf(key, s.leaf);
            while (true) {
                NodeImage n = s.leaf;
                int slot = greatestTo(n, s.boundBuffer, boundInclusive);
                n.buffer().getBytes(n.lowFenceOffset(), s.fence);
                boolean leftmost = isZero(s.fence);
                if (slot >= 0 || leftmost) {
                    if (!validate(s)) {
                        break;
                    }
                    return slot >= 0 && copyOut(n, slot, keyOut, valueOut);
                }
                s.cross(address, n);
                System.arraycopy(s.fence, 0, s.bound, 0, keyBytes);
                predecessor(s.bound); // never all-zero here: the low fence is not the least key
                boundInclusive = true;
                long right = address;
                crossed();
                address = tree.readLeaf(s.bound, s.next);
                NodeImage m = s.next;
                if (m.highInfinite() || m.sibling() != right
                        || !KeyOrder.equal(m.buffer(), m.highFenceOffset(), s.fenceBuffer, 0, keyBytes)) {
                    tree.stats().restarts.increment(); // not adjacent any more (a merge or a split between): restart
                    break;
                }
                s.swap();
            }
        }
        throw new IllegalStateException("floor restarted " + MAX_RESTARTS + " times: its leaves never stayed unchanged");
    }

    /** The least entry, as {@link #ceiling}. Linearizable. */
    public boolean first(byte[] keyOut, byte[] valueOut) {
        return ceiling(new byte[keyBytes], true, keyOut, valueOut);
    }

    /** The greatest entry, as {@link #floor}. Linearizable. */
    public boolean last(byte[] keyOut, byte[] valueOut) {
        byte[] top = new byte[keyBytes];
        Arrays.fill(top, (byte) 0xFF);
        return floor(top, true, keyOut, valueOut);
    }

    /**
     * Visits up to {@code limit} entries with {@code downTo <= key <= from} ({@code key < from}
     * unless {@code inclusive}; no lower bound when {@code downTo} is null) in descending key order;
     * returns how many. Weakly consistent, as the class comment says.
     */
    public int reverseScan(byte[] from, boolean inclusive, byte[] downTo, int limit, ScanVisitor visitor) {
        checkKey(from);
        if (downTo != null) {
            checkKey(downTo);
        }
        if (limit < 0) {
            throw new IllegalArgumentException("scan limit must not be negative: " + limit);
        }
        Scratch s = scratch.get();
        System.arraycopy(from, 0, s.bound, 0, keyBytes);
        boolean boundInclusive = inclusive;
        UnsafeBuffer lower = downTo == null ? null : new UnsafeBuffer(downTo);
        int visited = 0;
        while (visited < limit) {
            tree.readLeaf(s.bound, s.leaf);
            NodeImage n = s.leaf;
            int found = sortedDescendingTo(s, n, s.boundBuffer, boundInclusive);
            for (int i = 0; i < found; i++) {
                int keyOffset = n.leafKeyOffset(s.order[i]);
                if (lower != null && KeyOrder.compare(n.buffer(), keyOffset, lower, 0, keyBytes) < 0) {
                    return visited;
                }
                visited++;
                if (!visitor.visit(n.buffer(), keyOffset, n.leafValueOffset(s.order[i])) || visited == limit) {
                    return visited;
                }
            }
            n.buffer().getBytes(n.lowFenceOffset(), s.bound);
            if (isZero(s.bound) || (lower != null && KeyOrder.compare(n.buffer(), n.lowFenceOffset(), lower, 0, keyBytes) <= 0)) {
                return visited;
            }
            predecessor(s.bound); // continue left of this leaf's range
            boundInclusive = true;
        }
        return visited;
    }

    /**
     * The number of entries, summed over the leaf chain read left to right (one READ per leaf).
     * Weakly consistent: exact when nothing changes while it runs.
     */
    public long approximateSize() {
        Scratch s = scratch.get();
        Arrays.fill(s.bound, (byte) 0);
        tree.readLeaf(s.bound, s.leaf);
        long size = 0;
        for (int leaves = 0; ; leaves++) {
            NodeImage n = s.leaf;
            size += countFrom(n, s.boundBuffer); // all of it, unless a merge moved counted keys into it
            if (n.highInfinite()) {
                return size;
            }
            n.buffer().getBytes(n.highFenceOffset(), s.bound);
            tree.readNode(n.sibling(), s.next);
            NodeImage m = s.next;
            if (m.isRemoved() || m.level() != 0 || !KeyOrder.equal(m.buffer(), m.lowFenceOffset(), s.boundBuffer, 0, keyBytes)) {
                tree.readLeaf(s.bound, s.next); // merged away since: the leaf that holds the range now
            }
            s.swap();
            if (leaves == Integer.MAX_VALUE) {
                throw new IllegalStateException("the leaf chain does not end");
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Re-reads every crossed leaf in one batch; true when each is unchanged since it was crossed. */
    private boolean validate(Scratch s) {
        int k = s.crossedCount;
        if (k == 0 || !validating) {
            return true;
        }
        if (s.checks.length < k) {
            NodeImage[] grown = Arrays.copyOf(s.checks, Math.max(k, s.checks.length * 2));
            for (int i = s.checks.length; i < grown.length; i++) {
                grown[i] = new NodeImage(layout);
            }
            s.checks = grown;
        }
        VerbBatch b = s.batch;
        b.clear();
        for (int i = 0; i < k; i++) {
            b.read(s.crossed[i], s.checks[i].buffer(), 0, layout.nodeBytes());
        }
        tree.verbs().post(b);
        b.clear();
        for (int i = 0; i < k; i++) {
            NodeImage c = s.checks[i];
            if (!c.checksumValid() || c.writes() != s.crossedWrites[i]
                    || c.buffer().getInt(NodeLayout.CHECKSUM_OFFSET) != s.crossedChecksums[i]) {
                tree.stats().restarts.increment();
                return false;
            }
        }
        return true;
    }

    private boolean copyOut(NodeImage n, int slot, byte[] keyOut, byte[] valueOut) {
        if (keyOut != null) {
            n.buffer().getBytes(n.leafKeyOffset(slot), keyOut, 0, keyBytes);
        }
        if (valueOut != null) {
            n.buffer().getBytes(n.leafValueOffset(slot), valueOut, 0, valueBytes);
        }
        return true;
    }

    /** The slot of the least key at or above (or above) {@code bound}, or -1. */
    private int leastFrom(NodeImage n, DirectBuffer bound, boolean inclusive) {
        int best = -1;
        int capacity = layout.leafCapacity();
        for (int slot = 0; slot < capacity; slot++) {
            if (!n.leafUsed(slot)) {
                continue;
            }
            int c = KeyOrder.compare(n.buffer(), n.leafKeyOffset(slot), bound, 0, keyBytes);
            if ((c > 0 || (inclusive && c == 0))
                    && (best < 0 || KeyOrder.compare(n.buffer(), n.leafKeyOffset(slot), n.buffer(), n.leafKeyOffset(best), keyBytes) < 0)) {
                best = slot;
            }
        }
        return best;
    }

    /** The slot of the greatest key at or below (or below) {@code bound}, or -1. */
    private int greatestTo(NodeImage n, DirectBuffer bound, boolean inclusive) {
        int best = -1;
        int capacity = layout.leafCapacity();
        for (int slot = 0; slot < capacity; slot++) {
            if (!n.leafUsed(slot)) {
                continue;
            }
            int c = KeyOrder.compare(n.buffer(), n.leafKeyOffset(slot), bound, 0, keyBytes);
            if ((c < 0 || (inclusive && c == 0))
                    && (best < 0 || KeyOrder.compare(n.buffer(), n.leafKeyOffset(slot), n.buffer(), n.leafKeyOffset(best), keyBytes) > 0)) {
                best = slot;
            }
        }
        return best;
    }

    private int countFrom(NodeImage n, DirectBuffer bound) {
        int count = 0;
        for (int slot = 0; slot < layout.leafCapacity(); slot++) {
            if (n.leafUsed(slot) && KeyOrder.compare(n.buffer(), n.leafKeyOffset(slot), bound, 0, keyBytes) >= 0) {
                count++;
            }
        }
        return count;
    }

    /** Slots of the leaf's keys at or below (or below) {@code bound}, in descending key order; returns their count. */
    private int sortedDescendingTo(Scratch s, NodeImage n, DirectBuffer bound, boolean inclusive) {
        int capacity = layout.leafCapacity();
        if (s.order.length < capacity) {
            s.order = new int[capacity];
        }
        int found = 0;
        for (int slot = 0; slot < capacity; slot++) {
            if (!n.leafUsed(slot)) {
                continue;
            }
            int c = KeyOrder.compare(n.buffer(), n.leafKeyOffset(slot), bound, 0, keyBytes);
            if (c < 0 || (inclusive && c == 0)) {
                int j = found - 1;
                while (j >= 0 && KeyOrder.compare(n.buffer(), n.leafKeyOffset(s.order[j]), n.buffer(), n.leafKeyOffset(slot), keyBytes) < 0) {
                    s.order[j + 1] = s.order[j];
                    j--;
                }
                s.order[j + 1] = slot;
                found++;
            }
        }
        return found;
    }

    /** Decrements a fixed-width unsigned big-endian key by one; false (unchanged) for the all-zero key. */
    static boolean predecessor(byte[] key) {
        for (int i = key.length - 1; i >= 0; i--) {
            if (key[i] != 0) {
                key[i]--;
                for (int j = i + 1; j < key.length; j++) {
                    key[j] = (byte) 0xFF;
                }
                return true;
            }
        }
        return false;
    }

    /** Increments a fixed-width unsigned big-endian key by one; false (unchanged) for the all-0xFF key. */
    static boolean successor(byte[] key) {
        for (int i = key.length - 1; i >= 0; i--) {
            if (key[i] != (byte) 0xFF) {
                key[i]++;
                for (int j = i + 1; j < key.length; j++) {
                    key[j] = 0;
                }
                return true;
            }
        }
        return false;
    }

    private static boolean isZero(byte[] key) {
        for (byte b : key) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private void checkKey(byte[] key) {
        if (key == null || key.length != keyBytes) {
            throw new IllegalArgumentException("key must be " + keyBytes + " bytes, got "
                    + (key == null ? "null" : key.length + " bytes"));
        }
    }
}
