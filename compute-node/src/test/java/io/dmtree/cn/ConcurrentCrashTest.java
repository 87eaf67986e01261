package io.dmtree.cn;

import io.dmtree.cn.crash.LivenessBoundDesign;
import io.dmtree.core.lock.InProcessMemberLiveness;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockTable;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.CountingVerbs;
import io.dmtree.core.memory.CrashedException;
import io.dmtree.core.memory.CrashingVerbs;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.InJvmMessageBus;
import io.dmtree.core.tree.RepairReport;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.tree.TreeRecovery;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.lock.LockDesigns;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.local.LocalVerbs;
import io.dmtree.mn.local.LocalControlPlane;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Several writer threads of one compute node, stopped together at a seeded request: each thread's
 * redo slot may hold a write-back cut short or a split intent at once. Recovery must leave every
 * thread's acknowledged writes and at most its one write in flight, wholly. Each thread writes its
 * own keys (key mod threads), so per key the history is that thread's order.
 *
 * <p>With {@code cas-spin}: its waiters spin on remote CAS, so every thread of the stopped compute
 * node sees the crash at its next verb; designs whose waiters park for a local hand-over would
 * leave them parked once their holder's thread died, which is the lock recovery's concern, not
 * the tree's. The stopped compute node is reported departed once its verbs refuse, and its locks
 * are recovered by {@code cas-spin}'s own recovery through the rescuer's lock client.
 */
class ConcurrentCrashTest {
    private static final TreeConfig TREE = new TreeConfig(8, 8, 256, 1L << 20);
    /** Above the C allocator's mmap threshold ceiling (32 MiB), as in the crash-point sweep. */
    private static final MemoryNodeConfig MN = new MemoryNodeConfig(48L << 20, 64L << 10, 64L << 10);
    private static final int THREADS = 4;

    /** One thread's writes: what was acknowledged, and the one in flight when it stopped. */
    private static final class Writer {
        final Map<Long, Long> acked = new HashMap<>();
        long inFlightKey = -1;
        Long inFlightValue; // null: a delete
        boolean stopped;
        Throwable error;
    }

    @Test
    void writerThreadsStoppedTogetherAreRecovered() throws Exception {
        long seed = Seeds.seed("writerThreadsStoppedTogetherAreRecovered");
        Random rnd = new Random(seed);
        int rounds = (int) (40 * Seeds.scale());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos((long) (60 * Seeds.scale()));
        int crashedInFlight = 0;
        long replayed = 0;
        long holdsReleased = 0;
        for (int round = 0; round < rounds && System.nanoTime() < deadline; round++) {
            int mns = 1 + rnd.nextInt(2);
            long roundSeed = rnd.nextLong();
            crashedInFlight += round(mns, roundSeed, 1 + rnd.nextInt(1500));
            replayed += lastReplayed;
            holdsReleased += lastHoldsReleased;
        }
        System.out.println("concurrent crash: " + crashedInFlight + " writes in flight at crash points, " + replayed
                + " replayed, " + holdsReleased + " holds released by lock recovery");
        assertTrue(crashedInFlight > 0, "no round stopped a write in flight");
        assertTrue(holdsReleased > 0, "no round stopped a writer holding a lock");
    }

    private long lastReplayed;
    private long lastHoldsReleased;

    private int round(int mns, long seed, int crashPoint) throws Exception {
        List<MemoryNode> memoryNodes = new ArrayList<>();
        List<ComputeNode> live = new ArrayList<>();
        try {
            for (int i = 0; i < mns; i++) {
                memoryNodes.add(new MemoryNode(i, MN));
            }
            LocalControlPlane controlPlane = new LocalControlPlane(memoryNodes);
            InJvmMessageBus bus = new InJvmMessageBus();
            InProcessMemberLiveness liveness = new InProcessMemberLiveness(3);
            liveness.depart(1); // compute nodes 1 and 2 join later
            liveness.depart(2);
            LockDesign design = new LivenessBoundDesign(LockDesigns.byName("cas-spin"), liveness);
            CrashingVerbs crashing = new CrashingVerbs(new LocalVerbs(memoryNodes));
            ComputeNode crasher = new ComputeNode(0, 3, CountingVerbs.over(crashing), controlPlane, bus.join(), TREE,
                    design, THREADS + 1);
            Random rnd = new Random(seed);
            Writer[] writers = new Writer[THREADS];
            for (int t = 0; t < THREADS; t++) {
                writers[t] = new Writer();
            }
            for (int i = 0; i < 120; i++) { // acknowledged preload, split over the threads' key sets
                long key = rnd.nextInt(1 << 16);
                long value = rnd.nextLong();
                crasher.index().put(key, value);
                writers[(int) (key % THREADS)].acked.put(key, value);
            }
            crashing.crashAfter(crashPoint);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Writer w = writers[t];
                long threadSeed = rnd.nextLong();
                int me = t;
                Thread th = new Thread(() -> {
                    Random r = new Random(threadSeed);
                    try {
                        for (int i = 0; i < 400; i++) {
                            long key = (long) r.nextInt(1 << 14) * THREADS + me;
                            boolean delete = r.nextInt(5) == 0 && w.acked.containsKey(key);
                            w.inFlightKey = key;
                            w.inFlightValue = delete ? null : r.nextLong();
                            if (delete) {
                                crasher.index().delete(key);
                                w.acked.remove(key);
                            } else {
                                crasher.index().put(key, w.inFlightValue);
                                w.acked.put(key, w.inFlightValue);
                            }
                            w.inFlightKey = -1;
                        }
                    } catch (CrashedException e) {
                        w.stopped = true;
                    } catch (Throwable e) {
                        w.error = e;
                    }
                }, "writer-" + t);
                th.setDaemon(true);
                threads.add(th);
            }
            threads.forEach(Thread::start);
            for (Thread th : threads) {
                th.join(TimeUnit.SECONDS.toMillis(20));
                assertFalse(th.isAlive(), "a writer of the stopped compute node did not stop (seed " + seed + ")");
            }
            for (Writer w : writers) {
                if (w.error != null) {
                    throw new AssertionError("a writer failed before the crash (seed " + seed + ")", w.error);
                }
            }
            assertTrue(crashing.crashed(), "the compute node did not stop (seed " + seed + ")");
            crasher.messaging().close();
            liveness.depart(0); // fenced: its verbs refuse from the crash point on

            Verbs verbs = LocalVerbs.counted(memoryNodes);
            RepairReport report = TreeRecovery.recover(verbs, TREE, 0);
            lastReplayed = report.replayed();
            liveness.rejoin(1, 0);
            ComputeNode rescuer = new ComputeNode(1, 3, verbs, controlPlane, bus.join(), TREE, design, THREADS + 1);
            live.add(rescuer);
            LockTable table = new LockTable(controlPlane.lockTableOffset(), controlPlane.lockTableBytes(), design.lockBytes());
            RecoveryReport locks = design.recover(RecoveryContext.of(rescuer.lockClient(), table, mns), 0);
            lastHoldsReleased = locks.holdsReleased();
            TreeRecovery.completeSplits(rescuer.tree(), report);
            TreeReport check = rescuer.check();
            assertTrue(check.ok(), () -> "seed " + seed + ", crash point " + crashPoint + ": " + check);

            Map<Long, Long> found = new HashMap<>();
            for (DmIndex.LongEntry e : rescuer.index().scan(Long.MIN_VALUE, Integer.MAX_VALUE)) {
                found.put(e.key(), e.value());
            }
            int inFlight = 0;
            for (int t = 0; t < THREADS; t++) {
                Writer w = writers[t];
                Map<Long, Long> mine = new HashMap<>();
                for (Map.Entry<Long, Long> e : found.entrySet()) {
                    if (e.getKey() % THREADS == t) {
                        mine.put(e.getKey(), e.getValue());
                    }
                }
                Map<Long, Long> withInFlight = new HashMap<>(w.acked);
                if (w.inFlightKey >= 0) {
                    inFlight++;
                    if (w.inFlightValue == null) {
                        withInFlight.remove(w.inFlightKey);
                    } else {
                        withInFlight.put(w.inFlightKey, w.inFlightValue);
                    }
                }
                int thread = t;
                assertTrue(mine.equals(w.acked) || mine.equals(withInFlight), () -> "seed " + seed + ", crash point "
                        + crashPoint + ": thread " + thread + "'s keys are neither its acknowledged writes nor those plus its"
                        + " write in flight");
            }

            liveness.rejoin(2, 0);
            ComputeNode fresh = new ComputeNode(2, 3, LocalVerbs.counted(memoryNodes), controlPlane, bus.join(), TREE,
                    design, THREADS + 1);
            live.add(fresh);
            for (int i = 0; i < 200; i++) {
                fresh.index().put((1L << 20) + rnd.nextInt(64) * 1000L + i, i); // 200 distinct new keys
            }
            TreeReport after = fresh.check();
            assertTrue(after.ok(), () -> "seed " + seed + " after further operations: " + after);
            assertEquals(found.size() + 200, after.keys(), "seed " + seed);
            return inFlight;
        } finally {
            for (ComputeNode cn : live) {
                cn.close();
            }
            for (MemoryNode mn : memoryNodes) {
                mn.close();
            }
        }
    }
}
