package io.dmtree.core.tree;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.LockTable;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A B-link tree in memory-node memory, operated by one compute node with one-sided verbs. Many
 * compute nodes run their own instance on the same index; they share nothing but MN memory.
 *
 * <h2>Structure</h2>
 * Fixed-size nodes ({@link NodeLayout}); every node has a low fence (inclusive), a high fence
 * (exclusive, or +inf), a level (leaves are 0) and a right-sibling pointer; each level is a
 * sibling chain from the all-zero low fence to +inf. Leaves are unsorted, internal nodes sorted.
 * The root's address lives in the superblock on memory node 0 and changes only by CAS.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>A node's low fence never changes after it becomes reachable. A split writes the new right
 *   node (upper half, fences [sep, old high), old sibling) before it rewrites the left node (lower
 *   half, high fence sep, sibling = new node); so every key is, at every instant, in the one
 *   node of its level whose fences hold it, reachable by following siblings from any node at
 *   or left of it.</li>
 *   <li>Only the holder of a node's lock writes a reachable node, and it writes it back together
 *   with the release, in one batch: first its redo record, then the node, then the record's
 *   retirement, then the release ({@link RedoLog}). Nodes that are not yet reachable are written
 *   without a lock.</li>
 *   <li>Every node image carries a CRC32C over its bytes; readers accept only images whose checksum
 *   matches, so a read torn by a concurrent write-back is retried, in whatever order its cache
 *   lines were placed. Lock-free readers thus see some state the node really had.</li>
 *   <li>A writer holds at most one lock at a time: a split releases the split node before the
 *   separator goes into the parent. Locks are shared by hashing ({@link LockTable}), which cannot
 *   deadlock a thread that holds one lock at a time.</li>
 *   <li>Separators reach parents after the split (B-link); until then the new node is reached by
 *   the move-right rule. A separator is inserted at most once per level (a duplicate is skipped:
 *   a low fence names one node forever). A separator equal to the low fence of the node that
 *   would take it is present already: an internal split pushed it up as that node's low fence.</li>
 * </ol>
 *
 * <h2>Operations</h2>
 * A traversal takes a leaf address from the compute node's {@link IndexCache} (one READ for a
 * warm lookup) or descends from the root. At each node: key &ge; high fence means follow the
 * sibling (the node split after we chose it); a node of the wrong level or a key below the low
 * fence means the path was wrong, so the traversal restarts from the root without the cache.
 * An update or insert locks the leaf, reads it, checks fences (moving right if needed), writes
 * back one entry plus the header and releases in one batch: three round trips uncontended. A full
 * leaf splits. When the root itself splits, the splitter (or any thread that finds the root's
 * level too low for its separator) builds a new root over the whole top-level chain and CASes
 * the root pointer; the loser inserts its separator the normal way. This is safe from an empty
 * tree with any number of concurrent inserters.
 *
 * <p>Scans read a leaf, emit its keys in the requested range in order, and continue at the sibling
 * with the leaf's high fence as the new lower bound. Because each leaf image is consistent and low
 * fences never move, the visited leaves' ranges tile the key space: a key present for the whole
 * scan is in the image of the leaf that held it when that leaf was read.
 *
 * <h2>Failures</h2>
 * A member may die between any two verbs, partway through a batch or a WRITE, or between the
 * halves of a split. Each write-back carries a redo record ({@link RedoLog} states the protocol
 * and its invariants); {@link TreeRecovery} run by a live member replays a lapsed member's
 * records, so every node is valid again, and completes its half-done splits. Until then a reader
 * of a node whose write-back was cut short retries on its checksum.
 */
public final class BLinkTree {
    /** Give up on a node whose checksum never matches: it is corrupt, not just being written. */
    private static final int MAX_TORN_RETRIES = 1_000_000;
    private static final int MAX_RESTARTS = 10_000;

    private final TreeConfig config;
    private final NodeLayout layout;
    private final Verbs verbs;
    private final LockClient locks;
    private final LockTable lockTable;
    private final NodeAllocator allocator;
    private final IndexCache cache;
    private final RedoLog redo;
    private final TreeStats stats = new TreeStats();
    private final int keyBytes;
    private final int valueBytes;
    private final ThreadLocal<Worker> workers;
    private volatile long root;

    /** Per-thread scratch: node images, the current key, a batch. */
    private static final class Worker {
        final NodeImage node;
        final NodeImage other;
        final byte[] key;
        final UnsafeBuffer keyBuffer;
        final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        final VerbBatch batch = new VerbBatch();
        final RedoRecord record;
        /** The redo slot this worker prefers, and the one it holds during a write operation (else -1). */
        final int preferredSlot;
        int slot = -1;
        int[] order = new int[64];
        long[] sortKeys = new long[64];
        /** The cache entry the current leaf address came from, or null. */
        IndexCache.CachedNode via;
        /** The node {@link #lockCovering} locked. */
        long lockedNode;
        /** True when {@link #node} already holds a consistent image of the address descend returned. */
        boolean loaded;

        Worker(NodeLayout layout, int preferredSlot) {
            this.preferredSlot = preferredSlot;
            record = new RedoRecord(layout);
            node = new NodeImage(layout);
            other = new NodeImage(layout);
            key = new byte[layout.keyBytes()];
            keyBuffer = new UnsafeBuffer(key);
        }
    }

    /**
     * @param redo this member's redo log ({@link RedoLog#open}), on the same verbs
     */
    public BLinkTree(TreeConfig config, Verbs verbs, LockClient locks, LockTable lockTable, NodeAllocator allocator,
                     IndexCache cache, RedoLog redo, long rootAddress) {
        if (redo.layout().nodeBytes() != config.nodeBytes() || redo.layout().keyBytes() != config.keyBytes()) {
            throw new IllegalArgumentException("redo log laid out for another node shape");
        }
        this.config = config;
        this.layout = config.layout();
        this.verbs = verbs;
        this.locks = locks;
        this.lockTable = lockTable;
        this.allocator = allocator;
        this.cache = cache;
        this.redo = redo;
        this.keyBytes = layout.keyBytes();
        this.valueBytes = layout.valueBytes();
        this.workers = ThreadLocal.withInitial(() -> new Worker(layout, redo.writers().preferredSlot()));
        this.root = rootAddress;
    }

    public TreeConfig config() {
        return config;
    }

    public TreeStats stats() {
        return stats;
    }

    public IndexCache cache() {
        return cache;
    }

    public RedoLog redoLog() {
        return redo;
    }

    Verbs verbs() {
        return verbs;
    }

    // ------------------------------------------------------------------ public operations

    /** Looks {@code key} up; copies its value to {@code valueOut} and returns true when present. */
    public boolean get(byte[] key, MutableDirectBuffer valueOut, int valueOffset) {
        Worker w = workerFor(key);
        return get(w, valueOut, valueOffset);
    }

    /** {@link #get(byte[], MutableDirectBuffer, int)} for an 8-byte key given as a {@code long}. */
    public boolean get(long key, MutableDirectBuffer valueOut, int valueOffset) {
        Worker w = workerFor(key);
        return get(w, valueOut, valueOffset);
    }

    /** Inserts or replaces; true when the key was new. */
    public boolean put(byte[] key, DirectBuffer value, int valueOffset) {
        Worker w = workerFor(key);
        return put(w, value, valueOffset);
    }

    public boolean put(long key, DirectBuffer value, int valueOffset) {
        Worker w = workerFor(key);
        return put(w, value, valueOffset);
    }

    /** Removes {@code key}; true when it was present. */
    public boolean delete(byte[] key) {
        return delete(workerFor(key));
    }

    public boolean delete(long key) {
        return delete(workerFor(key));
    }

    /**
     * Visits up to {@code limit} entries with {@code from <= key < toExclusive} (no upper bound when
     * {@code toExclusive} is null) in key order; returns how many were visited.
     */
    public int scan(byte[] from, byte[] toExclusive, int limit, ScanVisitor visitor) {
        if (toExclusive != null) {
            checkKey(toExclusive);
        }
        return scan(workerFor(from), toExclusive == null ? null : new UnsafeBuffer(toExclusive), limit, visitor);
    }

    /** {@link #scan(byte[], byte[], int, ScanVisitor)} from an 8-byte key given as a {@code long}, no upper bound. */
    public int scan(long from, int limit, ScanVisitor visitor) {
        return scan(workerFor(from), null, limit, visitor);
    }

    private Worker workerFor(byte[] key) {
        checkKey(key);
        Worker w = workers.get();
        System.arraycopy(key, 0, w.key, 0, keyBytes);
        return w;
    }

    private Worker workerFor(long key) {
        if (keyBytes != Long.BYTES) {
            throw new IllegalArgumentException("long keys need an index of 8-byte keys; this one has " + keyBytes + "-byte keys");
        }
        Worker w = workers.get();
        KeyOrder.putLongKey(w.keyBuffer, 0, key);
        return w;
    }

    private void checkKey(byte[] key) {
        if (key == null || key.length != keyBytes) {
            throw new IllegalArgumentException("key must be " + keyBytes + " bytes, got "
                    + (key == null ? "null" : key.length + " bytes"));
        }
    }

    // ------------------------------------------------------------------ lookups

    private boolean get(Worker w, MutableDirectBuffer valueOut, int valueOffset) {
        readCovering(w, descend(w, 0));
        NodeImage n = w.node;
        int slot = keyBytes == Long.BYTES
                ? n.findLeafLongKey(w.keyBuffer.getLong(0, ByteOrder.BIG_ENDIAN))
                : n.findLeafKey(w.keyBuffer, 0);
        if (slot < 0) {
            return false;
        }
        valueOut.putBytes(valueOffset, n.buffer(), n.leafValueOffset(slot), valueBytes);
        return true;
    }

    /**
     * Lock-free: reads from {@code leaf} on (following siblings, or restarting from the root when
     * the path was wrong) until {@code w.node} holds a consistent image of the leaf whose fences
     * hold the worker's key; returns that leaf's address.
     */
    private long readCovering(Worker w, long leaf) {
        int restarts = 0;
        while (true) {
            if (!w.loaded) {
                readConsistent(leaf, w.node);
            }
            w.loaded = false;
            NodeImage n = w.node;
            if (n.level() != 0 || n.belowLow(w.keyBuffer, 0)) {
                leaf = restart(w, 0, ++restarts);
                continue;
            }
            if (n.atOrAboveHigh(w.keyBuffer, 0)) {
                leaf = moveRight(w, n);
                continue;
            }
            return leaf;
        }
    }

    /**
     * The address of the node at {@code level} whose range held the worker's key when it was read,
     * from the cache or from the root; {@link GlobalAddress#NULL} when the tree is lower than
     * {@code level}. Sets {@code w.via} and {@code w.loaded}.
     */
    private long descend(Worker w, int level) {
        w.loaded = false;
        IndexCache.CachedNode hit = cache.lookup(level + 1, w.key, w.keyBuffer);
        if (hit != null) {
            w.via = hit;
            return hit.image().childFor(w.keyBuffer, 0);
        }
        w.via = null;
        return descendFromRoot(w, level);
    }

    private long descendFromRoot(Worker w, int level) {
        w.via = null;
        long address = root;
        boolean atTop = true;
        int restarts = 0;
        while (true) {
            NodeImage n = w.node;
            readConsistent(address, n);
            if (n.belowLow(w.keyBuffer, 0)) {
                // only a wrong root pointer could lead here: reread it
                if (++restarts > MAX_RESTARTS) {
                    throw new IllegalStateException("tree traversal keeps failing at " + GlobalAddress.toString(address));
                }
                stats.restarts.increment();
                address = refreshRoot(w);
                atTop = true;
                continue;
            }
            if (n.atOrAboveHigh(w.keyBuffer, 0)) {
                stats.siblingMoves.increment();
                if (atTop) {
                    refreshRoot(w); // the root split: a newer root may exist
                }
                address = n.sibling();
                continue;
            }
            atTop = false;
            int nodeLevel = n.level();
            if (nodeLevel < level) {
                return GlobalAddress.NULL;
            }
            if (nodeLevel == level) {
                w.loaded = true;
                return address;
            }
            cache.put(n, address);
            address = n.childFor(w.keyBuffer, 0);
        }
    }

    private long restart(Worker w, int level, int restarts) {
        if (restarts > MAX_RESTARTS) {
            throw new IllegalStateException("tree traversal restarted " + MAX_RESTARTS + " times without reaching level "
                    + level + ": the tree is corrupt");
        }
        stats.restarts.increment();
        if (w.via != null) {
            cache.invalidate(level + 1, w.via);
        }
        long address = descendFromRoot(w, level);
        if (address == GlobalAddress.NULL) {
            throw new IllegalStateException("tree lower than level " + level + " during an operation on it");
        }
        return address;
    }

    /** Follows the sibling of {@code n}; drops the cache entry that pointed too far left. */
    private long moveRight(Worker w, NodeImage n) {
        stats.siblingMoves.increment();
        if (w.via != null) {
            cache.invalidate(n.level() + 1, w.via);
            w.via = null;
        }
        return n.sibling();
    }

    private long refreshRoot(Worker w) {
        verbs.read(IndexSuperblock.ROOT_POINTER, w.word, 0, 8);
        long r = w.word.getLong(0);
        root = r;
        return r;
    }

    /** Reads a node and retries until its checksum matches (no concurrent write tore it). */
    private void readConsistent(long address, NodeImage image) {
        for (int attempt = 0; ; attempt++) {
            verbs.read(address, image.buffer(), 0, layout.nodeBytes());
            if (image.checksumValid()) {
                return;
            }
            stats.tornReads.increment();
            if (attempt >= MAX_TORN_RETRIES) {
                throw new IllegalStateException("node " + GlobalAddress.toString(address) + " failed its checksum "
                        + MAX_TORN_RETRIES + " times: it is corrupt or was never written");
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Reads a node while holding its lock. No write-back can race with it, but the read still goes
     * through the checksum: a mismatch that persists is corruption and is reported as such.
     */
    private void readLocked(long address, NodeImage image) {
        readConsistent(address, image);
    }

    // ------------------------------------------------------------------ updates

    private long lockOf(long node) {
        return lockTable.lockFor(node);
    }

    private void unlock(Worker w, long lock) {
        w.batch.clear();
        locks.release(lock, LockMode.EXCLUSIVE, w.batch);
        w.batch.clear();
    }

    /**
     * Locks the node of {@code level} whose fences hold the worker's key, starting at {@code node}:
     * after each lock the node is read and, if the key lies right of it, unlocked and left for its
     * sibling; if it is the wrong level or lies right of the key, the path was wrong and the search
     * restarts from the root. On return {@code w.node} holds the locked node's image and
     * {@code w.lockedNode} its address; the result is the lock to release.
     */
    private long lockCovering(Worker w, int level, long node) {
        int restarts = 0;
        while (true) {
            long lock = lockOf(node);
            locks.acquire(lock, LockMode.EXCLUSIVE);
            NodeImage n = w.node;
            readLocked(node, n);
            w.loaded = false;
            if (n.level() != level || n.belowLow(w.keyBuffer, 0)) {
                unlock(w, lock);
                node = restart(w, level, ++restarts);
                continue;
            }
            if (n.atOrAboveHigh(w.keyBuffer, 0)) {
                unlock(w, lock);
                node = moveRight(w, n);
                continue;
            }
            w.lockedNode = node;
            return lock;
        }
    }

    private boolean put(Worker w, DirectBuffer value, int valueOffset) {
        if (value.capacity() - valueOffset < valueBytes) {
            throw new IllegalArgumentException("value must be " + valueBytes + " bytes");
        }
        claimSlot(w);
        try {
            return putHoldingSlot(w, value, valueOffset);
        } finally {
            releaseSlot(w);
        }
    }

    /** Takes a redo slot before any lock of a write operation (see {@link RedoLog}, invariant 5). */
    private void claimSlot(Worker w) {
        if (w.slot >= 0) {
            throw new IllegalStateException("a tree write operation re-entered on its own thread");
        }
        w.slot = redo.writers().claim(w.preferredSlot);
    }

    private void releaseSlot(Worker w) {
        redo.writers().release(w.slot);
        w.slot = -1;
    }

    private boolean putHoldingSlot(Worker w, DirectBuffer value, int valueOffset) {
        long lock = lockCovering(w, 0, descend(w, 0));
        long leaf = w.lockedNode;
        NodeImage n = w.node;
        int slot = n.findLeafKey(w.keyBuffer, 0);
        boolean inserted = slot < 0;
        if (slot < 0) {
            slot = n.freeLeafSlot();
            if (slot < 0) {
                splitLeafAndPut(w, leaf, lock, value, valueOffset);
                return true;
            }
            n.setCount(n.count() + 1);
        }
        n.putLeafEntry(slot, w.keyBuffer, 0, value, valueOffset);
        writeBackEntryAndUnlock(w, leaf, lock, slot);
        return inserted;
    }

    private boolean delete(Worker w) {
        claimSlot(w);
        try {
            return deleteHoldingSlot(w);
        } finally {
            releaseSlot(w);
        }
    }

    private boolean deleteHoldingSlot(Worker w) {
        long lock = lockCovering(w, 0, descend(w, 0));
        long leaf = w.lockedNode;
        NodeImage n = w.node;
        int slot = n.findLeafKey(w.keyBuffer, 0);
        if (slot < 0) {
            unlock(w, lock);
            return false;
        }
        n.clearLeafEntry(slot);
        n.setCount(n.count() - 1);
        writeBackEntryAndUnlock(w, leaf, lock, slot);
        return true;
    }

    /**
     * Writes one leaf entry and the header words, then releases: one batch of the redo record,
     * the entry, the header words, the record's retirement and the release.
     */
    private void writeBackEntryAndUnlock(Worker w, long leaf, long lock, int slot) {
        NodeImage n = w.node;
        n.seal();
        VerbBatch b = w.batch;
        b.clear();
        int entry = layout.leafEntry(slot);
        int entryBytes = layout.leafEntryBytes();
        long cell = redo.cell(leaf, w.slot, 0);
        int recordBytes = w.record.entry(redo.writers().nextSeq(w.slot, 0), leaf, n, entry, entryBytes);
        b.write(cell, w.record.buffer(), 0, recordBytes);
        b.write(GlobalAddress.plus(leaf, entry), n.buffer(), entry, entryBytes);
        b.write(leaf, n.buffer(), 0, NodeLayout.HEADER_WRITE_BYTES);
        b.write(cell, RedoLog.FREE_WORD, 0, Long.BYTES);
        locks.release(lock, LockMode.EXCLUSIVE, b);
        b.clear();
    }

    /** Writes the whole (sealed) image of an internal node, then releases: one batch. */
    private void writeNodeAndUnlock(Worker w, long node, long lock) {
        NodeImage n = w.node;
        VerbBatch b = w.batch;
        b.clear();
        int c = RedoLayout.cellForLevel(n.level());
        long cell = redo.cell(node, w.slot, c);
        int recordBytes = w.record.image(redo.writers().nextSeq(w.slot, c), node, n, 0, null, 0, GlobalAddress.NULL);
        b.write(cell, w.record.buffer(), 0, recordBytes);
        b.write(node, n.buffer(), 0, layout.nodeBytes());
        b.write(cell, RedoLog.FREE_WORD, 0, Long.BYTES);
        locks.release(lock, LockMode.EXCLUSIVE, b);
        b.clear();
    }

    /**
     * Writes a new right node, then the rewritten left node with the release. The new node goes in
     * the same batch when both are on one memory node (batches apply in order there), else first.
     * The left node's redo record carries the intent {@code separator -> right} for the level
     * above and is left as that intent once the left node is written.
     */
    private void writeSplitAndUnlock(Worker w, long left, long lock, long right, DirectBuffer separator, int separatorOffset) {
        VerbBatch b = w.batch;
        b.clear();
        if (GlobalAddress.memoryNode(right) == GlobalAddress.memoryNode(left)) {
            b.write(right, w.other.buffer(), 0, layout.nodeBytes());
        } else {
            verbs.write(right, w.other.buffer(), 0, layout.nodeBytes());
        }
        NodeImage n = w.node;
        int level = n.level();
        int c = RedoLayout.cellForLevel(level);
        long cell = redo.cell(left, w.slot, c);
        int recordBytes = w.record.image(redo.writers().nextSeq(w.slot, c), left, n, level + 1, separator, separatorOffset, right);
        b.write(cell, w.record.buffer(), 0, recordBytes);
        b.write(left, n.buffer(), 0, layout.nodeBytes());
        b.write(cell, w.record.intentWord(), 0, Long.BYTES);
        locks.release(lock, LockMode.EXCLUSIVE, b);
        b.clear();
    }

    /** The leaf is full and lacks the key: split it around its median, the new entry included. */
    private void splitLeafAndPut(Worker w, long leaf, long lock, DirectBuffer value, int valueOffset) {
        NodeImage n = w.node;
        int capacity = layout.leafCapacity();
        int entryBytes = layout.leafEntryBytes();
        // all entries plus the new one, as [used][key][value] records
        int total = capacity + 1;
        UnsafeBuffer records = new UnsafeBuffer(new byte[total * entryBytes]);
        int count = 0;
        for (int slot = 0; slot < capacity; slot++) {
            if (n.leafUsed(slot)) {
                records.putBytes(count++ * entryBytes, n.buffer(), layout.leafEntry(slot), entryBytes);
            }
        }
        records.putByte(count * entryBytes, (byte) NodeLayout.LEAF_USED);
        records.putBytes(count * entryBytes + 1, w.keyBuffer, 0, keyBytes);
        records.putBytes(count * entryBytes + 1 + keyBytes, value, valueOffset, valueBytes);
        count++;
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> KeyOrder.compare(records, a * entryBytes + 1, records, b * entryBytes + 1, keyBytes));
        int leftCount = count / 2;
        int sepRecord = order[leftCount] * entryBytes + 1;

        long right = allocator.allocate();
        NodeImage r = w.other;
        r.init(0, records, sepRecord, n.highInfinite() ? null : n.buffer(), n.highFenceOffset(), n.sibling(), 0);
        for (int i = leftCount; i < count; i++) {
            r.buffer().putBytes(layout.leafEntry(i - leftCount), records, order[i] * entryBytes, entryBytes);
        }
        r.setCount(count - leftCount);
        r.seal();

        byte[] low = new byte[keyBytes];
        n.buffer().getBytes(n.lowFenceOffset(), low);
        n.init(0, new UnsafeBuffer(low), 0, records, sepRecord, right, n.writes());
        for (int i = 0; i < leftCount; i++) {
            n.buffer().putBytes(layout.leafEntry(i), records, order[i] * entryBytes, entryBytes);
        }
        n.setCount(leftCount);
        n.seal();
        writeSplitAndUnlock(w, leaf, lock, right, records, sepRecord);
        stats.leafSplits.increment();

        byte[] separator = new byte[keyBytes];
        records.getBytes(sepRecord, separator);
        insertSeparator(w, 1, separator, right);
    }

    /**
     * Makes the node {@code child} (whose low fence is {@code separator}) a child of level
     * {@code level}. Grows the root first when the tree has no such level yet.
     */
    private void insertSeparator(Worker w, int level, byte[] separator, long child) {
        System.arraycopy(separator, 0, w.key, 0, keyBytes);
        long start = descend(w, level);
        while (start == GlobalAddress.NULL) {
            growRoot(w, level - 1);
            System.arraycopy(separator, 0, w.key, 0, keyBytes);
            start = descend(w, level);
        }
        long lock = lockCovering(w, level, start);
        long node = w.lockedNode;
        NodeImage n = w.node;
        int i = n.upperBound(w.keyBuffer, 0);
        if ((i > 0 && KeyOrder.equal(n.buffer(), n.internalKeyOffset(i - 1), w.keyBuffer, 0, keyBytes))
                || KeyOrder.equal(n.buffer(), n.lowFenceOffset(), w.keyBuffer, 0, keyBytes)) {
            // already there: a root growth took it in, or an internal split pushed it up as this
            // node's low fence; or a recovered intent whose split finished long ago
            unlock(w, lock);
            return;
        }
        if (n.count() < layout.internalCapacity()) {
            n.insertSeparator(i, w.keyBuffer, 0, child);
            n.seal();
            writeNodeAndUnlock(w, node, lock);
            return;
        }
        splitInternalAndInsert(w, node, lock, i, child);
    }

    /**
     * Recovery: makes {@code child}, whose low fence is {@code separator}, a child of level
     * {@code level} unless it is one already (a lapsed member's pending split intent). Ordinary
     * locked tree operations; run only after the lapsed member's locks were recovered.
     */
    void completeSplit(int level, byte[] separator, long child) {
        if (level < 1) {
            throw new IllegalArgumentException("a separator goes into level 1 or above: " + level);
        }
        checkKey(separator);
        Worker w = workers.get();
        claimSlot(w);
        try {
            insertSeparator(w, level, separator.clone(), child);
        } finally {
            releaseSlot(w);
        }
    }

    private void splitInternalAndInsert(Worker w, long node, long lock, int position, long child) {
        NodeImage n = w.node;
        int count = n.count();
        int total = count + 1;
        byte[][] keys = new byte[total][];
        long[] children = new long[total];
        for (int i = 0, j = 0; i < total; i++) {
            if (i == position) {
                keys[i] = w.key.clone();
                children[i] = child;
            } else {
                keys[i] = new byte[keyBytes];
                n.buffer().getBytes(n.internalKeyOffset(j), keys[i]);
                children[i] = n.child(j);
                j++;
            }
        }
        int mid = total / 2;
        byte[] pushed = keys[mid];
        int level = n.level();

        long right = allocator.allocate();
        NodeImage r = w.other;
        r.init(level, new UnsafeBuffer(pushed), 0, n.highInfinite() ? null : n.buffer(), n.highFenceOffset(), n.sibling(), 0);
        r.setLeftmost(children[mid]);
        for (int i = mid + 1; i < total; i++) {
            r.putSeparator(i - mid - 1, new UnsafeBuffer(keys[i]), 0, children[i]);
        }
        r.setCount(total - mid - 1);
        r.seal();

        byte[] low = new byte[keyBytes];
        n.buffer().getBytes(n.lowFenceOffset(), low);
        long leftmost = n.leftmost();
        n.init(level, new UnsafeBuffer(low), 0, new UnsafeBuffer(pushed), 0, right, n.writes());
        n.setLeftmost(leftmost);
        for (int i = 0; i < mid; i++) {
            n.putSeparator(i, new UnsafeBuffer(keys[i]), 0, children[i]);
        }
        n.setCount(mid);
        n.seal();
        writeSplitAndUnlock(w, node, lock, right, new UnsafeBuffer(pushed), 0);
        stats.internalSplits.increment();
        insertSeparator(w, level + 1, pushed, right);
    }

    /**
     * The tree has no level above {@code level}: build a new root over the whole chain of
     * {@code level} starting at the current root and CAS it in. Losing the CAS is fine: someone
     * else grew the tree, and the caller retries its insert.
     */
    private void growRoot(Worker w, int level) {
        long oldRoot = refreshRoot(w);
        NodeImage n = w.node;
        readConsistent(oldRoot, n);
        if (n.level() != level) {
            return; // grown already (or the caller's view is stale): retry the insert
        }
        List<byte[]> lows = new ArrayList<>();
        List<Long> nodes = new ArrayList<>();
        long address = oldRoot;
        int capacity = layout.internalCapacity();
        while (nodes.size() <= capacity) {
            readConsistent(address, n);
            byte[] low = new byte[keyBytes];
            n.buffer().getBytes(n.lowFenceOffset(), low);
            lows.add(low);
            nodes.add(address);
            if (n.highInfinite()) {
                break;
            }
            address = n.sibling();
        }
        if (nodes.size() < 2) {
            return; // the split that asked for growth is not visible from the root yet: retry
        }
        long newRoot = allocator.allocate();
        NodeImage r = w.other;
        r.init(level + 1, new UnsafeBuffer(new byte[keyBytes]), 0, null, 0, GlobalAddress.NULL, 0);
        r.setLeftmost(nodes.get(0));
        for (int i = 1; i < nodes.size(); i++) {
            r.putSeparator(i - 1, new UnsafeBuffer(lows.get(i)), 0, nodes.get(i));
        }
        r.setCount(nodes.size() - 1);
        r.seal();
        verbs.write(newRoot, r.buffer(), 0, layout.nodeBytes());
        if (verbs.cas(IndexSuperblock.ROOT_POINTER, oldRoot, newRoot) == oldRoot) {
            stats.rootGrowths.increment();
            root = newRoot;
        } else {
            refreshRoot(w);
        }
    }

    // ------------------------------------------------------------------ scans

    private int scan(Worker w, DirectBuffer to, int limit, ScanVisitor visitor) {
        if (limit < 0) {
            throw new IllegalArgumentException("scan limit must not be negative: " + limit);
        }
        if (limit == 0) {
            return 0;
        }
        long leaf = descend(w, 0);
        int visited = 0;
        while (true) {
            leaf = readCovering(w, leaf);
            NodeImage n = w.node;
            int found = sortedEntriesFrom(w, n);
            for (int i = 0; i < found; i++) {
                int keyOffset = n.leafKeyOffset(w.order[i]);
                if (to != null && KeyOrder.compare(n.buffer(), keyOffset, to, 0, keyBytes) >= 0) {
                    return visited;
                }
                visited++;
                if (!visitor.visit(n.buffer(), keyOffset, n.leafValueOffset(w.order[i])) || visited == limit) {
                    return visited;
                }
            }
            if (n.highInfinite()
                    || (to != null && KeyOrder.compare(n.buffer(), n.highFenceOffset(), to, 0, keyBytes) >= 0)) {
                return visited;
            }
            // continue right of this leaf's range: the sibling's low fence is this high fence
            n.buffer().getBytes(n.highFenceOffset(), w.key);
            w.via = null;
            leaf = n.sibling();
        }
    }

    /** Slots of the leaf's entries with key at or above the worker's key, sorted; returns their count. */
    private int sortedEntriesFrom(Worker w, NodeImage n) {
        int capacity = layout.leafCapacity();
        if (w.order.length < capacity) {
            w.order = new int[capacity];
            w.sortKeys = new long[capacity];
        }
        if (keyBytes == Long.BYTES) {
            return sortedLongEntriesFrom(w, n, capacity);
        }
        int found = 0;
        for (int slot = 0; slot < capacity; slot++) {
            if (n.leafUsed(slot) && KeyOrder.compare(n.buffer(), n.leafKeyOffset(slot), w.keyBuffer, 0, keyBytes) >= 0) {
                w.order[found++] = slot;
            }
        }
        // insertion sort: a leaf holds tens of entries
        for (int i = 1; i < found; i++) {
            int s = w.order[i];
            int j = i - 1;
            while (j >= 0 && KeyOrder.compare(n.buffer(), n.leafKeyOffset(w.order[j]), n.buffer(), n.leafKeyOffset(s), keyBytes) > 0) {
                w.order[j + 1] = w.order[j];
                j--;
            }
            w.order[j + 1] = s;
        }
        return found;
    }

    /** {@link #sortedEntriesFrom} for 8-byte keys: compares them as unsigned big-endian words. */
    private int sortedLongEntriesFrom(Worker w, NodeImage n, int capacity) {
        long from = w.keyBuffer.getLong(0, ByteOrder.BIG_ENDIAN);
        UnsafeBuffer b = n.buffer();
        int found = 0;
        for (int slot = 0; slot < capacity; slot++) {
            int e = layout.leafEntry(slot);
            if (b.getByte(e) != NodeLayout.LEAF_USED) {
                continue;
            }
            long k = b.getLong(e + 1, ByteOrder.BIG_ENDIAN);
            if (Long.compareUnsigned(k, from) < 0) {
                continue;
            }
            int j = found - 1;
            while (j >= 0 && Long.compareUnsigned(w.sortKeys[j], k) > 0) {
                w.sortKeys[j + 1] = w.sortKeys[j];
                w.order[j + 1] = w.order[j];
                j--;
            }
            w.sortKeys[j + 1] = k;
            w.order[j + 1] = slot;
            found++;
        }
        return found;
    }
}
