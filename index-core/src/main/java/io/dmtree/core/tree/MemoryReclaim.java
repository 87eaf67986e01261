package io.dmtree.core.tree;

import io.dmtree.core.layout.ChunkTableLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.region.ChunkTable;

import java.util.Set;

/**
 * Returns a lapsed member's memory to the pool, run by a live member as the last step of that
 * member's recovery (after node repair, lock recovery and split completion, which cleared its redo
 * directory words): every block the chunk tables ({@link ChunkTableLayout}) record as held by the
 * lapsed member (its id, an epoch no later than the lapsed one) is either kept, because the tree
 * still uses it, or freed; then each chunk it owned is adopted (some block kept) or freed whole.
 *
 * <h2>Per block of the lapsed member (in its owned chunks, and in adopted chunks where it took
 * blocks from the pool)</h2>
 * <ul>
 *   <li>a node reached by a walk of the tree: kept (it stays recorded as the lapsed member's node,
 *   which is what "adopted by the tree" means for a block);</li>
 *   <li>any other node: decided under its lock by {@link BLinkTree#freeIfUnreachable}: a node
 *   that is the node of its level holding its low fence is kept (the walk missed it while the tree
 *   changed), a removed node is left to its remover (below), anything else (never written, torn,
 *   an orphan of a split or root growth that never linked) has its block word CAS'ed from the
 *   lapsed member's word to free;</li>
 *   <li>a removed node (anyone's block) whose header names the lapsed member as its remover: it
 *   stopped between writing the removal and freeing the block, so the block is freed here (reuse
 *   is safe at any time after the removal: {@link BLinkTree}'s born-era check);</li>
 *   <li>a metadata block (its redo block, no longer named by a directory word): CAS'ed to free;</li>
 *   <li>a reserve block of its owned chunk (never handed out): to free when the chunk is adopted.</li>
 * </ul>
 * Then an owned chunk with a kept block (or a block another member took from the pool) is adopted:
 * its reserve words are CAS'ed to free, then its owner word CAS'ed from the lapsed member's to
 * adopted. An owned chunk with nothing kept has each free word CAS'ed back to reserve (others
 * claim only free words, and a failed CAS means one was claimed meanwhile: the chunk is adopted
 * instead), then its owner word CAS'ed to free.
 *
 * <h2>Invariants</h2>
 * <ul>
 *   <li><b>No leak:</b> a lapsed member's block is never left held by it unless the tree reaches it
 *   or it is removed; every step is by CAS from a word that names the lapsed member, so a run cut
 *   short anywhere and run again (by this member or, after its own lapse, another) finishes the
 *   job, and finds done what was done.</li>
 *   <li><b>No double free:</b> a block is freed only by a CAS from the lapsed member's word, once;
 *   a block claimed by anybody else since carries another member's word and is not touched.</li>
 *   <li><b>No wild pointer:</b> a freed node was unreachable under its lock, and nothing can make
 *   it reachable later: the lapsed member is fenced and its pending separators were inserted or
 *   dropped before this step.</li>
 * </ul>
 * Cost: one walk of the tree (reads every node once), a READ of the tables, and a locked check per
 * candidate (only orphans and garbage of the crash are candidates).
 */
public final class MemoryReclaim {
    private MemoryReclaim() {
    }

    /** What one reclamation did. */
    public record Report(int member, long blocksFreed, long blocksKept, long chunksFreed, long chunksAdopted) {
        @Override
        public String toString() {
            return "memory of member " + member + ": " + blocksFreed + " blocks freed, " + blocksKept + " kept, "
                    + chunksFreed + " chunks freed, " + chunksAdopted + " adopted";
        }
    }

    /**
     * Reclaims the memory of member {@code member} at epochs up to {@code epoch} (every epoch when
     * the cluster has none, which is 0), through {@code tree} (a live member's).
     */
    public static Report reclaim(BLinkTree tree, int member, long epoch) {
        long upTo = epoch <= 0 ? ChunkTableLayout.EPOCH_MASK : epoch;
        ChunkTable table = ChunkTable.open(tree.verbs());
        int nodeBytes = tree.config().nodeBytes();
        Set<Long> reachable = new TreeWalk(tree.verbs(), tree.config()).liveNodes();
        long freed = 0;
        long kept = 0;
        long chunksFreed = 0;
        long chunksAdopted = 0;
        long freeWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_FREE, member, 0);
        NodeImage header = new NodeImage(tree.config().layout(), java.nio.ByteBuffer.allocate(nodeBytes));
        for (int m = 0; m < table.memoryNodes(); m++) {
            final int mn = m;
            ChunkTableLayout t = table.layout(mn);
            int blocks = (int) t.blocksPerChunk(nodeBytes);
            long[] owners = table.ownerWords(mn);
            for (long c = 0; c < owners.length; c++) {
                long owner = owners[(int) c];
                boolean owned = ChunkTableLayout.heldBy(owner, ChunkTableLayout.CHUNK_OWNED, member, upTo);
                int chunkState = ChunkTableLayout.state(owner);
                if (chunkState != ChunkTableLayout.CHUNK_OWNED && chunkState != ChunkTableLayout.CHUNK_ADOPTED) {
                    continue;
                }
                long[] words = table.blockWords(mn, c, blocks);
                boolean keep = false;
                boolean liveRun = false; // the member's value run being passed is named by a leaf
                for (int b = 0; b < blocks; b++) {
                    long w = words[b];
                    int state = ChunkTableLayout.state(w);
                    long wordAt = t.blockWord(c, b);
                    long address = GlobalAddress.plus(table.chunkAddress(mn, c), (long) b * nodeBytes);
                    if (state != ChunkTableLayout.BLOCK_VALUE_TAIL) {
                        liveRun = false;
                    }
                    if (ChunkTableLayout.heldBy(w, ChunkTableLayout.BLOCK_VALUE, member, upTo)) {
                        liveRun = valueNamed(tree, address);
                        if (liveRun) {
                            kept++;
                            keep = true;
                        } else if (table.cas(mn, wordAt, w, freeWord) == w) {
                            freed++;
                        }
                    } else if (ChunkTableLayout.heldBy(w, ChunkTableLayout.BLOCK_VALUE_TAIL, member, upTo)) {
                        if (liveRun) {
                            kept++;
                            keep = true;
                        } else if (table.cas(mn, wordAt, w, freeWord) == w) {
                            freed++; // its run is named by no leaf, or its head was freed already
                        }
                    } else if (ChunkTableLayout.heldBy(w, ChunkTableLayout.BLOCK_VALUE_SPARE, member, upTo)) {
                        if (table.cas(mn, wordAt, w, freeWord) == w) {
                            freed++; // kept for its own later values, which it will not write any more
                        }
                    } else if (ChunkTableLayout.heldBy(w, ChunkTableLayout.BLOCK_NODE, member, upTo)) {
                        if (reachable.contains(address)) {
                            kept++;
                            keep = true;
                        } else if (tree.freeIfUnreachable(address, () -> table.cas(mn, wordAt, w, freeWord) == w)) {
                            freed++;
                        } else if (removedBy(tree, header, address, member) && table.cas(mn, wordAt, w, freeWord) == w) {
                            freed++; // it removed the node itself and stopped before freeing it
                        } else {
                            kept++; // reachable after all, or removed by a live member, which frees it
                            keep = true;
                        }
                    } else if (ChunkTableLayout.heldBy(w, ChunkTableLayout.BLOCK_META, member, upTo)) {
                        if (table.cas(mn, wordAt, w, freeWord) == w) {
                            freed++;
                        }
                    } else if (state == ChunkTableLayout.BLOCK_NODE && !reachable.contains(address)
                            && removedBy(tree, header, address, member) && table.cas(mn, wordAt, w, freeWord) == w) {
                        freed++; // another member's node it removed and stopped before freeing
                    } else if (owned && state != ChunkTableLayout.BLOCK_RESERVE && state != ChunkTableLayout.BLOCK_FREE) {
                        keep = true; // a block another member took from the pool
                    }
                }
                if (!owned) {
                    continue;
                }
                if (!keep) {
                    // free it whole: reserve every word first (others claim only free words), then the owner word
                    long[] now = table.blockWords(mn, c, blocks);
                    for (int b = 0; b < blocks && !keep; b++) {
                        if (now[b] != 0 && (ChunkTableLayout.state(now[b]) != ChunkTableLayout.BLOCK_FREE
                                || table.cas(mn, t.blockWord(c, b), now[b], 0) != now[b])) {
                            keep = true; // claimed from the pool meanwhile
                        }
                    }
                    if (!keep) {
                        if (table.cas(mn, t.ownerWord(c), owner, 0) == owner) {
                            chunksFreed++;
                        }
                        continue;
                    }
                }
                long[] now = table.blockWords(mn, c, blocks);
                for (int b = 0; b < blocks; b++) {
                    if (now[b] == 0) {
                        table.cas(mn, t.blockWord(c, b), 0, freeWord);
                    }
                }
                if (table.cas(mn, t.ownerWord(c), owner,
                        ChunkTableLayout.word(ChunkTableLayout.CHUNK_ADOPTED, member, ChunkTableLayout.epoch(owner))) == owner) {
                    chunksAdopted++;
                }
            }
        }
        return new Report(member, freed, kept, chunksFreed, chunksAdopted);
    }

    /**
     * Whether a live leaf names the value block at {@code address}: asked, under the lock of the
     * leaf that holds the key the block records, of that leaf (a block whose header is not a value
     * block's was never named: its member died before writing it). The lapsed member is fenced
     * and its redo records were replayed, so no leaf can come to name it later.
     */
    private static boolean valueNamed(BLinkTree tree, long address) {
        if (!tree.config().variableValues()) {
            return false;
        }
        int keyBytes = tree.config().keyBytes();
        org.agrona.concurrent.UnsafeBuffer head = new org.agrona.concurrent.UnsafeBuffer(new byte[ValueLayout.BLOCK_KEY_OFFSET + keyBytes]);
        tree.verbs().read(address, head, 0, head.capacity());
        int len = head.getInt(ValueLayout.BLOCK_LENGTH_OFFSET);
        if (head.getInt(ValueLayout.BLOCK_MAGIC_OFFSET) != ValueLayout.BLOCK_MAGIC || len < 0 || len > ValueLayout.MAX_VALUE_BYTES) {
            return false;
        }
        byte[] key = new byte[keyBytes];
        head.getBytes(ValueLayout.BLOCK_KEY_OFFSET, key);
        boolean[] named = new boolean[1];
        tree.updateEntry(key, new EntryUpdate() {
            @Override
            public Decision decide(org.agrona.DirectBuffer current, int valueOffset) {
                named[0] = current != null && ValueLayout.outOfLine(current, valueOffset)
                        && ValueLayout.address(current, valueOffset) == address;
                return Decision.KEEP;
            }

            @Override
            public org.agrona.DirectBuffer value() {
                return null;
            }
        });
        return named[0];
    }

    /** Whether the block holds a (valid) removed node whose remover is {@code member}. */
    private static boolean removedBy(BLinkTree tree, NodeImage header, long address, int member) {
        tree.verbs().read(address, header.buffer(), 0, tree.config().nodeBytes());
        return header.checksumValid() && header.isRemoved() && header.removedBy() == member;
    }
}
