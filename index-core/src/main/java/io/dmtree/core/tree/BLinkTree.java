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
 *   <li>A writer holds at most one lock at a time, except a merge: a split releases the split
 *   node before the separator goes into the parent. Locks are shared by hashing
 *   ({@link LockTable}); a merge takes its (at most three, distinct) locks in ascending address
 *   order and waits for nothing else while it holds them, and every other writer holds one lock,
 *   so no cycle of waits can form.</li>
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
 * <h2>Shrinking: merges and root shrinks</h2>
 * B-link deletion after Lanin and Shasha ("A symmetric concurrent B-tree algorithm", FJCC 1986):
 * the right node of two neighbours is merged into the left one and removed, readers never lock,
 * and a reader that arrives at a removed node goes round it. Unlike their scheme a removed node
 * is not followed by its outlink: the reader restarts from the root (without the cache), as it
 * does after a fence mismatch, since a removed node is out of every chain and parent by then.
 * A delete that leaves its leaf underfull (at most a quarter full) runs the merges:
 * <ol>
 *   <li>Pick the pair: the underfull node and the neighbour it shares its parent P with, L left
 *   of R, with separator s = R's low fence in P. Nodes alone under their parent wait for the
 *   parent to merge first. Only neighbours under one parent merge, so a removal never changes a
 *   low fence, of P or of anyone.</li>
 *   <li>Lock P, L and R (ascending), read them, and check that nothing changed: P live and still
 *   holding L then s -&gt; R, L live with sibling R and high fence s (no half-done split between
 *   them), R live, and both fit in one node.</li>
 *   <li>Write P without s -&gt; R (its redo record kept as a merge intent), releasing P's lock.
 *   R is still reachable through L's sibling pointer: a half-done split, read backwards.</li>
 *   <li>Write L with R's entries (an internal L also gets s -&gt; R's leftmost child), R's high
 *   fence and R's sibling. R is now unreachable, and equal to its part of L.</li>
 *   <li>Write R removed ({@link NodeLayout#FLAG_REMOVED}, forward = L), then release R's and
 *   only then L's lock.</li>
 * </ol>
 * Then the parent, if now underfull, merges the same way one level up, and the root shrinks:
 * an internal root alone on its level with a single child is written removed under its lock
 * (forward = that child) and the root pointer is swung to the child by CAS, by the remover
 * only (or by the recovery of a remover that lapsed in between); a traversal that reads a removed
 * root the pointer still names descends from its forward meanwhile. A helping CAS is unsafe once
 * blocks are reused: a helper's CAS from the removed root's address could land after that block
 * was freed and installed as a new root, and would replace the new root with a stale child.
 *
 * <h3>Invariants of shrinking</h3>
 * <ol>
 *   <li>Low fences of live nodes never change; a removed node's range went to its left
 *   neighbour, whose low fence is lower. Every level is, at every instant, a chain of live nodes
 *   tiling the key space, plus removed nodes that no live node or root pointer names (after step
 *   5; between steps 4 and 5 R is unlinked but not marked, and equal to its part of L, since
 *   both are locked).</li>
 *   <li>Every live node reached by any pointer, however stale, is at or left of the node that
 *   holds a key at or right of its low fence: so move-right still finds every key, and a reader
 *   that reached a removed node or a node right of its key restarts from the root. A removed
 *   node is never written again by the tree; its remover frees its block, and a later split may
 *   get the block as a new node. A stale pointer then leads to that new node: it is told by its
 *   born era (see Reuse below) and treated like a removed node.</li>
 *   <li>A separator leaves a parent only by step 3, with its right node locked until the node is
 *   removed; a node whose separator is missing from its parent is never the right node of a
 *   merge, so a split's separator reaches the parent before its right node can go.</li>
 *   <li>A scan carries its lower bound (the high fence of the last leaf it read); restarting
 *   from the root at that bound after a removed leaf repeats no key and skips none, since the
 *   survivor now covers the bound. Lookups, updates and scans keep the guarantees stated above.</li>
 *   <li>The root pointer never returns to a node it left: a removed root stays removed, and a
 *   root growth holds the old root's lock while it reads the top chain and CASes the pointer, so
 *   the old root cannot absorb its sibling and come back as root in between.</li>
 * </ol>
 * A member may die between any two verbs of a merge: {@link TreeRecovery} either finishes it
 * (the survivor was written: the right node is written removed during node repair, while the
 * dead member's locks still stand) or undoes it (the survivor was not written: the right node's
 * separator goes back into the parent), and swings a root pointer left naming a removed root.
 * Removed nodes are kept in {@link #removedNodes()} and, with {@link #reusing} on, their blocks
 * are freed ({@link NodeAllocator#free}) once their removal was written.
 *
 * <h2>Reuse</h2>
 * A freed block may become a new node at any time, while other members still hold pointers to
 * it: in their index caches, in the operation they run, in their cached root pointer. Every hand
 * out of a freed block raises the reuse era on memory node 0 by FAA after the claim, and the new
 * node carries the raised value as its born era ({@link NodeLayout}). Each operation starts at
 * the era this tree last read ({@code era}, never above the memory node's); a cache entry and the
 * cached root pointer carry the era they were read at. Invariant: a pointer read at era e (from a
 * node read while the operation's era was e, or from a cache entry or root stamped e) names a
 * node born at or before e, unless it is stale. For a pointer read from a live node at time t names
 * the block's old life only if the block was unlinked after t, hence freed and handed out after
 * t, whose FAA yields more than any era read before t. So a reader that meets a node born after
 * its pointer's era restarts from the root (after reading the era again, so it converges), as it
 * does at a removed node or a fence mismatch, and never follows a reused block into the wrong
 * keys. Writers check the same under their locks. A split's left node keeps its born era.
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
    /** Most merges and root shrinks one delete runs (a drain's last deletes collapse whole subtrees). */
    private static final int MAX_MERGES_PER_OPERATION = 64;
    /** What {@link #lockCovering} returns when the tree has become lower than the level asked for. */
    private static final long NO_LOCK = Long.MIN_VALUE;

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
    private final RemovedNodes removed = new RemovedNodes();
    private volatile boolean shrinking = true;
    private volatile boolean reusing = true;
    private volatile boolean checkReuse = true;
    /** The root pointer as last read, with the reuse era it was read at (one reference: never a torn pair). */
    private volatile RootView root;
    /** The reuse era as last read (never above memory node 0's). */
    private volatile long era;

    /**
     * A root pointer and the era read before it, which the pointer is valid for. Kept as one
     * immutable pair: two separate fields, written by racing refreshes, could pair an old pointer
     * with a later era, under which a reused old root would pass the born-era check.
     */
    private record RootView(long address, long era) {
    }

    /** Per-thread scratch: node images, the current key, a batch. */
    private static final class Worker {
        final NodeImage node;
        final NodeImage other;
        /** A merge's third node: the right one, which is removed. */
        final NodeImage third;
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
        /** Merges and root shrinks the current operation may still run. */
        int mergeBudget;
        /** The reuse era the pointer being followed is valid for (see Reuse in the class comment). */
        long era;

        Worker(NodeLayout layout, int preferredSlot) {
            this.preferredSlot = preferredSlot;
            record = new RedoRecord(layout);
            node = new NodeImage(layout);
            other = new NodeImage(layout);
            third = new NodeImage(layout);
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
        this.era = readEra(workers.get());
        this.root = new RootView(rootAddress, era);
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

    /** Where this tree's nodes come from (and freed ones go). */
    public NodeAllocator allocator() {
        return allocator;
    }

    /** The nodes this compute node removed (freed for reuse when {@link #reusing} is on). */
    public RemovedNodes removedNodes() {
        return removed;
    }

    /**
     * Whether deletes merge underfull nodes and shrink the root (on by default). Off, a delete only
     * clears its entry, and nodes are never removed.
     */
    public void shrinking(boolean on) {
        shrinking = on;
    }

    public boolean shrinking() {
        return shrinking;
    }

    /**
     * Whether merged-away nodes' blocks are freed for reuse (on by default); off, removed nodes
     * stay removed and are counted as such.
     */
    public void reusing(boolean on) {
        reusing = on;
    }

    public boolean reusing() {
        return reusing;
    }

    /**
     * Whether readers compare a node's born era with their pointer's era (on by default). Only a
     * test that shows what the check catches turns it off: without it a stale pointer to a reused
     * block is followed.
     */
    public void checkReuse(boolean on) {
        checkReuse = on;
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
        w.era = era;
        return w;
    }

    private Worker workerFor(long key) {
        if (keyBytes != Long.BYTES) {
            throw new IllegalArgumentException("long keys need an index of 8-byte keys; this one has " + keyBytes + "-byte keys");
        }
        Worker w = workers.get();
        KeyOrder.putLongKey(w.keyBuffer, 0, key);
        w.era = era;
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
            if (n.isRemoved() || reborn(w, n) || n.level() != 0 || n.belowLow(w.keyBuffer, 0)) {
                leaf = restart(w, 0, ++restarts, n);
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
     * {@link #readCovering} for any level: lock-free, from {@code node} on, until {@code w.node}
     * holds a consistent image of the live node of {@code level} whose fences hold the worker's key;
     * returns its address, or {@link GlobalAddress#NULL} when the tree is (or became) lower than
     * {@code level}.
     */
    private long locate(Worker w, int level, long node) {
        int restarts = 0;
        while (node != GlobalAddress.NULL) {
            if (!w.loaded) {
                readConsistent(node, w.node);
            }
            w.loaded = false;
            NodeImage n = w.node;
            if (n.isRemoved() || reborn(w, n) || n.level() != level || n.belowLow(w.keyBuffer, 0)) {
                node = restart(w, level, ++restarts, n);
                continue;
            }
            if (n.atOrAboveHigh(w.keyBuffer, 0)) {
                node = moveRight(w, n);
                continue;
            }
            return node;
        }
        return GlobalAddress.NULL;
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
            w.era = Math.min(w.era, hit.era());
            return hit.image().childFor(w.keyBuffer, 0);
        }
        w.via = null;
        return descendFromRoot(w, level);
    }

    private long descendFromRoot(Worker w, int level) {
        w.via = null;
        RootView view = root;
        long address = view.address();
        w.era = Math.min(w.era, view.era());
        boolean atTop = true;
        int restarts = 0;
        while (true) {
            NodeImage n = w.node;
            readConsistent(address, n);
            if (!n.isRemoved() && reborn(w, n)) {
                // a block reused since the pointer to it was read: read the era again, then the root
                if (++restarts > MAX_RESTARTS) {
                    throw new IllegalStateException("tree traversal keeps meeting reused nodes at " + GlobalAddress.toString(address));
                }
                stats.restarts.increment();
                refreshEra(w);
                address = refreshRoot(w);
                w.era = era;
                atTop = true;
                continue;
            }
            if (n.isRemoved()) {
                // reached through a pointer read before its removal: start again from the root. A
                // root pointer that still names the removed node is a shrink whose remover has not
                // swung it yet: descend from the removed root's only child (its forward) meanwhile.
                // Nobody but the remover (or the recovery of a lapsed remover) swings the pointer:
                // a helper's CAS from a pointer value read earlier could land after the block was
                // freed and installed as a root again, and would throw that new root away (ABA).
                if (++restarts > MAX_RESTARTS) {
                    throw new IllegalStateException("tree traversal keeps meeting removed nodes at " + GlobalAddress.toString(address));
                }
                stats.removedReached.increment();
                stats.restarts.increment();
                long now = refreshRoot(w);
                address = atTop && now == address ? n.forward() : now;
                atTop = true;
                continue;
            }
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
            cache.put(n, address, w.era);
            address = n.childFor(w.keyBuffer, 0);
        }
    }

    /**
     * Starts again from the root without the cache, after {@code at} (just read) could not be the
     * node of {@code level} for the worker's key: a removed node, the wrong level, or a node right
     * of the key. Returns the new start, or {@link GlobalAddress#NULL} when the tree became lower
     * than {@code level} (a root shrink; impossible for leaves).
     */
    private long restart(Worker w, int level, int restarts, NodeImage at) {
        if (restarts > MAX_RESTARTS) {
            throw new IllegalStateException("tree traversal restarted " + MAX_RESTARTS + " times without reaching level "
                    + level + ": the tree is corrupt");
        }
        stats.restarts.increment();
        if (at.isRemoved()) {
            stats.removedReached.increment();
        } else if (reborn(w, at)) {
            refreshEra(w);
        }
        w.era = era; // every pointer from here on is read afresh
        if (w.via != null) {
            cache.invalidate(level + 1, w.via);
        }
        long address = descendFromRoot(w, level);
        if (address == GlobalAddress.NULL && level == 0) {
            throw new IllegalStateException("the tree has no leaf level: the root pointer names no tree");
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
        long stamp = era; // read before the pointer: the pointer is valid for it
        verbs.read(IndexSuperblock.ROOT_POINTER, w.word, 0, 8);
        long r = w.word.getLong(0);
        root = new RootView(r, stamp);
        return r;
    }

    /** True when {@code n} was born after the era its pointer is valid for: the pointer may be stale. */
    private boolean reborn(Worker w, NodeImage n) {
        return checkReuse && n.bornEra() > w.era;
    }

    private long readEra(Worker w) {
        verbs.read(NodeAllocator.REUSE_ERA, w.word, 0, 8);
        return w.word.getLong(0);
    }

    /** Reads the reuse era again (after meeting a node born later than a pointer's era). */
    private void refreshEra(Worker w) {
        stats.reusedReached.increment();
        long now = readEra(w);
        if (now > era) {
            era = now;
        }
        w.era = era;
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
     * restarts from the root; so does a removed node. On return {@code w.node} holds the locked
     * node's image and {@code w.lockedNode} its address; the result is the lock to release, or
     * {@link #NO_LOCK} (nothing held) when the tree became lower than {@code level}.
     */
    private long lockCovering(Worker w, int level, long node) {
        int restarts = 0;
        while (true) {
            long lock = lockOf(node);
            locks.acquire(lock, LockMode.EXCLUSIVE);
            NodeImage n = w.node;
            readLocked(node, n);
            w.loaded = false;
            if (n.isRemoved() || reborn(w, n) || n.level() != level || n.belowLow(w.keyBuffer, 0)) {
                unlock(w, lock);
                node = restart(w, level, ++restarts, n);
                if (node == GlobalAddress.NULL) {
                    return NO_LOCK; // the root shrank below this level
                }
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
        return putLocked(w, lock, w.node.findLeafKey(w.keyBuffer, 0), value, valueOffset);
    }

    /**
     * The rest of a put once {@link #lockCovering} holds the worker's leaf: {@code slot} is the key's
     * entry in {@code w.node}, or negative when the key is absent.
     */
    private boolean putLocked(Worker w, long lock, int slot, DirectBuffer value, int valueOffset) {
        long leaf = w.lockedNode;
        NodeImage n = w.node;
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
        int slot = w.node.findLeafKey(w.keyBuffer, 0);
        if (slot < 0) {
            unlock(w, lock);
            return false;
        }
        deleteLocked(w, lock, slot);
        return true;
    }

    /**
     * The rest of a delete once {@link #lockCovering} holds the worker's leaf and {@code slot} is the
     * key's entry in {@code w.node}: clears it, writes back with the release, then merges.
     */
    private void deleteLocked(Worker w, long lock, int slot) {
        long leaf = w.lockedNode;
        NodeImage n = w.node;
        n.clearLeafEntry(slot);
        n.setCount(n.count() - 1);
        writeBackEntryAndUnlock(w, leaf, lock, slot);
        if (shrinking && underfull(n) && !(leaf == root.address() && spansLevel(n))) { // a lone root leaf has nothing to merge with
            byte[] low = new byte[keyBytes];
            n.buffer().getBytes(n.lowFenceOffset(), low);
            w.mergeBudget = MAX_MERGES_PER_OPERATION;
            shrinkLevel(w, 0, low);
        }
    }


    // ------------------------------------------------------------------ shrinking

    /** A node of few enough entries that a delete tries to merge it with a neighbour. */
    private boolean underfull(NodeImage n) {
        int capacity = n.isLeaf() ? layout.leafCapacity() : layout.internalCapacity();
        return n.count() <= capacity / 4;
    }

    /**
     * Whether left and right neighbours {@code l} and {@code r} merge into one node: always when
     * one is empty, else when the result stays at most three quarters full, so a merge is not
     * undone by the next few inserts.
     */
    private boolean mergeable(NodeImage l, NodeImage r) {
        if (l.isLeaf()) {
            int sum = l.count() + r.count();
            return sum <= layout.leafCapacity() && (l.count() == 0 || r.count() == 0 || sum <= layout.leafCapacity() * 3 / 4);
        }
        int sum = l.count() + 1 + r.count(); // the parent's separator comes down between them
        return sum <= layout.internalCapacity() && (l.count() == 0 || r.count() == 0 || sum <= layout.internalCapacity() * 3 / 4);
    }

    /** What one merge attempt did. */
    private enum MergeOutcome {
        /** Merged: the right node is removed. */
        MERGED,
        /** The node's parent has no other child: the parent must merge first. */
        ALONE,
        /** The node has no parent: it is the root (or the tree became lower). */
        ROOT,
        /** The neighbours hold too much to merge. */
        NO_FIT,
        /** The nodes changed between the look and the locks (a split, a merge, a half-done split). */
        CHANGED
    }

    /**
     * The result of {@link #mergeOnce}: the outcome, the low fence of the parent and whether it is
     * underfull now, whether the surviving node is still underfull and its low fence.
     */
    private record MergeStep(MergeOutcome outcome, byte[] parentLow, boolean parentUnderfull, boolean parentSpansLevel,
                             byte[] survivorLow, boolean survivorUnderfull) {
        static MergeStep of(MergeOutcome outcome) {
            return new MergeStep(outcome, null, false, false, null, false);
        }
    }

    /**
     * Merges the underfull node of {@code level} whose range holds {@code low} with neighbours,
     * while it stays underfull; then its parent's level, when the parent is underfull or has no
     * other child (after which this level is tried once more, the node may have a neighbour under
     * the same parent now); then shrinks the root. Bounded by the worker's merge budget.
     */
    private void shrinkLevel(Worker w, int level, byte[] low) {
        byte[] key = low;
        boolean retried = false;
        while (w.mergeBudget > 0) {
            MergeStep s = mergeOnce(w, level, key);
            if (s.outcome() == MergeOutcome.ROOT) {
                shrinkRoot(w);
                return;
            }
            if (s.outcome() == MergeOutcome.MERGED) {
                w.mergeBudget--;
                if (s.survivorUnderfull()) {
                    key = s.survivorLow();
                    continue;
                }
            }
            boolean alone = s.outcome() == MergeOutcome.ALONE;
            if (alone || (s.outcome() == MergeOutcome.MERGED && s.parentUnderfull())) {
                if (s.parentSpansLevel()) {
                    shrinkRoot(w); // the parent is alone on its level: the root, or the root's only descendant there
                } else {
                    shrinkLevel(w, level + 1, s.parentLow());
                }
                if (alone && !retried) {
                    retried = true;
                    w.mergeBudget--;
                    continue;
                }
            }
            return;
        }
    }

    /**
     * One merge of the underfull node of {@code level} holding {@code key} with the neighbour it
     * shares a parent with: the right one of the pair is merged into the left one and removed
     * (the class comment states the protocol).
     */
    private MergeStep mergeOnce(Worker w, int level, byte[] key) {
        System.arraycopy(key, 0, w.key, 0, keyBytes);
        long parent = locate(w, level + 1, descend(w, level + 1));
        if (parent == GlobalAddress.NULL) {
            return MergeStep.of(MergeOutcome.ROOT);
        }
        NodeImage p = w.node;
        byte[] parentLow = new byte[keyBytes];
        p.buffer().getBytes(p.lowFenceOffset(), parentLow);
        if (p.count() == 0) {
            return new MergeStep(MergeOutcome.ALONE, parentLow, true, spansLevel(p), null, false);
        }
        int r = Math.max(0, p.upperBound(w.keyBuffer, 0) - 1); // the pair's right node is child r
        long left = r == 0 ? p.leftmost() : p.child(r - 1);
        long right = p.child(r);
        byte[] separator = new byte[keyBytes];
        p.buffer().getBytes(p.internalKeyOffset(r), separator);
        UnsafeBuffer sep = new UnsafeBuffer(separator);

        // a lock-free look first: no locks for a pair that cannot merge
        NodeImage l = w.other;
        NodeImage rn = w.third;
        readConsistent(left, l);
        readConsistent(right, rn);
        if (l.isRemoved() || rn.isRemoved() || l.level() != level || rn.level() != level) {
            return MergeStep.of(MergeOutcome.CHANGED);
        }
        if (!mergeable(l, rn)) {
            return MergeStep.of(MergeOutcome.NO_FIT);
        }

        long parentLock = lockOf(parent);
        long leftLock = lockOf(left);
        long rightLock = lockOf(right);
        long[] held = distinctAscending(parentLock, leftLock, rightLock);
        for (long lock : held) {
            locks.acquire(lock, LockMode.EXCLUSIVE);
        }
        readLocked(parent, p);
        readLocked(left, l);
        readLocked(right, rn);
        // born-era checks too: each of the three may have been freed and handed out again since the look
        int i = p.isRemoved() || reborn(w, p) || reborn(w, l) || reborn(w, rn) || p.level() != level + 1
                ? -1 : p.upperBound(sep, 0) - 1;
        boolean intact = i >= 0
                && KeyOrder.equal(p.buffer(), p.internalKeyOffset(i), sep, 0, keyBytes)
                && p.child(i) == right && (i == 0 ? p.leftmost() : p.child(i - 1)) == left
                && !l.isRemoved() && l.level() == level && l.sibling() == right && !l.highInfinite()
                && KeyOrder.equal(l.buffer(), l.highFenceOffset(), sep, 0, keyBytes)
                && !rn.isRemoved() && rn.level() == level
                && KeyOrder.equal(rn.buffer(), rn.lowFenceOffset(), sep, 0, keyBytes);
        if (!intact || !mergeable(l, rn)) {
            for (long lock : held) {
                unlock(w, lock);
            }
            return MergeStep.of(intact ? MergeOutcome.NO_FIT : MergeOutcome.CHANGED);
        }

        // the new images: the parent without the separator, the survivor with both ranges, the removed node
        p.removeSeparator(i);
        p.seal();
        if (level == 0) {
            int capacity = layout.leafCapacity();
            int free = 0;
            for (int slot = 0; slot < capacity; slot++) {
                if (!rn.leafUsed(slot)) {
                    continue;
                }
                while (l.leafUsed(free)) {
                    free++;
                }
                l.buffer().putBytes(layout.leafEntry(free), rn.buffer(), layout.leafEntry(slot), layout.leafEntryBytes());
            }
            l.setCount(l.count() + rn.count());
        } else {
            int n = l.count();
            l.putSeparator(n, sep, 0, rn.leftmost());
            for (int j = 0; j < rn.count(); j++) {
                l.putSeparator(n + 1 + j, rn.buffer(), rn.internalKeyOffset(j), rn.child(j));
            }
            l.setCount(n + 1 + rn.count());
        }
        l.setHighFenceOf(rn);
        l.setSibling(rn.sibling());
        l.seal();
        rn.markRemoved(left, redo.member());
        rn.seal();
        boolean parentUnderfull = underfull(p);
        boolean parentSpans = spansLevel(p);
        boolean survivorUnderfull = underfull(l);
        byte[] survivorLow = new byte[keyBytes];
        l.buffer().getBytes(l.lowFenceOffset(), survivorLow);

        // 1. the parent, its record left as the merge intent; its lock goes with it unless shared
        VerbBatch b = w.batch;
        b.clear();
        int c = RedoLayout.cellForLevel(level + 1);
        long cell = redo.cell(parent, w.slot, c);
        int recordBytes = w.record.image(redo.writers().nextSeq(w.slot, c), parent, p, level + 1, RedoLayout.INTENT_MERGE,
                sep, 0, right, left);
        b.write(cell, w.record.buffer(), 0, recordBytes);
        b.write(parent, p.buffer(), 0, layout.nodeBytes());
        b.write(cell, w.record.intentWord(), 0, Long.BYTES);
        boolean parentReleased = parentLock != leftLock && parentLock != rightLock;
        if (parentReleased) {
            locks.release(parentLock, LockMode.EXCLUSIVE, b);
        } else {
            verbs.post(b);
        }
        b.clear();
        // 2. the survivor, then 3. the removed node, each complete before the next begins
        writeWhole(w, l, left, level, GlobalAddress.NULL);
        writeWhole(w, rn, right, level, rightLock);
        // 4. the survivor's lock only now: nobody may change it while the removed node still looks live
        if (leftLock != rightLock) {
            unlock(w, leftLock);
        }
        if (!parentReleased && parentLock != rightLock && parentLock != leftLock) {
            unlock(w, parentLock);
        }
        removed.add(right);
        if (reusing) {
            // the merge is complete: retire its intent before the block can be handed out again, so
            // node repair never takes a later node in the block for this merge's unfinished right node
            verbs.write(cell, RedoLog.FREE_WORD, 0, Long.BYTES);
            allocator.free(right);
        }
        (level == 0 ? stats.leafMerges : stats.internalMerges).increment();
        return new MergeStep(MergeOutcome.MERGED, parentLow, parentUnderfull, parentSpans, survivorLow, survivorUnderfull);
    }

    /** A node alone on its level: the all-zero low fence and no high fence. */
    private boolean spansLevel(NodeImage n) {
        return n.highInfinite() && isZero(n.buffer(), n.lowFenceOffset());
    }

    private boolean isZero(DirectBuffer b, int offset) {
        for (int i = 0; i < keyBytes; i++) {
            if (b.getByte(offset + i) != 0) {
                return false;
            }
        }
        return true;
    }

    private static long[] distinctAscending(long a, long b, long c) {
        long[] all = {a, b, c};
        Arrays.sort(all);
        int n = 1;
        for (int i = 1; i < all.length; i++) {
            if (all[i] != all[n - 1]) {
                all[n++] = all[i];
            }
        }
        return Arrays.copyOf(all, n);
    }

    /**
     * Writes the whole sealed {@code image} of {@code node} (of {@code level}) with its redo record
     * and the record's retirement, in one batch; then releases {@code lock} in it, unless it is
     * {@link GlobalAddress#NULL}.
     */
    private void writeWhole(Worker w, NodeImage image, long node, int level, long lock) {
        VerbBatch b = w.batch;
        b.clear();
        int c = RedoLayout.cellForLevel(level);
        long cell = redo.cell(node, w.slot, c);
        int recordBytes = w.record.image(redo.writers().nextSeq(w.slot, c), node, image, 0, null, 0, GlobalAddress.NULL);
        b.write(cell, w.record.buffer(), 0, recordBytes);
        b.write(node, image.buffer(), 0, layout.nodeBytes());
        b.write(cell, RedoLog.FREE_WORD, 0, Long.BYTES);
        if (lock != GlobalAddress.NULL) {
            locks.release(lock, LockMode.EXCLUSIVE, b);
        } else {
            verbs.post(b);
        }
        b.clear();
    }

    /**
     * While the root is an internal node alone on its level with a single child, removes it and
     * makes the child the root: under the root's lock, the root is written removed (its forward
     * naming the child), then the root pointer is swung by CAS. A traversal that meets the
     * removed root before the CAS descends from its forward; only this remover swings the pointer
     * (under the lock, before the block is freed, so the CAS cannot meet a reused root).
     */
    private void shrinkRoot(Worker w) {
        while (w.mergeBudget > 0) {
            long r = refreshRoot(w);
            NodeImage n = w.node;
            readConsistent(r, n);
            if (n.isRemoved()) {
                return; // another shrink is between its removal and its swing: its remover swings the pointer
            }
            if (n.level() == 0 || n.count() != 0 || !n.highInfinite()) {
                return;
            }
            long lock = lockOf(r);
            locks.acquire(lock, LockMode.EXCLUSIVE);
            readLocked(r, n);
            if (n.isRemoved() || n.level() == 0 || n.count() != 0 || !n.highInfinite() || refreshRoot(w) != r) {
                unlock(w, lock);
                return;
            }
            long child = n.leftmost();
            n.markRemoved(child, redo.member());
            n.seal();
            writeWhole(w, n, r, n.level(), GlobalAddress.NULL);
            verbs.cas(IndexSuperblock.ROOT_POINTER, r, child);
            unlock(w, lock);
            root = new RootView(child, w.era); // read from the removed root at the operation's era
            removed.add(r);
            if (reusing) {
                allocator.free(r);
            }
            stats.rootShrinks.increment();
            w.mergeBudget--;
        }
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
        r.setBornEra(allocator.bornEra(right));
        for (int i = leftCount; i < count; i++) {
            r.buffer().putBytes(layout.leafEntry(i - leftCount), records, order[i] * entryBytes, entryBytes);
        }
        r.setCount(count - leftCount);
        r.seal();

        byte[] low = new byte[keyBytes];
        n.buffer().getBytes(n.lowFenceOffset(), low);
        long born = n.bornEra();
        n.init(0, new UnsafeBuffer(low), 0, records, sepRecord, right, n.writes());
        n.setBornEra(born);
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
        long lock = NO_LOCK;
        for (int attempt = 0; lock == NO_LOCK; attempt++) {
            if (attempt > MAX_RESTARTS) {
                throw new IllegalStateException("level " + level + " could not be grown for a separator in "
                        + MAX_RESTARTS + " attempts");
            }
            System.arraycopy(separator, 0, w.key, 0, keyBytes);
            long start = descend(w, level);
            if (start == GlobalAddress.NULL) {
                growRoot(w, level - 1);
                continue;
            }
            lock = lockCovering(w, level, start); // NO_LOCK: a root shrink took the level away meanwhile
        }
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
        w.era = era;
        claimSlot(w);
        try {
            // a child removed since (merged into its left neighbour), or not the node of its level that
            // holds its low fence (the chain left it behind), must not become a child again
            NodeImage c = w.other;
            readConsistent(child, c);
            if (c.isRemoved() || c.level() != level - 1
                    || !KeyOrder.equal(c.buffer(), c.lowFenceOffset(), new UnsafeBuffer(separator), 0, keyBytes)) {
                return;
            }
            System.arraycopy(separator, 0, w.key, 0, keyBytes);
            if (locate(w, level - 1, descend(w, level - 1)) != child) {
                return;
            }
            insertSeparator(w, level, separator.clone(), child);
        } finally {
            releaseSlot(w);
        }
    }

    /**
     * Recovery: a root pointer that names a removed root (its remover stopped between removing it
     * and swinging the pointer) is swung to the removed root's only child, repeatedly.
     */
    void completeRootShrink(int lapsed) {
        Worker w = workers.get();
        w.era = era;
        for (int i = 0; i < MAX_RESTARTS; i++) {
            long r = refreshRoot(w);
            readConsistent(r, w.node);
            if (!w.node.isRemoved() || w.node.removedBy() != lapsed) {
                return; // a live remover swings its own pointer; a CAS from here could land after a reuse
            }
            // the lapsed remover is fenced and its removed root is freed only by its reclamation, after this
            verbs.cas(IndexSuperblock.ROOT_POINTER, r, w.node.forward());
        }
        throw new IllegalStateException("the root pointer keeps naming removed nodes");
    }

    /**
     * Memory reclamation ({@link MemoryReclaim}): holding {@code node}'s lock, decides whether the
     * block is garbage, and if so runs {@code free} (still under the lock) and returns its result.
     * Garbage: it fails its checksum (never written, or torn by a crashed writer: a node is written
     * whole before anything names it), or it is a live node that is not the node of its level
     * holding its low fence (an orphan of a split or root growth whose link never landed). A removed
     * node is not garbage here (it waits for safe reuse). Under the lock no merge or split is
     * midway through the node: a merge unlinks and flags its right node holding its lock, and every
     * write-back holds the node's lock, so the plain read is stable.
     */
    boolean freeIfUnreachable(long node, java.util.function.BooleanSupplier free) {
        Worker w = workers.get();
        w.era = era;
        long lock = lockOf(node);
        locks.acquire(lock, LockMode.EXCLUSIVE);
        try {
            NodeImage n = w.other;
            verbs.read(node, n.buffer(), 0, layout.nodeBytes());
            if (n.checksumValid()) {
                if (n.isRemoved()) {
                    return false;
                }
                int level = n.level();
                n.buffer().getBytes(n.lowFenceOffset(), w.key, 0, keyBytes);
                if (locate(w, level, descend(w, level)) == node) {
                    return false;
                }
            }
            return free.getAsBoolean();
        } finally {
            unlock(w, lock);
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
        r.setBornEra(allocator.bornEra(right));
        r.setLeftmost(children[mid]);
        for (int i = mid + 1; i < total; i++) {
            r.putSeparator(i - mid - 1, new UnsafeBuffer(keys[i]), 0, children[i]);
        }
        r.setCount(total - mid - 1);
        r.seal();

        byte[] low = new byte[keyBytes];
        n.buffer().getBytes(n.lowFenceOffset(), low);
        long leftmost = n.leftmost();
        long born = n.bornEra();
        n.init(level, new UnsafeBuffer(low), 0, new UnsafeBuffer(pushed), 0, right, n.writes());
        n.setBornEra(born);
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
        if (n.isRemoved()) {
            // a root shrink between its removal and its swing: its remover swings the pointer (no
            // helper does: see descendFromRoot); wait a little, then the caller retries
            java.util.concurrent.locks.LockSupport.parkNanos(200_000);
            return;
        }
        if (n.level() != level) {
            return; // grown already (or the caller's view is stale): retry the insert
        }
        // Hold the old root's lock while reading its chain and swinging the pointer: without it the
        // old root could absorb its sibling and become the root again by a shrink (pointer ABA),
        // and the CAS would install a root over a removed node. Held alone, as every lock here.
        long lock = lockOf(oldRoot);
        locks.acquire(lock, LockMode.EXCLUSIVE);
        try {
            readLocked(oldRoot, n);
            if (n.isRemoved() || n.level() != level || refreshRoot(w) != oldRoot) {
                return;
            }
            growRootHoldingLock(w, level, oldRoot);
        } finally {
            unlock(w, lock);
        }
    }

    private void growRootHoldingLock(Worker w, int level, long oldRoot) {
        NodeImage n = w.node;
        List<byte[]> lows = new ArrayList<>();
        List<Long> nodes = new ArrayList<>();
        long address = oldRoot;
        int capacity = layout.internalCapacity();
        while (nodes.size() <= capacity) {
            readConsistent(address, n);
            if (n.isRemoved() || n.level() != level) {
                return; // the chain changed under us: retry
            }
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
        r.setBornEra(allocator.bornEra(newRoot));
        r.setLeftmost(nodes.get(0));
        for (int i = 1; i < nodes.size(); i++) {
            r.putSeparator(i - 1, new UnsafeBuffer(lows.get(i)), 0, nodes.get(i));
        }
        r.setCount(nodes.size() - 1);
        r.seal();
        verbs.write(newRoot, r.buffer(), 0, layout.nodeBytes());
        if (verbs.cas(IndexSuperblock.ROOT_POINTER, oldRoot, newRoot) == oldRoot) {
            stats.rootGrowths.increment();
            root = new RootView(newRoot, w.era); // at most its born era: a reader restarts once at worst
        } else {
            refreshRoot(w);
        }
    }

    // ------------------------------------------------------------------ hooks for operations built on the tree
    // (EntryUpdates, TreeNavigation, BatchedLookups live in classes of their own and reach the tree's
    // traversal, locking and write-back only through these)

    /**
     * Runs {@code update} under the lock of the leaf whose fences hold {@code key}, with the key's
     * current value (or none), and applies its decision: {@link EntryUpdate.Decision#PUT} goes the
     * way of a put (one entry written back with the release, or a split), {@code DELETE} the way of a
     * delete (merges included), {@code KEEP} only releases. Linearizable at the lock's hold: no
     * other writer changes the leaf between the decision and its write-back.
     */
    EntryUpdate.Decision updateEntry(byte[] key, EntryUpdate update) {
        Worker w = workerFor(key);
        claimSlot(w);
        try {
            long lock = lockCovering(w, 0, descend(w, 0));
            NodeImage n = w.node;
            int slot = n.findLeafKey(w.keyBuffer, 0);
            EntryUpdate.Decision d;
            DirectBuffer value = null;
            try {
                d = slot < 0 ? update.decide(null, 0) : update.decide(n.buffer(), n.leafValueOffset(slot));
                if (d == EntryUpdate.Decision.PUT) {
                    value = update.value();
                    if (value == null || value.capacity() - update.valueOffset() < valueBytes) {
                        throw new IllegalArgumentException("value must be " + valueBytes + " bytes");
                    }
                }
            } catch (RuntimeException | Error e) {
                unlock(w, lock); // nothing was changed: the leaf's image is only in this worker
                throw e;
            }
            switch (d) {
                case KEEP -> unlock(w, lock);
                case PUT -> putLocked(w, lock, slot, value, update.valueOffset());
                case DELETE -> {
                    if (slot < 0) {
                        unlock(w, lock);
                    } else {
                        deleteLocked(w, lock, slot);
                    }
                }
                default -> throw new IllegalStateException("unknown decision " + d);
            }
            return d;
        } finally {
            releaseSlot(w);
        }
    }

    /**
     * Puts {@code keys[from..to)} (ascending, distinct) with their values, as many as go into the
     * leaf that holds {@code keys[from]} under one hold of its lock: one lock, one READ and one
     * write-back with the release for all of them. Stops at the first key right of the leaf's range
     * or that finds no free slot; when even the first finds none it is put the ordinary way (a
     * split). Returns how many keys were put (at least one).
     */
    int putRun(byte[][] keys, DirectBuffer[] values, int from, int to) {
        for (int i = from; i < to; i++) {
            checkKey(keys[i]);
            if (values[i] == null || values[i].capacity() < valueBytes) {
                throw new IllegalArgumentException("value must be " + valueBytes + " bytes");
            }
        }
        Worker w = workerFor(keys[from]);
        claimSlot(w);
        try {
            long lock = lockCovering(w, 0, descend(w, 0));
            long leaf = w.lockedNode;
            NodeImage n = w.node;
            int applied = 0;
            int lastSlot = -1;
            for (int i = from; i < to; i++) {
                if (i > from) {
                    System.arraycopy(keys[i], 0, w.key, 0, keyBytes);
                    if (n.atOrAboveHigh(w.keyBuffer, 0)) {
                        break; // ascending keys: the rest lie right of this leaf
                    }
                }
                int slot = n.findLeafKey(w.keyBuffer, 0);
                if (slot < 0) {
                    slot = n.freeLeafSlot();
                    if (slot < 0) {
                        break;
                    }
                    n.setCount(n.count() + 1);
                }
                n.putLeafEntry(slot, w.keyBuffer, 0, values[i], 0);
                applied++;
                lastSlot = slot;
            }
            if (applied == 0) {
                putLocked(w, lock, -1, values[from], 0); // the leaf is full: the first key splits it (w.key is still keys[from])
                return 1;
            }
            if (applied == 1) {
                writeBackEntryAndUnlock(w, leaf, lock, lastSlot);
            } else {
                n.seal();
                writeNodeAndUnlock(w, leaf, lock);
            }
            return applied;
        } finally {
            releaseSlot(w);
        }
    }

    /**
     * Lock-free: copies into {@code into} a consistent image of the leaf whose fences held
     * {@code key} at the instant it was read (from the cache, or from the root), and returns the
     * leaf's address.
     */
    long readLeaf(byte[] key, NodeImage into) {
        Worker w = workerFor(key);
        long leaf = readCovering(w, descend(w, 0));
        into.copyFrom(w.node);
        return leaf;
    }

    /** Reads any node until its checksum matches. */
    void readNode(long address, NodeImage into) {
        readConsistent(address, into);
    }

    /**
     * The leaf address the index cache gives for {@code key} without any READ, or
     * {@link GlobalAddress#NULL} on a miss; stores in {@code eras[slot]} the reuse era the pointer
     * is valid for: a leaf image born later came from a reused block, not the leaf the pointer named.
     */
    long cachedLeaf(byte[] key, long[] eras, int slot) {
        Worker w = workerFor(key);
        IndexCache.CachedNode hit = cache.lookup(1, w.key, w.keyBuffer);
        if (hit == null) {
            return GlobalAddress.NULL;
        }
        eras[slot] = Math.min(w.era, hit.era());
        return hit.image().childFor(w.keyBuffer, 0);
    }

    /** Whether {@code image}, read through a pointer valid for {@code era}, was born after it (see Reuse). */
    boolean bornAfter(NodeImage image, long era) {
        return checkReuse && image.bornEra() > era;
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
