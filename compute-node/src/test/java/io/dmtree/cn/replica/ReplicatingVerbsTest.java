package io.dmtree.cn.replica;

import io.dmtree.cn.DmIndex;
import io.dmtree.cn.DmTree;
import io.dmtree.cn.EmbeddedCluster;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.CountingVerbs;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.lock.baseline.CasSpinLock;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.local.LocalVerbs;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Synchronous mirroring on the local carrier: where each verb goes, what it costs, what mirrors hold. */
class ReplicatingVerbsTest {
    static final MemoryNodeConfig MN = new MemoryNodeConfig(8L << 20, 1L << 20, 1L << 20);
    final List<MemoryNode> nodes = new ArrayList<>();

    @AfterEach
    void close() {
        nodes.forEach(MemoryNode::close);
    }

    private ReplicatingVerbs replicated(int regions, int replicas) {
        for (int i = 0; i < regions * replicas; i++) {
            nodes.add(new MemoryNode(i, MN));
        }
        return new ReplicatingVerbs(LocalVerbs.counted(nodes), ReplicaPlacement.grouped(regions, replicas),
                RegionLayout.LOCK_TABLE_START, MN.lockTableBytes());
    }

    private long chunk(int region) {
        return GlobalAddress.of(region, MN.chunkAreaOffset());
    }

    private long lockWord(int region) {
        return GlobalAddress.of(region, RegionLayout.LOCK_TABLE_START + 64);
    }

    private VerbCounts traffic(ReplicatingVerbs v, int mn) {
        return v.replicaVerbs().counters(mn).snapshot();
    }

    @ParameterizedTest(name = "replicas {0}")
    @ValueSource(ints = {2, 3})
    void aWriteReachesEveryReplicaInOneRoundAndAReadOnlyThePrimary(int r) {
        ReplicatingVerbs v = replicated(2, r);
        UnsafeBuffer src = new UnsafeBuffer(new byte[256]);
        for (int i = 0; i < 256; i++) {
            src.putByte(i, (byte) (i * 7 + 1));
        }
        long a = chunk(1) + 512;
        v.write(a, src, 0, 256);
        assertEquals(1, v.rounds(), "the copies go out together");
        for (int k = 0; k < r; k++) {
            int mn = v.placement().replica(1, k);
            byte[] got = new byte[256];
            nodes.get(mn).region().copyOut(GlobalAddress.offset(a), got, org.agrona.BufferUtil.ARRAY_BASE_OFFSET, 256);
            assertArrayEquals(src.byteArray(), got, "replica " + k + " (memory node " + mn + ")");
            assertEquals(1, traffic(v, mn).writes());
            assertEquals(256, traffic(v, mn).writeBytes());
        }
        for (int mn = 0; mn < r; mn++) {
            assertEquals(0, traffic(v, mn).verbs(), "region 0's replicas saw nothing");
        }
        UnsafeBuffer dst = new UnsafeBuffer(new byte[256]);
        v.read(a, dst, 0, 256);
        assertArrayEquals(src.byteArray(), dst.byteArray());
        assertEquals(1, traffic(v, v.placement().primary(1)).reads());
        for (int k = 1; k < r; k++) {
            assertEquals(0, traffic(v, v.placement().replica(1, k)).reads(), "mirrors serve no read");
        }
    }

    @Test
    void lockTableAtomicsAndWritesStayOnThePrimary() {
        ReplicatingVerbs v = replicated(1, 3);
        long w = lockWord(0);
        assertEquals(0, v.faa(w, 5));
        assertEquals(5, v.cas(w, 5, 9));
        UnsafeBuffer one = new UnsafeBuffer(new byte[8]);
        one.putLong(0, 77);
        v.write(GlobalAddress.plus(w, 8), one, 0, 8);
        assertEquals(9, nodes.get(0).region().getLongVolatile(GlobalAddress.offset(w)));
        assertEquals(77, nodes.get(0).region().getLongVolatile(GlobalAddress.offset(w) + 8));
        for (int mn = 1; mn < 3; mn++) {
            assertEquals(0, nodes.get(mn).region().getLongVolatile(GlobalAddress.offset(w)), "mirror " + mn);
            assertEquals(0, nodes.get(mn).region().getLongVolatile(GlobalAddress.offset(w) + 8), "mirror " + mn);
            assertEquals(0, traffic(v, mn).verbs());
        }
        assertEquals(3, v.rounds());
    }

    @Test
    void aRootPointerChangeReachesTheMirrorsAndAFailedCasChangesNothing() {
        ReplicatingVerbs v = replicated(1, 2);
        long root = GlobalAddress.of(0, RegionLayout.ROOT_POINTER_OFFSET);
        assertEquals(0, v.cas(root, 0, chunk(0)));
        assertEquals(chunk(0), nodes.get(1).region().getLongVolatile(RegionLayout.ROOT_POINTER_OFFSET));
        assertEquals(chunk(0), v.cas(root, 0, 12345));
        assertEquals(chunk(0), nodes.get(1).region().getLongVolatile(RegionLayout.ROOT_POINTER_OFFSET));
        assertEquals(chunk(0), v.faa(root, 0), "an atomic read");
        assertEquals(1, traffic(v, 1).cas(), "only the successful change was mirrored");
        assertEquals(0, traffic(v, 1).faa());
    }

    /**
     * Concurrent changes of one header word from several threads (a chain of CASes, each from the
     * value the last one left, as a growing root does): their mirror CASes race and overtake each
     * other, and the mirror must still end at the primary's last value.
     */
    @Test
    void concurrentHeaderChangesLeaveTheMirrorsAtThePrimarysValue() throws Exception {
        long seed = seed("concurrentHeaderChanges");
        ReplicatingVerbs v = replicated(1, 3);
        long word = GlobalAddress.of(0, RegionLayout.INDEX_STATE_OFFSET + 8);
        int threads = 4;
        int perThread = 2_000;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<Thread> ts = new ArrayList<>();
        ConcurrentHashMap<Long, Boolean> taken = new ConcurrentHashMap<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < threads; t++) {
            Random random = new Random(seed + t);
            ts.add(new Thread(() -> {
                try {
                    for (int i = 0; i < perThread && System.nanoTime() < deadline; ) {
                        long cur = v.faa(word, 0);
                        long next = cur + 1 + random.nextInt(3); // values grow: they never recur
                        if (v.cas(word, cur, next) == cur) {
                            assertNull(taken.put(next, true));
                            i++;
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        ts.forEach(Thread::start);
        for (Thread t : ts) {
            t.join(TimeUnit.SECONDS.toMillis(60));
            assertFalse(t.isAlive());
        }
        assertTrue(failures.isEmpty(), failures.toString());
        long primary = nodes.get(0).region().getLongVolatile(GlobalAddress.offset(word));
        assertTrue(primary > 0);
        for (int mn = 1; mn < 3; mn++) {
            assertEquals(primary, nodes.get(mn).region().getLongVolatile(GlobalAddress.offset(word)), "mirror " + mn);
        }
    }

    @Test
    void aBatchReleasesItsLockOnlyAfterEveryReplicaHasItsWrites() {
        List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int i = 0; i < 2; i++) {
            nodes.add(new MemoryNode(i, MN));
        }
        Verbs recording = new Recording(LocalVerbs.counted(nodes), order);
        ReplicatingVerbs v = new ReplicatingVerbs(recording, ReplicaPlacement.grouped(1, 2),
                RegionLayout.LOCK_TABLE_START, MN.lockTableBytes());
        v.faa(lockWord(0), 1);
        order.clear();
        UnsafeBuffer node = new UnsafeBuffer(new byte[64]);
        node.putLong(0, 99);
        VerbBatch b = new VerbBatch().write(chunk(0), node, 0, 64).faa(lockWord(0), -1).read(chunk(0), new UnsafeBuffer(new byte[8]), 0, 8);
        v.post(b);
        assertEquals(List.of("post[mn1:WRITE, mn0:WRITE]", "post[mn0:FAA, mn0:READ]"), order);
        assertEquals(1, b.result(1), "the FAA's result is the primary's word");
        assertEquals(0, nodes.get(0).region().getLongVolatile(GlobalAddress.offset(lockWord(0))));
        assertEquals(99, nodes.get(1).region().getLongVolatile(GlobalAddress.offset(chunk(0))));
        order.clear();
        v.post(new VerbBatch().faa(lockWord(0), 1).read(chunk(0), new UnsafeBuffer(new byte[8]), 0, 8));
        assertEquals(List.of("post[mn0:FAA, mn0:READ]"), order, "a batch without mirrored writes is one round");
    }

    @Test
    void aReplyThatStraddlesAFailoverIsRefused() {
        for (int i = 0; i < 2; i++) {
            nodes.add(new MemoryNode(i, MN));
        }
        ReplicatingVerbs[] self = new ReplicatingVerbs[1];
        Verbs failingOver = new Recording(LocalVerbs.counted(nodes), new ArrayList<>()) {
            @Override
            public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
                super.read(address, dst, dstOffset, length);
                self[0].switchTo(self[0].placement().withoutReplica(0)); // the primary is deposed meanwhile
            }
        };
        self[0] = new ReplicatingVerbs(failingOver, ReplicaPlacement.grouped(1, 2), RegionLayout.LOCK_TABLE_START,
                MN.lockTableBytes());
        StaleReplicaEpochException e = assertThrows(StaleReplicaEpochException.class,
                () -> self[0].read(chunk(0), new UnsafeBuffer(new byte[8]), 0, 8));
        assertEquals(1, e.issuedIn());
        assertEquals(2, e.current());
        assertEquals(1, self[0].placement().primary(0), "the mirror is the primary now");
        assertThrows(IllegalArgumentException.class, () -> self[0].switchTo(ReplicaPlacement.grouped(1, 2)),
                "an older placement is refused");
    }

    @Test
    void placementsRoundTripAndRefuseBadInput() {
        ReplicaPlacement p = ReplicaPlacement.grouped(2, 3);
        assertEquals("1;0,1,2;3,4,5", p.toConfigValue());
        ReplicaPlacement q = ReplicaPlacement.parse(p.withoutReplica(3).toConfigValue());
        assertEquals("2;0,1,2;4,5", q.toConfigValue());
        assertEquals(4, q.primary(1));
        assertThrows(IllegalArgumentException.class, () -> ReplicaPlacement.grouped(1, 4));
        assertThrows(IllegalArgumentException.class, () -> ReplicaPlacement.parse("1;0,1;1,2"));
        assertThrows(IllegalArgumentException.class, () -> ReplicaPlacement.parse("x;0"));
        assertThrows(IllegalStateException.class, () -> ReplicaPlacement.grouped(1, 2).withoutReplica(0).withoutReplica(1));
        assertThrows(IllegalArgumentException.class, () -> DmTree.embedded().replicas(0));
    }

    /**
     * The index on replicated regions under a concurrent seeded workload: afterwards every mirror's
     * chunk area and index superblock equal its primary's byte for byte, the tree checks, every
     * key reads back.
     */
    @ParameterizedTest(name = "replicas {0}")
    @ValueSource(ints = {2, 3})
    void mirrorsEqualTheirPrimaryAfterAConcurrentWorkload(int r) throws Exception {
        long seed = seed("mirrorsEqualTheirPrimary r=" + r);
        try (EmbeddedCluster cluster = DmTree.embedded().memoryNodes(2).computeNodes(2).replicas(r)
                .regionBytes(64L << 20).chunkBytes(1L << 20).start()) {
            assertEquals(2 * r, cluster.memoryNodeProcesses());
            int threads = 2;
            long keys = 4_000;
            ConcurrentHashMap<Long, Long> last = new ConcurrentHashMap<>();
            List<Thread> ts = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (int cn = 0; cn < 2; cn++) {
                for (int t = 0; t < threads; t++) {
                    DmIndex index = cluster.index(cn);
                    int lane = cn * threads + t;
                    Random random = new Random(seed + lane);
                    ts.add(new Thread(() -> {
                        try {
                            for (int i = 0; i < 6_000 && System.nanoTime() < deadline; i++) {
                                long k = (random.nextInt((int) (keys / 4)) * 4L) + lane; // each lane owns its keys
                                long value = random.nextLong() & Long.MAX_VALUE;
                                index.put(k, value);
                                last.put(k, value);
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }));
                }
            }
            ts.forEach(Thread::start);
            for (Thread t : ts) {
                t.join(TimeUnit.SECONDS.toMillis(120));
                assertFalse(t.isAlive());
            }
            assertTrue(failures.isEmpty(), failures.toString());
            TreeReport report = cluster.check();
            assertTrue(report.height() >= 2, "the workload split nodes: " + report);
            for (var e : last.entrySet()) {
                assertEquals(java.util.OptionalLong.of(e.getValue()), cluster.index(1).get(e.getKey()), "key " + e.getKey());
            }
            MemoryNodeConfig config = cluster.memoryNode(0).config();
            for (int region = 0; region < 2; region++) {
                OffHeapRegion primary = cluster.memoryNode(cluster.placement().primary(region)).region();
                long used = config.chunkAreaOffset()
                        + cluster.memoryNode(cluster.placement().primary(region)).chunks().allocated() * config.chunkBytes();
                for (int k = 1; k < r; k++) {
                    OffHeapRegion mirror = cluster.memoryNode(cluster.placement().replica(region, k)).region();
                    assertRangeEqual(primary, mirror, RegionLayout.SUPERBLOCK_OFFSET, RegionLayout.SUPERBLOCK_BYTES,
                            "superblock of region " + region + " replica " + k);
                    assertRangeEqual(primary, mirror, config.chunkAreaOffset(), used - config.chunkAreaOffset(),
                            "chunk area of region " + region + " replica " + k);
                }
            }
        }
    }

    /**
     * Exact cost: an uncontended update of a warm key costs the same sequential rounds for 2 and 3
     * replicas (the copies go out together), one more than unreplicated (the release waits for the
     * mirrors' writes); each mirror sees one round trip and only the write-back's writes.
     */
    @Test
    void anUpdateCostsTheSameRoundsForTwoAndThreeReplicas() {
        long[] rounds = new long[4];
        for (int r = 1; r <= 3; r++) {
            try (EmbeddedCluster cluster = DmTree.embedded().lock(CasSpinLock.NAME).replicas(r).regionBytes(64L << 20)
                    .chunkBytes(1L << 20).start()) {
                DmIndex index = cluster.index(0);
                for (long k = 0; k < 5_000; k++) {
                    index.put(k * 7, k);
                }
                index.get(7 * 1234);
                Verbs verbs = cluster.computeNode(0).verbs();
                cluster.resetCounters();
                index.put(7 * 1234, 42L);
                VerbCounts primary = verbs.counters(0).snapshot();
                if (r == 1) {
                    rounds[r] = primary.roundTrips();
                    assertEquals(3, rounds[r]);
                    continue;
                }
                ReplicatingVerbs mirroring = (ReplicatingVerbs) verbs;
                rounds[r] = mirroring.rounds();
                assertEquals(rounds[r], primary.roundTrips(), "every round touches the primary");
                assertEquals(1, primary.cas());
                assertEquals(1, primary.reads());
                for (int k = 1; k < r; k++) {
                    VerbCounts m = mirroring.replicaVerbs().counters(cluster.placement().replica(0, k)).snapshot();
                    assertEquals(1, m.roundTrips(), "mirror " + k + ": " + m);
                    assertEquals(0, m.reads() + m.cas() + m.faa(), "mirror " + k + ": " + m);
                    assertEquals(primary.writes() - 1, m.writes(), "every write but the lock word's: " + m);
                }
                assertEquals(java.util.OptionalLong.of(42L), cluster.index(0).get(7 * 1234));
            }
        }
        assertEquals(rounds[2], rounds[3], "mirrors in parallel, not in sequence");
        assertEquals(rounds[1] + 1, rounds[2], "the release waits one round for the mirrors");
    }

    private static void assertRangeEqual(OffHeapRegion a, OffHeapRegion b, long offset, long length, String what) {
        byte[] x = new byte[64 * 1024];
        byte[] y = new byte[64 * 1024];
        for (long at = offset; at < offset + length; at += x.length) {
            int n = (int) Math.min(x.length, offset + length - at);
            a.copyOut(at, x, org.agrona.BufferUtil.ARRAY_BASE_OFFSET, n);
            b.copyOut(at, y, org.agrona.BufferUtil.ARRAY_BASE_OFFSET, n);
            for (int i = 0; i < n; i++) {
                if (x[i] != y[i]) {
                    fail(what + ": differs at offset 0x" + Long.toHexString(at + i));
                }
            }
        }
    }

    static long seed(String test) {
        String fixed = System.getProperty("dmtree.seed");
        long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        System.out.println(test + " seed=" + seed + " (replay with -Ddmtree.seed=" + seed + ")");
        return seed;
    }

    /** Verbs that log each post's requests as {@code mnN:KIND}. */
    static class Recording implements Verbs {
        final Verbs inner;
        final List<String> log;

        Recording(Verbs inner, List<String> log) {
            this.inner = inner;
            this.log = log;
        }

        @Override
        public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
            inner.read(address, dst, dstOffset, length);
        }

        @Override
        public void write(long address, DirectBuffer src, int srcOffset, int length) {
            inner.write(address, src, srcOffset, length);
        }

        @Override
        public long cas(long address, long expected, long desired) {
            return inner.cas(address, expected, desired);
        }

        @Override
        public long faa(long address, long delta) {
            return inner.faa(address, delta);
        }

        @Override
        public void post(VerbBatch batch) {
            List<String> requests = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                requests.add("mn" + GlobalAddress.memoryNode(batch.address(i)) + ":" + batch.kind(i));
            }
            log.add("post" + requests);
            inner.post(batch);
        }

        @Override
        public int memoryNodeCount() {
            return inner.memoryNodeCount();
        }

        @Override
        public io.dmtree.core.memory.VerbCounters counters(int mn) {
            return inner.counters(mn);
        }
    }
}
