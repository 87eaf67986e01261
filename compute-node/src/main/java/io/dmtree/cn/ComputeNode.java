package io.dmtree.cn;

import io.dmtree.cn.recovery.MemberFence;
import io.dmtree.core.cn.CnThreads;
import io.dmtree.core.lock.HostMemory;
import io.dmtree.core.lock.HostMemoryContext;
import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockTable;
import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.tree.BLinkTree;
import io.dmtree.core.tree.IndexCache;
import io.dmtree.core.tree.IndexSuperblock;
import io.dmtree.core.tree.NodeAllocator;
import io.dmtree.core.tree.MemoryReclaim;
import io.dmtree.core.tree.RedoLog;
import io.dmtree.core.tree.TreeChecker;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.tree.TreeReport;

/**
 * The runtime of one compute node, whatever the carrier: its verbs to the memory nodes, its
 * control-plane handle for chunks, its CN-to-CN messaging, its thread ids, lock client, node
 * allocator and index cache, and its instance of the tree. Opening it creates the index on memory
 * node 0 if nobody has yet, else checks that the stored index matches this configuration.
 */
public final class ComputeNode implements AutoCloseable {
    private final int id;
    private final int computeNodeCount;
    private final Verbs verbs;
    private final CnMessaging messaging;
    private final CnThreads threads;
    private final LockDesign lockDesign;
    private final LockClient lockClient;
    private final LockTable lockTable;
    private final MemberLiveness liveness;
    private final MemberFence fence;
    private final IndexCache cache;
    private final BLinkTree tree;
    private final TreeConfig treeConfig;
    private final CnIndex index;
    private final InFlightWork inFlight = new InFlightWork();

    /**
     * @param id              this compute node's id, {@code 0 .. computeNodes-1}
     * @param computeNodes    upper bound of compute node ids
     * @param verbs           the carrier's verbs to every memory node
     * @param chunks          the memory nodes' control plane
     * @param messaging       this node's CN-to-CN endpoint
     * @param treeConfig      the index's shape
     * @param lockDesign      the lock the tree uses
     * @param threadCapacity  most threads that use this node at once
     */
    public ComputeNode(int id, int computeNodes, Verbs verbs, ChunkSource chunks, CnMessaging messaging,
                       TreeConfig treeConfig, LockDesign lockDesign, int threadCapacity) {
        this(id, computeNodes, verbs, chunks, messaging, treeConfig, lockDesign, threadCapacity, -1, null);
    }

    /**
     * A compute node that shares a host with memory node {@code hostMemoryNode} and reaches its
     * memory through {@code hostMemory} (CPU access, not verbs); lock designs with a local path,
     * such as {@code alock}, use it. {@code -1} and null: remote to every memory node.
     */
    public ComputeNode(int id, int computeNodes, Verbs verbs, ChunkSource chunks, CnMessaging messaging,
                       TreeConfig treeConfig, LockDesign lockDesign, int threadCapacity, int hostMemoryNode,
                       HostMemory hostMemory) {
        this(id, computeNodes, verbs, chunks, messaging, treeConfig, lockDesign, threadCapacity, hostMemoryNode, hostMemory,
                MemberLiveness.EVERYONE_LIVE, null);
    }

    /**
     * A compute node of a cluster with leases and fencing: its lock client learns membership from
     * {@code liveness}, and every index operation first checks {@code fence} (null: none), so an
     * operation begun after this node was fenced throws {@link io.dmtree.core.memory.FencedException}
     * at once, whatever lock wait it would have entered. The other constructors give
     * {@link MemberLiveness#EVERYONE_LIVE} and no fence.
     */
    public ComputeNode(int id, int computeNodes, Verbs verbs, ChunkSource chunks, CnMessaging messaging,
                       TreeConfig treeConfig, LockDesign lockDesign, int threadCapacity, int hostMemoryNode,
                       HostMemory hostMemory, MemberLiveness liveness, MemberFence fence) {
        if (liveness == null) {
            throw new IllegalArgumentException("liveness is required (MemberLiveness.EVERYONE_LIVE for none)");
        }
        if ((hostMemoryNode < 0) != (hostMemory == null)) {
            throw new IllegalArgumentException("a host memory node needs its host memory, and the other way round");
        }
        this.id = id;
        this.computeNodeCount = computeNodes;
        this.verbs = verbs;
        this.messaging = messaging;
        this.threads = new CnThreads(threadCapacity);
        this.lockDesign = lockDesign;
        this.treeConfig = treeConfig;
        this.liveness = liveness;
        this.fence = fence;
        this.lockClient = new TrackedLockClient(lockDesign.newClient(new Context(id, computeNodes, verbs, messaging, threads,
                hostMemoryNode, hostMemory, liveness)), inFlight);
        this.lockTable = new LockTable(chunks.lockTableOffset(), chunks.lockTableBytes(), lockDesign.lockBytes());
        NodeAllocator allocator = new NodeAllocator(chunks, verbs, treeConfig.nodeBytes(), id, id, fence == null ? 0 : fence.epoch());
        this.cache = new IndexCache(treeConfig.layout(), treeConfig.cacheBytes());
        long root = IndexSuperblock.createOrOpen(verbs, allocator, treeConfig, lockDesign.name(), lockTable.stride());
        RedoLog redo = RedoLog.open(verbs, allocator, treeConfig, id, threadCapacity);
        this.tree = new BLinkTree(treeConfig, verbs, lockClient, lockTable, allocator, cache, redo, root);
        this.index = new CnIndex(this);
    }

    /** What this node's lock client may use; remote to every memory node when hostMemoryNode is -1. */
    private record Context(int computeNode, int computeNodeCount, Verbs verbs, CnMessaging messaging, CnThreads threads,
                           int hostMemoryNode, HostMemory hostMemory, MemberLiveness liveness)
            implements HostMemoryContext {
    }

    public int id() {
        return id;
    }

    /** Upper bound of compute node ids the lock design names. */
    public int computeNodeCount() {
        return computeNodeCount;
    }

    public Verbs verbs() {
        return verbs;
    }

    public CnMessaging messaging() {
        return messaging;
    }

    public CnThreads threads() {
        return threads;
    }

    public LockDesign lockDesign() {
        return lockDesign;
    }

    /** This node's lock client (its holds are counted in {@link #inFlight}). */
    public LockClient lockClient() {
        return lockClient;
    }

    /** Whether this node can vouch it leaves nothing behind (see {@link InFlightWork}). */
    public InFlightWork inFlight() {
        return inFlight;
    }

    /** Where this index's locks live (the same on every memory node). */
    public LockTable lockTable() {
        return lockTable;
    }

    /** What this node's lock client knows of membership. */
    public MemberLiveness liveness() {
        return liveness;
    }

    /** This node's own fence, or null in a cluster without one. */
    public MemberFence fence() {
        return fence;
    }

    /** Throws {@link io.dmtree.core.memory.FencedException} once this node is fenced. */
    void checkNotFenced() {
        MemberFence f = fence;
        if (f != null) {
            f.check();
        }
    }

    public BLinkTree tree() {
        return tree;
    }

    public IndexCache cache() {
        return cache;
    }

    public TreeConfig treeConfig() {
        return treeConfig;
    }

    /** This node's view of the index. */
    public DmIndex index() {
        return index;
    }

    /** Runs the tree checker through this node's verbs; quiescent use only. */
    public TreeReport check() {
        return new TreeChecker(verbs, treeConfig).check();
    }

    /**
     * Gives this node's memory back before a clean leave (quiescent use only, with no operation in
     * flight): forgets its redo blocks (their directory words, by CAS), then reclaims as for a lapse
     * ({@link MemoryReclaim}): its nodes the tree reaches or that wait for safe reuse stay, its
     * chunks are adopted or freed, its reserve and redo blocks go to the pool. A recovery of this
     * member after a failed leave finds nothing left to do, or finishes what this left.
     */
    public MemoryReclaim.Report releaseMemory() {
        RedoLog redo = tree.redoLog();
        for (int mn = 0; mn < verbs.memoryNodeCount(); mn++) {
            verbs.cas(GlobalAddress.of(mn, RegionLayout.redoDirectoryEntry(id)), redo.block(mn), GlobalAddress.NULL);
        }
        return MemoryReclaim.reclaim(tree, id, fence == null ? 0 : fence.epoch());
    }

    @Override
    public void close() {
        index.markClosed();
        lockClient.close();
        messaging.close();
    }
}
