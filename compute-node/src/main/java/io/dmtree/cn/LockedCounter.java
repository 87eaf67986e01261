package io.dmtree.cn;

import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.LockTable;
import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.VerbBatch;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A 64-bit counter in memory-node memory that is changed only under a lock of the compute node's
 * lock design: an increment acquires the lock exclusively, READs the word, and WRITEs the word
 * plus one in the release batch (the write is applied before the lock is free). The READ and the
 * WRITE are separate verbs, so two increments that overlap lose one of them: after {@code n}
 * increments from any number of threads and compute nodes the word is exactly {@code n} if and
 * only if the lock excluded every pair of holders. Used to check a lock design across processes
 * and hosts (grants of the {@code modular} lock cross them as CN messages).
 *
 * <p>The lock is the lock-table slot the table assigns to the word's address, on the word's
 * memory node, so every compute node of a cluster that knows the word's address uses the same lock.
 * An {@link Incrementer} belongs to one thread and allocates nothing per increment.
 */
public final class LockedCounter {
    private final ComputeNode node;
    private final long word;
    private final long lock;

    /** The counter at global address {@code word} (8-byte aligned, zero at first), through {@code node}. */
    public LockedCounter(ComputeNode node, ChunkSource chunks, long word) {
        if ((word & 7) != 0) {
            throw new IllegalArgumentException("the counter word must be 8-byte aligned: " + Long.toHexString(word));
        }
        this.node = node;
        this.word = word;
        this.lock = new LockTable(chunks.lockTableOffset(), chunks.lockTableBytes(), node.lockDesign().lockBytes())
                .lockFor(word);
    }

    /** A fresh zeroed word for a counter: the start of a new chunk on memory node {@code mn}. */
    public static long allocateWord(ChunkSource chunks, int mn) {
        return chunks.allocateChunk(mn);
    }

    /** The counter's global address (what other compute nodes need to share it). */
    public long word() {
        return word;
    }

    /** The lock guarding it. */
    public long lock() {
        return lock;
    }

    /** The counter's value now (exact once every increment has returned). */
    public long read() {
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        node.verbs().read(word, b, 0, 8);
        return b.getLong(0);
    }

    /** Increments for the calling thread; one per thread. */
    public Incrementer incrementer() {
        return new Incrementer();
    }

    /** One thread's increments, with its own scratch buffer and batch. */
    public final class Incrementer {
        private final UnsafeBuffer value = new UnsafeBuffer(new byte[8]);
        private final VerbBatch release = new VerbBatch();

        private Incrementer() {
        }

        /** Lock, read, release with the incremented value written in the release batch. */
        public void increment() {
            node.lockClient().acquire(lock, LockMode.EXCLUSIVE);
            node.verbs().read(word, value, 0, 8);
            value.putLong(0, value.getLong(0) + 1);
            release.clear();
            release.write(word, value, 0, 8);
            node.lockClient().release(lock, LockMode.EXCLUSIVE, release);
        }
    }
}
