package io.dmtree.core.tree;

import io.dmtree.core.layout.ChunkTableLayout;
import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.region.ChunkTable;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A compute node's allocator of tree nodes and of its own metadata blocks, over the memory nodes'
 * chunk tables ({@link ChunkTableLayout}), rotating over memory nodes so the tree spreads across
 * them. Every block it hands out is recorded, before its address is returned, on the block's own
 * memory node as held by this member and epoch; so whatever verb this compute node dies before,
 * every block is accounted for by the table, and the recovery of this member
 * ({@link MemoryReclaim}) returns what no tree path reaches to the free pool.
 *
 * <h2>Where a block comes from, in order</h2>
 * <ol>
 *   <li>The free pool: blocks this allocator freed, and free blocks (of owned or adopted chunks)
 *   found by the last scan, each
 *   claimed by one CAS of its block word from the free word read to "node, this member" (a lost
 *   race drops the candidate: another member has it), then stamped with a born era: one FAA on the
 *   reuse era ({@link io.dmtree.core.layout.RegionLayout#REUSE_ERA_OFFSET}), whose raised value
 *   the caller writes into the node ({@link #bornEra}).</li>
 *   <li>This member's own chunk on that memory node: the next reserve block, recorded by one WRITE
 *   of its block word (only the chunk's owner hands out its reserve blocks, so no CAS is needed).</li>
 *   <li>A scan of that memory node's table for free blocks (when the own chunk is used up or
 *   there is none yet), then 1 again.</li>
 *   <li>A fresh chunk, claimed by one CAS of a free owner word to "owned, this member", then one FAA
 *   of the reuse era: every node bumped out of the chunk carries the raised value as its born era
 *   (the chunk may have been in use before, returned whole to the pool, while other members still
 *   hold pointers into its old life).</li>
 * </ol>
 * A metadata block (a redo block) is a run of reserve blocks of the own chunk, recorded "meta" by
 * one WRITE of their words and zeroed by this member (chunk memory is not zeroed when a chunk
 * returns to the pool; a tree node is always written whole before anything names it).
 *
 * <p>An adopted chunk the scan finds wholly free goes back to the pool of chunks
 * ({@link #returnChunk}: claimed block by block, then owned, then free).
 *
 * <p>{@link #free} returns a removed node's block to the pool (a READ and a CAS of its word); only
 * free words are claimed by others, never reserve words, so an owner's bump allocation needs no
 * CAS. Cost: one extra verb (8 bytes) per fresh node, two (CAS, FAA) per reused one, on a split or
 * a root growth only. Thread-safe (synchronized: allocation is rare).
 */
public final class NodeAllocator {
    /** The most free-block candidates kept per memory node from one scan. */
    static final int POOL_CANDIDATES = 256;
    /** The reuse era word on memory node 0. */
    static final long REUSE_ERA = GlobalAddress.of(0, io.dmtree.core.layout.RegionLayout.REUSE_ERA_OFFSET);

    private final ChunkTable table;
    private final int nodeBytes;
    private final int member;
    private final long epoch;
    private final long nodeWord;
    private final long metaWord;
    private final long valueWord;
    private final long valueTailWord;
    private final long spareWord;
    private final io.dmtree.core.memory.VerbBatch valueBatch = new io.dmtree.core.memory.VerbBatch();
    /** Freed value runs kept for values of the same run length, by run length in blocks. */
    private final java.util.Map<Integer, java.util.ArrayDeque<Long>> spareRuns = new java.util.HashMap<>();
    private long spareBlocks;
    /** The most blocks of freed value runs kept spare; beyond it freed runs go to the pool. */
    static final long MAX_SPARE_BLOCKS = 1 << 14;
    private final long ownedWord;
    private final long[] chunk;
    private final long[] nextBlock;
    /** The reuse era raised when {@link #chunk} was claimed: the born era of every node bumped out of it. */
    private final long[] chunkEra;
    private final long blocksPerChunk;
    private final long[][] candidateChunk;
    private final long[][] candidateBlock;
    private final long[][] candidateWord;
    private final int[] candidates;
    private final UnsafeBuffer word = new UnsafeBuffer(new byte[Long.BYTES]);
    private final java.util.Map<Long, Long> bornEras = new java.util.HashMap<>();
    private final long freeWord;
    private int next;
    private long reused;
    private long freed;
    private long chunksReturned;

    /**
     * @param chunks          the memory nodes' control plane (its chunk size must be the tables')
     * @param member          this compute node's member id, recorded as owner
     * @param epoch           its incarnation's epoch (0 without membership), recorded with it
     */
    public NodeAllocator(ChunkSource chunks, Verbs verbs, int nodeBytes, int firstMemoryNode, int member, long epoch) {
        if (chunks.chunkBytes() < nodeBytes) {
            throw new IllegalArgumentException("chunks of " + chunks.chunkBytes() + " bytes cannot hold a "
                    + nodeBytes + "-byte node");
        }
        if (member < 0 || member > ChunkTableLayout.MEMBER_MASK) {
            throw new IllegalArgumentException("member id " + member + " does not fit a chunk table word");
        }
        this.table = ChunkTable.open(verbs);
        int memoryNodes = table.memoryNodes();
        for (int mn = 0; mn < memoryNodes; mn++) {
            if (table.layout(mn).chunkBytes() != chunks.chunkBytes()) {
                throw new IllegalArgumentException("memory node " + mn + " uses chunks of " + table.layout(mn).chunkBytes()
                        + " bytes, the control plane " + chunks.chunkBytes());
            }
        }
        this.nodeBytes = nodeBytes;
        this.member = member;
        this.epoch = epoch;
        this.nodeWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_NODE, member, epoch);
        this.metaWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_META, member, epoch);
        this.valueWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_VALUE, member, epoch);
        this.valueTailWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_VALUE_TAIL, member, epoch);
        this.spareWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_VALUE_SPARE, member, epoch);
        this.ownedWord = ChunkTableLayout.word(ChunkTableLayout.CHUNK_OWNED, member, epoch);
        this.freeWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_FREE, member, 0);
        this.blocksPerChunk = table.layout(0).blocksPerChunk(nodeBytes);
        this.chunk = new long[memoryNodes];
        this.nextBlock = new long[memoryNodes];
        this.chunkEra = new long[memoryNodes];
        java.util.Arrays.fill(chunk, -1);
        this.candidateChunk = new long[memoryNodes][POOL_CANDIDATES];
        this.candidateBlock = new long[memoryNodes][POOL_CANDIDATES];
        this.candidateWord = new long[memoryNodes][POOL_CANDIDATES];
        this.candidates = new int[memoryNodes];
        this.next = Math.floorMod(firstMemoryNode, memoryNodes);
    }

    /** Bytes of one chunk that blocks use (whole nodes only). */
    public long chunkBytes() {
        return blocksPerChunk * nodeBytes;
    }

    public int member() {
        return member;
    }

    public long epoch() {
        return epoch;
    }

    /** Nodes handed out from the free pool so far. */
    public synchronized long reused() {
        return reused;
    }

    /** Adopted chunks this allocator found wholly free and returned to the pool of chunks. */
    public synchronized long chunksReturned() {
        return chunksReturned;
    }

    /** Blocks this allocator returned to the pool ({@link #free}). */
    public synchronized long freed() {
        return freed;
    }

    /**
     * The born era to write into the node at {@code address}, which {@link #allocate} just
     * returned to the caller: the raised reuse era for a reused block, 0 for a fresh one. Asked once.
     */
    public synchronized long bornEra(long address) {
        Long era = bornEras.remove(address);
        return era == null ? 0 : era;
    }

    /**
     * Returns the block of a node the tree no longer reaches (a removed node, after its removal
     * was written) to the pool: its word, recorded as a node of whoever allocated it, becomes free
     * by CAS. True when this call freed it.
     */
    public synchronized boolean free(long address) {
        int mn = GlobalAddress.memoryNode(address);
        ChunkTableLayout t = table.layout(mn);
        long offset = GlobalAddress.offset(address);
        long c = t.chunkOf(offset);
        if (c < 0 || (offset - t.chunkOffset(c)) % nodeBytes != 0) {
            throw new IllegalArgumentException(GlobalAddress.toString(address) + " is no node block");
        }
        long wordAt = t.blockWord(c, (offset - t.chunkOffset(c)) / nodeBytes);
        table.verbs().read(GlobalAddress.of(mn, wordAt), word, 0, Long.BYTES);
        long seen = word.getLong(0);
        if (ChunkTableLayout.state(seen) != ChunkTableLayout.BLOCK_NODE || table.cas(mn, wordAt, seen, freeWord) != seen) {
            return false;
        }
        freed++;
        int i = candidates[mn];
        if (i < POOL_CANDIDATES) { // the next node on this memory node reuses it first
            candidateChunk[mn][i] = c;
            candidateBlock[mn][i] = (offset - t.chunkOffset(c)) / nodeBytes;
            candidateWord[mn][i] = freeWord;
            candidates[mn] = i + 1;
        }
        return true;
    }

    /**
     * The address of a fresh block of at least {@code bytes} bytes, zeroed, on memory node
     * {@code mn}, recorded as this member's metadata; it must fit in one chunk.
     */
    public synchronized long allocateBlock(int mn, long bytes) {
        if (mn < 0 || mn >= chunk.length) {
            throw new IllegalArgumentException("no memory node " + mn);
        }
        long run = (bytes + nodeBytes - 1) / nodeBytes;
        if (bytes <= 0 || run > blocksPerChunk) {
            throw new IllegalArgumentException("a block of " + bytes + " bytes does not fit in a chunk of "
                    + chunkBytes() + " usable bytes");
        }
        if (chunk[mn] < 0 || blocksPerChunk - nextBlock[mn] < run) {
            claimChunk(mn); // what is left of the old one stays its reserve
        }
        long c = chunk[mn];
        long first = nextBlock[mn];
        ChunkTableLayout t = table.layout(mn);
        table.writeWords(mn, t.blockWord(c, first), (int) run, metaWord);
        nextBlock[mn] = first + run;
        long address = GlobalAddress.plus(table.chunkAddress(mn, c), first * nodeBytes);
        table.zero(address, run * nodeBytes);
        return address;
    }

    /**
     * The address of a run of fresh reserve blocks of at least {@code bytes} bytes for one value
     * block ({@link ValueLayout}), on the next memory node in rotation, recorded (one WRITE of its
     * words) as this member's: the first block "value", the others "value tail". Its content is
     * undefined. Value runs never come from the free pool, so a value block never reuses a node's
     * block and no stale node pointer can lead into one.
     */
    public synchronized long allocateValue(int bytes) {
        return allocateValue(bytes, null, 0);
    }

    /**
     * {@link #allocateValue(int)} that also writes {@code block} (its first {@code bytes} bytes) to
     * the run, in the same batch as the run's block words: one round trip for both.
     */
    public synchronized long allocateValue(int bytes, org.agrona.DirectBuffer block) {
        if (block == null || block.capacity() < bytes) {
            throw new IllegalArgumentException("a value block of " + bytes + " bytes is needed");
        }
        return allocateValue(bytes, block, 0);
    }

    private long allocateValue(int bytes, org.agrona.DirectBuffer block, int unused) {
        long run = (bytes + nodeBytes - 1) / nodeBytes;
        if (bytes <= 0 || run > blocksPerChunk) {
            throw new IllegalArgumentException("a value block of " + bytes + " bytes does not fit in a chunk of "
                    + chunkBytes() + " usable bytes");
        }
        java.util.ArrayDeque<Long> spare = spareRuns.get((int) run);
        if (spare != null && !spare.isEmpty()) {
            long address = spare.pop();
            spareBlocks -= run;
            int mn = GlobalAddress.memoryNode(address);
            ChunkTableLayout t = table.layout(mn);
            long c = t.chunkOf(GlobalAddress.offset(address));
            writeRunWords(mn, t.blockWord(c, (GlobalAddress.offset(address) - t.chunkOffset(c)) / nodeBytes), run,
                    address, block, bytes);
            return address;
        }
        int mn = next;
        next = (next + 1) % chunk.length;
        if (chunk[mn] < 0 || blocksPerChunk - nextBlock[mn] < run) {
            claimChunk(mn); // what is left of the old one stays its reserve
        }
        long c = chunk[mn];
        long first = nextBlock[mn];
        ChunkTableLayout t = table.layout(mn);
        long address = GlobalAddress.plus(table.chunkAddress(mn, c), first * nodeBytes);
        writeRunWords(mn, t.blockWord(c, first), run, address, block, bytes);
        nextBlock[mn] = first + run;
        return address;
    }

    /** Records a run's words as this member's value (one WRITE): only this member hands them out. */
    private void writeRunWords(int mn, long firstWordAt, long run, long address, org.agrona.DirectBuffer block, int bytes) {
        UnsafeBuffer bb = new UnsafeBuffer(new byte[(int) run * Long.BYTES]);
        bb.putLong(0, valueWord);
        for (int i = 1; i < run; i++) {
            bb.putLong(i * Long.BYTES, valueTailWord);
        }
        valueBatch.clear();
        valueBatch.write(GlobalAddress.of(mn, firstWordAt), bb, 0, (int) run * Long.BYTES);
        if (block != null) {
            valueBatch.write(address, block, 0, bytes); // same memory node, applied after the words
        }
        table.verbs().post(valueBatch);
    }

    /**
     * Returns the value block run of {@code bytes} bytes at {@code address} to the free pool (a READ
     * of its words, then a CAS of each to free): called by the one writer that took its descriptor
     * out of a leaf, after that write-back, or by recovery for a run no leaf names. Its blocks may
     * then become nodes (with a born era, as every pooled block). The number of blocks it freed.
     */
    public synchronized int freeValue(long address, int bytes) {
        int mn = GlobalAddress.memoryNode(address);
        ChunkTableLayout t = table.layout(mn);
        long offset = GlobalAddress.offset(address);
        long c = t.chunkOf(offset);
        if (c < 0 || (offset - t.chunkOffset(c)) % nodeBytes != 0) {
            throw new IllegalArgumentException(GlobalAddress.toString(address) + " is no value block");
        }
        long first = (offset - t.chunkOffset(c)) / nodeBytes;
        int run = (int) Math.min((bytes + nodeBytes - 1) / nodeBytes, blocksPerChunk - first);
        int done = 0;
        boolean keep = spareBlocks + run <= MAX_SPARE_BLOCKS;
        for (int i = 0; i < run; i++) {
            long wordAt = t.blockWord(c, first + i);
            long mine = i == 0 ? valueWord : valueTailWord;
            // a run this member allocated is the common case: one CAS, no READ; the CAS returns the word otherwise
            long seen = table.cas(mn, wordAt, mine, keep ? spareWord : freeWord);
            if (seen == mine) {
                done++;
                freed++;
                if (!keep) {
                    pool(mn, c, first + i);
                }
                continue;
            }
            int want = i == 0 ? ChunkTableLayout.BLOCK_VALUE : ChunkTableLayout.BLOCK_VALUE_TAIL;
            if (ChunkTableLayout.state(seen) != want) {
                if (keep) {
                    for (int j = 0; j < i; j++) { // a short run: what went spare goes to the pool after all
                        if (table.cas(mn, t.blockWord(c, first + j), spareWord, freeWord) == spareWord) {
                            pool(mn, c, first + j);
                        }
                    }
                }
                keep = false;
                break; // the run ends (or was freed by recovery already)
            }
            if (keep) { // another member's run (or an earlier epoch's): what went spare goes to the pool
                for (int j = 0; j < i; j++) {
                    if (table.cas(mn, t.blockWord(c, first + j), spareWord, freeWord) == spareWord) {
                        pool(mn, c, first + j);
                    }
                }
                keep = false;
            }
            if (table.cas(mn, wordAt, seen, freeWord) == seen) {
                done++;
                freed++;
                pool(mn, c, first + i);
            }
        }
        if (keep && done == run) {
            spareRuns.computeIfAbsent(run, r -> new java.util.ArrayDeque<>()).push(address);
            spareBlocks += run;
        }
        return done;
    }

    /** Offers a freed block to the next node allocations on its memory node. */
    private void pool(int mn, long c, long b) {
        int k = candidates[mn];
        if (k < POOL_CANDIDATES) {
            candidateChunk[mn][k] = c;
            candidateBlock[mn][k] = b;
            candidateWord[mn][k] = freeWord;
            candidates[mn] = k + 1;
        }
    }

    /** Blocks of freed value runs this allocator keeps for its own later values. */
    public synchronized long spareValueBlocks() {
        return spareBlocks;
    }

    /** The address of a node-sized block recorded as this member's node; its content is undefined. */
    public synchronized long allocate() {
        int mn = next;
        next = (next + 1) % chunk.length;
        return allocateNode(mn);
    }

    private long allocateNode(int mn) {
        for (int attempt = 0; ; attempt++) {
            long fromPool = claimCandidate(mn);
            if (fromPool != GlobalAddress.NULL) {
                return fromPool;
            }
            if (chunk[mn] >= 0 && nextBlock[mn] < blocksPerChunk) {
                long c = chunk[mn];
                long b = nextBlock[mn]++;
                word.putLong(0, nodeWord);
                table.verbs().write(GlobalAddress.of(mn, table.layout(mn).blockWord(c, b)), word, 0, Long.BYTES);
                long address = GlobalAddress.plus(table.chunkAddress(mn, c), b * nodeBytes);
                if (chunkEra[mn] != 0) {
                    bornEras.put(address, chunkEra[mn]);
                }
                return address;
            }
            if (attempt == 0 && scanPool(mn) > 0) {
                continue;
            }
            claimChunk(mn);
        }
    }

    private long claimCandidate(int mn) {
        ChunkTableLayout t = table.layout(mn);
        while (candidates[mn] > 0) {
            int i = --candidates[mn];
            long c = candidateChunk[mn][i];
            long b = candidateBlock[mn][i];
            long seen = candidateWord[mn][i];
            if (table.cas(mn, t.blockWord(c, b), seen, nodeWord) == seen) {
                reused++;
                long address = GlobalAddress.plus(table.chunkAddress(mn, c), b * nodeBytes);
                // after the claim: a pointer read before this FAA saw an era below the one stamped
                long era = table.verbs().faa(REUSE_ERA, 1) + 1;
                bornEras.put(address, era);
                return address;
            }
        }
        return GlobalAddress.NULL;
    }

    /** Collects free blocks of owned and adopted chunks of {@code mn}; how many it found. */
    private int scanPool(int mn) {
        long[] owners = table.ownerWords(mn);
        int found = 0;
        for (long c = 0; c < owners.length && found < POOL_CANDIDATES; c++) {
            int state = ChunkTableLayout.state(owners[(int) c]);
            if (state != ChunkTableLayout.CHUNK_ADOPTED && state != ChunkTableLayout.CHUNK_OWNED) {
                continue;
            }
            long[] words = table.blockWords(mn, c, (int) blocksPerChunk);
            if (state == ChunkTableLayout.CHUNK_ADOPTED && allFree(words) && returnChunk(mn, c, owners[(int) c], words)) {
                continue;
            }
            for (int b = 0; b < words.length && found < POOL_CANDIDATES; b++) {
                if (ChunkTableLayout.state(words[b]) == ChunkTableLayout.BLOCK_FREE) {
                    candidateChunk[mn][found] = c;
                    candidateBlock[mn][found] = b;
                    candidateWord[mn][found] = words[b];
                    found++;
                }
            }
        }
        // claimed last-first: reverse so the lowest addresses go first
        for (int i = 0, j = found - 1; i < j; i++, j--) {
            swap(candidateChunk[mn], i, j);
            swap(candidateBlock[mn], i, j);
            swap(candidateWord[mn], i, j);
        }
        candidates[mn] = found;
        return found;
    }

    private static boolean allFree(long[] words) {
        for (long w : words) {
            if (ChunkTableLayout.state(w) != ChunkTableLayout.BLOCK_FREE) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns adopted chunk {@code c}, every block of which was seen free ({@code words}), to the
     * pool of chunks. Crash-safe at every verb, and safe against members claiming its blocks
     * meanwhile:
     * <ol>
     *   <li>each block word is CAS'ed from the free word seen to "metadata of this member": a lost
     *   CAS means a member claimed that block, so the words taken so far are CAS'ed back and the
     *   chunk stays adopted. Should this member die in this step, its reclamation frees its
     *   metadata words again ({@link MemoryReclaim}), which is the same undo;</li>
     *   <li>the owner word is CAS'ed from adopted to "owned, this member": from here on the chunk
     *   is this member's, whose reclamation frees a chunk of its that holds nothing whole;</li>
     *   <li>the block words are written reserve (0), as a chunk claimed fresh expects them;</li>
     *   <li>the owner word is CAS'ed to free.</li>
     * </ol>
     * Nodes that come out of the chunk again are stamped with the era raised at their claim
     * ({@link #claimChunk}), so stale pointers into its old life are told apart.
     */
    private boolean returnChunk(int mn, long c, long adoptedOwner, long[] words) {
        ChunkTableLayout t = table.layout(mn);
        int taken = 0;
        while (taken < words.length && table.cas(mn, t.blockWord(c, taken), words[taken], metaWord) == words[taken]) {
            taken++;
        }
        if (taken == words.length && table.cas(mn, t.ownerWord(c), adoptedOwner, ownedWord) == adoptedOwner) {
            table.writeWords(mn, t.blockWord(c, 0), words.length, 0);
            if (table.cas(mn, t.ownerWord(c), ownedWord, 0) == ownedWord) {
                chunksReturned++; // no candidate of this memory node is left (a scan runs on an empty list)
                return true;
            }
            throw new IllegalStateException("chunk " + c + " of memory node " + mn + " changed owner while this member"
                    + " owned it: the chunk table is corrupt");
        }
        for (int b = 0; b < taken; b++) { // a block was claimed meanwhile: the chunk stays adopted
            table.cas(mn, t.blockWord(c, b), metaWord, words[b]);
        }
        return false;
    }

    private static void swap(long[] a, int i, int j) {
        long t = a[i];
        a[i] = a[j];
        a[j] = t;
    }

    private void claimChunk(int mn) {
        ChunkTableLayout t = table.layout(mn);
        long[] owners = table.ownerWords(mn);
        for (long c = 0; c < owners.length; c++) {
            if (owners[(int) c] == 0 && table.cas(mn, t.ownerWord(c), 0, ownedWord) == 0) {
                chunk[mn] = c;
                nextBlock[mn] = 0;
                // a chunk may come back to the pool whole (a lapsed member's, or an adopted one once
                // empty) while others still hold pointers into its old life: after the claim, raise
                // the era, which its nodes carry as their born era, as a reused block's do
                chunkEra[mn] = table.verbs().faa(REUSE_ERA, 1) + 1;
                return;
            }
        }
        throw new IllegalStateException("memory node " + mn + " has no free chunk left (all " + owners.length
                + " chunks of " + t.chunkBytes() + " bytes are in use); give it a larger region");
    }
}
