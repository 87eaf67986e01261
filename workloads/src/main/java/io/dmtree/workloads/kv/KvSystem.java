package io.dmtree.workloads.kv;

/**
 * An ordered key-value store the YCSB runner drives: dmtree or a peer it is compared with. Sessions
 * are per thread; several may be open at once.
 */
public interface KvSystem extends AutoCloseable {
    /** Short name: "dmtree", "csl", "lmdb". */
    String name();

    /** One line on how the system is set up, printed under the results. */
    String setup();

    /** A session for worker {@code thread} (0-based), used only by the calling thread. */
    KvSession openSession(int thread);

    @Override
    void close();
}
