package io.dmtree.core.tree;

import org.agrona.DirectBuffer;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A compute node's cache of internal tree nodes, so a warm lookup reads only its leaf. Each level
 * keeps copies keyed by their low fence; a lookup takes the copy with the greatest low fence not
 * above the key and uses it when its high fence is above the key.
 *
 * <p>Copies go stale when the node splits. That stays safe: low fences never change and a split
 * only moves keys right, so a stale copy leads to a node at or left of the right one, and the
 * B-link move-right finds the key. The tree drops a copy that led to such a move, so the next
 * lookup re-reads it. The cache never decides an answer, it only shortens the path.
 *
 * <p>Bounded in bytes: when an insert exceeds the budget, copies chosen at random are dropped
 * (from the lowest cached level first, whose nodes are the most numerous) until it fits.
 */
public final class IndexCache {
    private static final int MAX_LEVELS = 32;

    private final NodeLayout layout;
    private final long capacityBytes;
    private final List<ConcurrentSkipListMap<byte[], CachedNode>> levels = new ArrayList<>();
    private final AtomicLong bytes = new AtomicLong();
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    /** An immutable copy of an internal node. Safe to read from many threads. */
    public static final class CachedNode {
        final long address;
        final byte[] low;
        final NodeImage image;
        final long era;

        CachedNode(long address, byte[] low, NodeImage image, long era) {
            this.address = address;
            this.low = low;
            this.image = image;
            this.era = era;
        }

        /** The reuse era the copy was read at or after: its pointers may lead to nodes born no later. */
        public long era() {
            return era;
        }

        public long address() {
            return address;
        }

        public NodeImage image() {
            return image;
        }
    }

    public IndexCache(NodeLayout layout, long capacityBytes) {
        this.layout = layout;
        this.capacityBytes = capacityBytes;
        for (int i = 0; i < MAX_LEVELS; i++) {
            levels.add(new ConcurrentSkipListMap<>(Arrays::compareUnsigned));
        }
    }

    /**
     * The cached node of {@code level} covering {@code key} (given both as an array, for the map,
     * and as a buffer, for fence comparison), or null. Counts a hit or a miss.
     */
    public CachedNode lookup(int level, byte[] key, DirectBuffer keyBuffer) {
        if (level >= MAX_LEVELS || capacityBytes == 0) {
            misses.increment();
            return null;
        }
        Map.Entry<byte[], CachedNode> e = levels.get(level).floorEntry(key);
        if (e != null && !e.getValue().image.atOrAboveHigh(keyBuffer, 0)) {
            hits.increment();
            return e.getValue();
        }
        misses.increment();
        return null;
    }

    /** Caches a copy of the internal node image {@code node} read from {@code address}, at or after reuse era {@code era}. */
    public void put(NodeImage node, long address, long era) {
        int level = node.level();
        if (level == 0 || level >= MAX_LEVELS || capacityBytes < layout.nodeBytes()) {
            return;
        }
        byte[] copy = new byte[layout.nodeBytes()];
        node.copyTo(copy);
        NodeImage image = new NodeImage(layout, ByteBuffer.wrap(copy));
        byte[] low = new byte[layout.keyBytes()];
        image.buffer().getBytes(image.lowFenceOffset(), low);
        CachedNode previous = levels.get(level).put(low, new CachedNode(address, low, image, era));
        if (previous == null) {
            if (bytes.addAndGet(layout.nodeBytes()) > capacityBytes) {
                evict();
            }
        }
    }

    /** Drops the copy of the node at {@code address} that {@code entry} came from, if still cached. */
    public void invalidate(int level, CachedNode entry) {
        if (levels.get(level).remove(entry.low, entry)) {
            bytes.addAndGet(-layout.nodeBytes());
        }
    }

    private void evict() {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        byte[] probe = new byte[layout.keyBytes()];
        int guard = 0;
        while (bytes.get() > capacityBytes && guard++ < 1_000_000) {
            ConcurrentSkipListMap<byte[], CachedNode> victimLevel = null;
            for (ConcurrentSkipListMap<byte[], CachedNode> m : levels) {
                if (!m.isEmpty()) {
                    victimLevel = m;
                    break;
                }
            }
            if (victimLevel == null) {
                return;
            }
            rnd.nextBytes(probe);
            Map.Entry<byte[], CachedNode> e = victimLevel.ceilingEntry(probe);
            if (e == null) {
                e = victimLevel.firstEntry();
            }
            if (e != null && victimLevel.remove(e.getKey(), e.getValue())) {
                bytes.addAndGet(-layout.nodeBytes());
            }
        }
    }

    public long hits() {
        return hits.sum();
    }

    public long misses() {
        return misses.sum();
    }

    public long bytes() {
        return bytes.get();
    }

    public long capacityBytes() {
        return capacityBytes;
    }

    /** Drops every copy. */
    public void clear() {
        for (ConcurrentSkipListMap<byte[], CachedNode> m : levels) {
            m.clear();
        }
        bytes.set(0);
    }
}
