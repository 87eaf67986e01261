package io.dmtree.cn;

import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.TreeReport;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Compute nodes that share a host with a memory node: {@code alock}'s local cohort takes the locks
 * of that memory node by CPU atomics on its region, beside remote compute nodes using verbs, on one
 * tree. Its lock traffic to its own memory node leaves the MN verb counters.
 */
class ColocatedComputeNodeTest {

    @Test
    void alockLocalAndRemoteCohortsKeepTheTreeExact() throws Exception {
        long seed = Seeds.seed("alockLocalAndRemoteCohortsKeepTheTreeExact");
        try (EmbeddedCluster cluster = DmTree.embedded().computeNodes(3).memoryNodes(1).colocated(true).lock("alock")
                .nodeBytes(256).regionBytes(128L << 20).chunkBytes(1L << 20).start()) {
            int keys = 500;
            int rounds = 20;
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                DmIndex index = cluster.index(t % 3);
                threads.add(new Thread(() -> {
                    try {
                        for (int r = 0; r < rounds; r++) {
                            for (long k = 0; k < keys; k++) {
                                long v = index.get(k).orElse(0);
                                index.put(k, v); // lock churn on every leaf, from local and remote cohorts
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (long k = 0; k < keys; k++) {
                cluster.index(1).put(k, k);
            }
            threads.forEach(Thread::start);
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("seed " + seed, failure.get());
            }
            for (long k = 0; k < keys; k++) {
                assertEquals(OptionalLong.of(k), cluster.index(2).get(k));
            }
            TreeReport report = cluster.check();
            assertTrue(report.ok(), report::toString);

            // one uncontended update from each side: the co-located node's lock needs no MN atomic
            VerbCounts localBefore = cluster.index(0).memoryNodeTraffic();
            cluster.index(0).put(7L, 7L);
            VerbCounts local = cluster.index(0).memoryNodeTraffic().minus(localBefore);
            VerbCounts remoteBefore = cluster.index(2).memoryNodeTraffic();
            cluster.index(2).put(7L, 7L);
            VerbCounts remote = cluster.index(2).memoryNodeTraffic().minus(remoteBefore);
            assertEquals(0, local.cas() + local.faa(), "co-located update: " + local);
            assertTrue(remote.cas() + remote.faa() > 0, "remote update: " + remote);
        }
    }
}
