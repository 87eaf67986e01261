package io.dmtree.lock.modular;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The holder manager of one compute node's cohort on one lock: how many local threads hold it
 * and how many grants of the current tenure have been absorbed as holders (the grant count
 * synchronised from the mode manager when holders are added).
 *
 * <pre>
 *  63                             32 31            16 15             0
 * +---------------------------------+----------------+----------------+
 * |              zero               |    absorbed    |    holders     |
 * +---------------------------------+----------------+----------------+
 * </pre>
 */
final class CohortHolderManager {
    private static final long ONE_HOLDER = 1;
    private static final long ONE_ABSORBED = 1L << 16;
    private final AtomicLong word = new AtomicLong();

    /** A new tenure starts with {@code k} holders, all absorbed. */
    void reset(int k) {
        word.set(k | ((long) k << 16));
    }

    /** {@code k} granted requests become holders. */
    void add(int k) {
        word.getAndAdd(k * (ONE_HOLDER + ONE_ABSORBED));
    }

    /** Removes the caller when others still hold; false when the caller is the last holder. */
    boolean removeIfNotLast() {
        while (true) {
            long w = word.get();
            if (holders(w) <= 1) {
                return false;
            }
            if (word.compareAndSet(w, w - ONE_HOLDER)) {
                return true;
            }
        }
    }

    /**
     * Removes the caller in one atomic step: returns -1 when others still hold, else (the caller
     * was the last holder) the grant count absorbed so far.
     */
    int remove() {
        while (true) {
            long w = word.get();
            int h = holders(w);
            if (h < 1) {
                throw new IllegalStateException("cohort released with no holder recorded");
            }
            if (word.compareAndSet(w, w - ONE_HOLDER)) {
                return h > 1 ? -1 : absorbed(w);
            }
        }
    }

    int holders() {
        return holders(word.get());
    }

    static int holders(long w) {
        return (int) (w & 0xFFFF);
    }

    static int absorbed(long w) {
        return (int) ((w >>> 16) & 0xFFFF);
    }
}
