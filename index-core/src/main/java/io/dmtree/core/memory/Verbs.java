package io.dmtree.core.memory;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * One compute node's one-sided access to the memory nodes: the only way the tree and the locks
 * touch MN memory. Every carrier (local, shm, tcp, rdma) keeps these semantics:
 * <ul>
 *   <li>8-byte aligned {@link #cas} and {@link #faa} are atomic with each other;</li>
 *   <li>a {@link #read} wider than a cache line may be torn by a concurrent {@link #write}, its
 *   cache lines taking effect in any order: callers detect torn reads themselves;</li>
 *   <li>requests of one {@link VerbBatch} to one memory node are applied in order, in one round
 *   trip;</li>
 *   <li>a verb returns only after it took effect at the memory node.</li>
 * </ul>
 * Every call is thread-safe. Bad addresses (unknown node, out of the region, misaligned atomics)
 * raise {@link RemoteAccessException} before anything is written.
 *
 * <p>A carrier's own verbs count nothing; {@link CountingVerbs} over them keeps the counters that
 * benchmarks print, the same way for every carrier. {@link #close()} releases the carrier's
 * connections or mappings; verbs used after it fail.
 */
public interface Verbs extends AutoCloseable {
    void read(long address, MutableDirectBuffer dst, int dstOffset, int length);

    void write(long address, DirectBuffer src, int srcOffset, int length);

    /** Compare-and-swap on an aligned word; returns the word found (equal to expected on success). */
    long cas(long address, long expected, long desired);

    /** Fetch-and-add on an aligned word; returns the word before the add. */
    long faa(long address, long delta);

    /** Applies the batch in order; one round trip per memory node touched. */
    void post(VerbBatch batch);

    /** Number of memory nodes reachable, with ids {@code 0 .. n-1}. */
    int memoryNodeCount();

    /**
     * The live counters of this compute node's traffic to memory node {@code mn}; only verbs that
     * count (a {@link CountingVerbs}, or a decorator over one) have them.
     */
    default VerbCounters counters(int mn) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " counts nothing; wrap it in CountingVerbs");
    }

    /** Sum of the counters over all memory nodes. */
    default VerbCounts totalCounts() {
        VerbCounts sum = VerbCounts.ZERO;
        for (int mn = 0; mn < memoryNodeCount(); mn++) {
            sum = sum.plus(counters(mn).snapshot());
        }
        return sum;
    }

    /** Releases what the carrier holds for these verbs; by default nothing. */
    @Override
    default void close() {
    }
}
