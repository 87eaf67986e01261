package io.dmtree.cn.replica;

import io.dmtree.cn.DmIndex;
import io.dmtree.cn.DmTree;
import io.dmtree.cn.EmbeddedCluster;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.lock.baseline.CasSpinLock;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.local.LocalVerbs;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A memory node killed in the middle of a workload on replicated regions (in one JVM): the
 * operations in flight fail on it or straddle the failover and retry; afterwards no acknowledged
 * write is lost. The history proves it: every key has one writer thread, whose values for it only
 * grow, so each read must return at least the value last acknowledged before the read began, and
 * at the end every key must hold exactly its last acknowledged value. The tree checker passes and
 * the surviving replicas are byte-equal.
 */
class ReplicaFailoverTest {
    static final int KEYS = 3_000;
    static final int WRITERS_PER_CN = 2;

    @ParameterizedTest(name = "replicas {0}, kill the {1}")
    @CsvSource({"2, primary", "3, primary", "2, mirror", "3, mirror"})
    void noAcknowledgedWriteIsLostWhenAMemoryNodeDiesMidWorkload(int replicas, String victimRole) throws Exception {
        long seed = ReplicatingVerbsTest.seed("failover r=" + replicas + " " + victimRole);
        try (EmbeddedCluster cluster = DmTree.embedded().memoryNodes(2).computeNodes(2).replicas(replicas)
                .lock(CasSpinLock.NAME).regionBytes(64L << 20).chunkBytes(1L << 20).start()) {
            DmIndex loader = cluster.index(0);
            for (long k = 0; k < KEYS; k++) {
                loader.put(k, 0);
            }
            int lanes = 2 * WRITERS_PER_CN;
            AtomicLongArray acked = new AtomicLongArray(KEYS);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong opsAfterFailover = new AtomicLong();
            AtomicBoolean failedOver = new AtomicBoolean();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            List<Thread> threads = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (int lane = 0; lane < lanes; lane++) {
                int me = lane;
                DmIndex index = cluster.index(lane % 2);
                Random random = new Random(seed + lane);
                threads.add(new Thread(() -> {
                    long value = 0;
                    try {
                        while (!stop.get() && System.nanoTime() < deadline) {
                            int k = random.nextInt(KEYS / lanes) * lanes + me; // this lane's keys only
                            value++;
                            index.put(k, value);
                            acked.set(k, value);
                            if (failedOver.get()) {
                                opsAfterFailover.incrementAndGet();
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "writer-" + lane));
            }
            for (int cn = 0; cn < 2; cn++) {
                DmIndex index = cluster.index(cn);
                Random random = new Random(seed ^ (0x5151L + cn));
                threads.add(new Thread(() -> {
                    try {
                        while (!stop.get() && System.nanoTime() < deadline) {
                            int k = random.nextInt(KEYS);
                            long before = acked.get(k);
                            OptionalLong v = index.get(k);
                            assertTrue(v.isPresent(), "key " + k + " vanished");
                            assertTrue(v.getAsLong() >= before, "key " + k + " read " + v.getAsLong()
                                    + " after " + before + " was acknowledged");
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "reader-" + cn));
            }
            threads.forEach(Thread::start);
            Thread.sleep(300);
            ReplicaPlacement before = cluster.currentPlacement();
            int victim = victimRole.equals("primary") ? before.primary(0) : before.replica(0, replicas - 1);
            cluster.killMemoryNode(victim);
            Thread.sleep(100); // operations run into the dead node until membership notices
            ReplicaPlacement after = cluster.failOver(victim);
            failedOver.set(true);
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (opsAfterFailover.get() < 2_000 && System.nanoTime() < waitUntil && failures.isEmpty()) {
                Thread.sleep(20);
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(60));
                assertFalse(t.isAlive(), t.getName() + " did not stop");
            }
            assertTrue(failures.isEmpty(), "failures: " + failures);
            assertTrue(opsAfterFailover.get() > 0, "no write completed after the failover");
            assertEquals(2, after.epoch());
            assertEquals(replicas - 1, after.replicaCount(0));
            if (victimRole.equals("primary")) {
                assertEquals(before.replica(0, 1), after.primary(0), "the first mirror is promoted");
            } else {
                assertEquals(before.primary(0), after.primary(0), "the primary goes on");
            }
            for (int k = 0; k < KEYS; k++) {
                assertEquals(OptionalLong.of(acked.get(k)), cluster.index(k % 2).get(k), "key " + k);
            }
            TreeReport report = cluster.check();
            assertTrue(report.height() >= 2, report.toString());
            MemoryNodeConfig config = cluster.memoryNode(0).config();
            for (int region = 0; region < 2; region++) {
                MemoryNode primary = cluster.memoryNode(after.primary(region));
                long used = primary.chunks().allocated() * config.chunkBytes();
                for (int k = 1; k < after.replicaCount(region); k++) {
                    OffHeapRegion mirror = cluster.memoryNode(after.replica(region, k)).region();
                    assertEqual(primary.region(), mirror, config.chunkAreaOffset(), used, "region " + region + " replica " + k);
                    assertEqual(primary.region(), mirror, RegionLayout.SUPERBLOCK_OFFSET, RegionLayout.SUPERBLOCK_BYTES,
                            "superblock of region " + region);
                }
            }
        }
    }

    /** A verb of an older epoch reaching a replica whose gate was raised is never applied, on any replica. */
    @Test
    void aLateWriteOfTheDeposedEpochIsNeverApplied() {
        MemoryNodeConfig mnConfig = new MemoryNodeConfig(8L << 20, 1L << 20, 1L << 20);
        List<MemoryNode> nodes = List.of(new MemoryNode(0, mnConfig), new MemoryNode(1, mnConfig));
        try {
            ReplicaGate gate = new ReplicaGate(2);
            GatedVerbs gated = new GatedVerbs(LocalVerbs.counted(nodes), gate);
            ReplicatingVerbs v = new ReplicatingVerbs(gated, ReplicaPlacement.grouped(1, 2), RegionLayout.LOCK_TABLE_START,
                    mnConfig.lockTableBytes());
            gated.issuer(v);
            long a = GlobalAddress.of(0, mnConfig.chunkAreaOffset());
            UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
            word.putLong(0, 7);
            v.write(a, word, 0, 8);
            gate.raise(1, 2); // the mirror is being promoted in epoch 2; this compute node is still in epoch 1
            word.putLong(0, 8);
            StaleReplicaEpochException e = assertThrows(StaleReplicaEpochException.class, () -> v.write(a, word, 0, 8));
            assertEquals(1, e.issuedIn());
            assertEquals(7, nodes.get(1).region().getLongVolatile(mnConfig.chunkAreaOffset()), "the mirror refused it");
            assertEquals(7, nodes.get(0).region().getLongVolatile(mnConfig.chunkAreaOffset()),
                    "a batch is admitted whole or not at all: the old primary took nothing either");
            assertEquals(2, gated.totalCounts().writes(), "refused verbs count nothing");
            gate.kill(0);
            assertThrows(ReplicaDownException.class, () -> v.read(a, word, 0, 8));
            v.switchTo(ReplicaPlacement.grouped(1, 2).withoutReplica(0));
            v.read(a, word, 0, 8);
            assertEquals(7, word.getLong(0));
            long op = v.beginOperation();
            assertEquals(2, op);
            v.switchTo(ReplicaPlacement.parse("3;1"));
            assertThrows(StaleReplicaEpochException.class, () -> v.read(a, word, 0, 8),
                    "an operation begun in an older epoch issues nothing in the next");
            v.endOperation();
            v.read(a, word, 0, 8);
        } finally {
            nodes.forEach(MemoryNode::close);
        }
    }

    private static void assertEqual(OffHeapRegion a, OffHeapRegion b, long offset, long length, String what) {
        byte[] x = new byte[64 * 1024];
        byte[] y = new byte[64 * 1024];
        for (long at = offset; at < offset + length; at += x.length) {
            int n = (int) Math.min(x.length, offset + length - at);
            a.copyOut(at, x, org.agrona.BufferUtil.ARRAY_BASE_OFFSET, n);
            b.copyOut(at, y, org.agrona.BufferUtil.ARRAY_BASE_OFFSET, n);
            if (!java.util.Arrays.equals(x, 0, n, y, 0, n)) {
                fail(what + ": replicas differ in [0x" + Long.toHexString(at) + ", +" + n + ")");
            }
        }
    }
}
