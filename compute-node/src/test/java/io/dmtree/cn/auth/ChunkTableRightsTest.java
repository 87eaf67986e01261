package io.dmtree.cn.auth;

import io.dmtree.cn.carrier.tcp.TcpVerbs;
import io.dmtree.cn.carrier.tcp.TcpVerbsConfig;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.cn.control.RemoteComputeNode;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.cn.DmIndex;
import io.dmtree.core.layout.ChunkTableLayout;
import io.dmtree.core.memory.AccessDeniedException;
import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.region.ChunkTable;
import io.dmtree.core.tree.NodeAllocator;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.tcp.TcpCarrierServer;
import io.dmtree.mn.control.Coordination;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chunk table's per-owner rules on a tcp memory node ({@link io.dmtree.mn.carrier.ChunkTableRights}):
 * a member with leased rights that tries to steal, free or adopt another live member's chunk, to
 * record a block in it, to free its redo block, to write an owner word or add to a table word is
 * refused with an {@link AccessDeniedException} naming the address and the word, and nothing
 * changes; its connection goes on working. The legal transitions (a claim, a recorded node and
 * redo block, a node freed and claimed again from the pool, the reclamation of a fenced member's
 * chunk and redo block) go through; with {@code tcp.chunk-owners=off} a steal lands (the switch
 * switches). Beside a hostile member of a real cluster (secret, membership, leases), two compute
 * nodes' tree workload finishes with the tree checker ok and 0 leaked bytes, also after one of
 * them left cleanly and gave its memory back. Seeded ({@code dmtree.seed}), bounded in count and time.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ChunkTableRightsTest {
    private static final MemoryNodeConfig REGION = new MemoryNodeConfig(8L << 20, 64L << 10, 64L << 10);
    private static final int NODE_BYTES = 256;
    private static final long EPOCH = 5;

    @TempDir
    Path dir;

    private static long seed(String test) {
        String fixed = System.getProperty("dmtree.seed");
        long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime() * 0x9E3779B97F4A7C15L;
        System.out.println(test + " seed=" + seed + " (replay with -Ddmtree.seed=" + seed + ")");
        return seed;
    }

    private static AccessDeniedException denied(String what, Runnable verb) {
        AccessDeniedException e = assertThrows(AccessDeniedException.class, verb::run, what);
        assertTrue(e.getMessage().contains("chunk table"), e.getMessage());
        return e;
    }

    /** The chunk geometry of the memory nodes, for an allocator (it asks no chunk of the control plane). */
    private static ChunkSource geometry(long chunkBytes) {
        return new ChunkSource() {
            @Override
            public long allocateChunk(int mn) {
                throw new UnsupportedOperationException("chunks come from the chunk table");
            }

            @Override
            public long chunkBytes() {
                return chunkBytes;
            }

            @Override
            public long lockTableOffset() {
                return io.dmtree.core.layout.RegionLayout.LOCK_TABLE_START;
            }

            @Override
            public long lockTableBytes() {
                return REGION.lockTableBytes();
            }
        };
    }

    private static long word(Verbs v, long address) {
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        v.read(address, b, 0, 8);
        return b.getLong(0);
    }

    @Test
    void everyOwnerRuleRefusesAHostileMemberAndLetsTheLegalTransitionsThrough() throws Exception {
        Random rnd = new Random(seed("everyOwnerRuleRefusesAHostileMemberAndLetsTheLegalTransitionsThrough"));
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        MemoryNodeOptions o = MemoryNodeOptions.of(0, loopback, REGION, "tcp", dir.resolve("mn"))
                .withCoordination(Coordination.embedded(loopback, Duration.ofSeconds(30))); // it learns fences
        try (MemoryNodeServer mn = MemoryNodeServer.start(o);
             TcpVerbs victim = TcpVerbs.connect(List.of(mn.address()), TcpVerbsConfig.defaults(), 4, EPOCH);
             TcpVerbs hostile = TcpVerbs.connect(List.of(mn.address()), TcpVerbsConfig.defaults(), 3, EPOCH);
             TcpVerbs lapsing = TcpVerbs.connect(List.of(mn.address()), TcpVerbsConfig.defaults(), 6, EPOCH)) {
            ChunkSource chunks = geometry(REGION.chunkBytes());
            NodeAllocator victimAlloc = new NodeAllocator(chunks, victim, NODE_BYTES, 0, 4, EPOCH);
            // legal: a claim, recorded nodes, a recorded (zeroed) redo block
            long node = victimAlloc.allocate();
            long node2 = victimAlloc.allocate();
            long meta = victimAlloc.allocateBlock(0, 1024);
            ChunkTable table = ChunkTable.open(hostile);
            ChunkTableLayout t = table.layout(0);
            long c = t.chunkOf(GlobalAddress.offset(node));
            long owned = ChunkTableLayout.word(ChunkTableLayout.CHUNK_OWNED, 4, EPOCH);
            assertEquals(owned, word(hostile, GlobalAddress.of(0, t.ownerWord(c))), "the victim's claim");
            long nodeBlock = (GlobalAddress.offset(node) - t.chunkOffset(c)) / NODE_BYTES;
            long metaBlock = (GlobalAddress.offset(meta) - t.chunkOffset(c)) / NODE_BYTES;
            long reserveBlock = metaBlock + 1024 / NODE_BYTES;
            long hostileOwned = ChunkTableLayout.word(ChunkTableLayout.CHUNK_OWNED, 3, EPOCH);
            long hostileNode = ChunkTableLayout.word(ChunkTableLayout.BLOCK_NODE, 3, EPOCH);
            long hostileFree = ChunkTableLayout.word(ChunkTableLayout.BLOCK_FREE, 3, 0);
            long ownerAt = t.ownerWord(c);

            // steal the victim's chunk, free it, adopt it (reclaim from a live member)
            AccessDeniedException e = denied("steal", () -> table.cas(0, ownerAt, owned, hostileOwned));
            assertTrue(e.getMessage().contains("ATOMIC") && e.getMessage().contains("0x"
                    + Long.toHexString(GlobalAddress.of(0, ownerAt))) && e.getMessage().contains("owner word of chunk " + c)
                    && e.getMessage().contains("owned (member 4, epoch 5)"), e.getMessage());
            denied("free another's chunk", () -> table.cas(0, ownerAt, owned, 0));
            denied("adopt another's live chunk", () -> table.cas(0, ownerAt, owned,
                    ChunkTableLayout.word(ChunkTableLayout.CHUNK_ADOPTED, 4, EPOCH)));
            UnsafeBuffer b = new UnsafeBuffer(new byte[16]);
            b.putLong(0, hostileOwned);
            denied("write an owner word", () -> hostile.write(GlobalAddress.of(0, ownerAt), b, 0, 8));
            denied("add to an owner word", () -> hostile.faa(GlobalAddress.of(0, ownerAt), 1));
            assertEquals(owned, hostile.faa(GlobalAddress.of(0, ownerAt), 0), "an FAA of 0 is a read");
            // a free chunk: claimed only with the claimer's own tag at its own epoch
            long freeChunk = c + 1 + rnd.nextInt(4);
            long freeAt = t.ownerWord(freeChunk);
            denied("claim in another's name", () -> table.cas(0, freeAt, 0, owned));
            denied("claim at another epoch", () -> table.cas(0, freeAt, 0,
                    ChunkTableLayout.word(ChunkTableLayout.CHUNK_OWNED, 3, EPOCH + 1)));
            // mark a block in the victim's chunk: its reserve by WRITE or CAS, its redo block, its node's word by WRITE
            b.putLong(0, hostileNode);
            e = denied("record a block in another's chunk", () -> hostile.write(GlobalAddress.of(0, t.blockWord(c, reserveBlock)),
                    b, 0, 8));
            assertTrue(e.getMessage().contains("WRITE") && e.getMessage().contains("only the chunk's owner"), e.getMessage());
            denied("record by CAS", () -> table.cas(0, t.blockWord(c, reserveBlock), 0, hostileNode));
            denied("free another's reserve", () -> table.cas(0, t.blockWord(c, reserveBlock), 0, hostileFree));
            long victimMeta = ChunkTableLayout.word(ChunkTableLayout.BLOCK_META, 4, EPOCH);
            e = denied("free a live member's redo block", () -> table.cas(0, t.blockWord(c, metaBlock), victimMeta, hostileFree));
            assertTrue(e.getMessage().contains("live member"), e.getMessage());
            denied("add to a block word", () -> hostile.faa(GlobalAddress.of(0, t.blockWord(c, nodeBlock)), 1));
            denied("write the table's padding", () -> hostile.write(GlobalAddress.of(0, t.ownerWord(t.chunkCount())), b, 0, 8));
            // the owner itself writes only reserve words, and only its own tag
            b.putLong(0, ChunkTableLayout.word(ChunkTableLayout.BLOCK_NODE, 4, EPOCH));
            denied("overwrite a recorded word", () -> victim.write(GlobalAddress.of(0, t.blockWord(c, nodeBlock)), b, 0, 8));
            b.putLong(0, hostileNode);
            denied("record another's tag", () -> victim.write(GlobalAddress.of(0, t.blockWord(c, reserveBlock)), b, 0, 8));
            assertEquals(owned, word(victim, GlobalAddress.of(0, ownerAt)), "a refused verb changed the owner word");
            assertEquals(0, word(victim, GlobalAddress.of(0, t.blockWord(c, reserveBlock))), "a refused verb recorded a block");
            assertEquals(victimMeta, word(victim, GlobalAddress.of(0, t.blockWord(c, metaBlock))));

            // the hostile member's connection goes on: its own allocation works, random illegal verbs interleaved
            NodeAllocator hostileAlloc = new NodeAllocator(chunks, hostile, NODE_BYTES, 0, 3, EPOCH);
            for (int i = 0; i < 200; i++) {
                if (rnd.nextBoolean()) {
                    denied("steal, round " + i, () -> table.cas(0, ownerAt, owned, hostileOwned));
                } else {
                    long mine = hostileAlloc.allocate();
                    assertNotEquals(c, t.chunkOf(GlobalAddress.offset(mine)), "an allocation landed in the victim's chunk");
                }
            }
            // legal: a removed node is freed by whoever removed it, and claimed again from the pool
            assertTrue(hostileAlloc.free(node2), "freeing a node through the allocator");
            NodeAllocator reuser = new NodeAllocator(chunks, lapsing, NODE_BYTES, 0, 6, EPOCH);
            long reused = reuser.allocate();
            assertEquals(node2, reused, "the freed node is claimed from the pool");
            assertEquals(1, reuser.reused());
            long lapsingMeta = reuser.allocateBlock(0, 512);
            long lc = t.chunkOf(GlobalAddress.offset(lapsingMeta));
            long lapsingOwned = ChunkTableLayout.word(ChunkTableLayout.CHUNK_OWNED, 6, EPOCH);
            assertEquals(lapsingOwned, word(hostile, GlobalAddress.of(0, t.ownerWord(lc))));
            long lMetaBlock = (GlobalAddress.offset(lapsingMeta) - t.chunkOffset(lc)) / NODE_BYTES;
            long lReserve = lMetaBlock + 2;
            long lMeta = ChunkTableLayout.word(ChunkTableLayout.BLOCK_META, 6, EPOCH);
            denied("reclaim from a live member", () -> table.cas(0, t.blockWord(lc, lReserve), 0, hostileFree));

            // member 6 lapses: once fenced, a live member reclaims its redo block and adopts its chunk
            mn.fence(6, EPOCH);
            assertEquals(lMeta, table.cas(0, t.blockWord(lc, lMetaBlock), lMeta, hostileFree));
            assertEquals(0, table.cas(0, t.blockWord(lc, lReserve), 0, hostileFree));
            assertEquals(hostileFree, table.cas(0, t.blockWord(lc, lReserve), hostileFree, 0), "free back to reserve");
            assertEquals(0, table.cas(0, t.blockWord(lc, lReserve), 0, hostileFree));
            long adopted = ChunkTableLayout.word(ChunkTableLayout.CHUNK_ADOPTED, 6, EPOCH);
            denied("adopt under another tag", () -> table.cas(0, t.ownerWord(lc), lapsingOwned,
                    ChunkTableLayout.word(ChunkTableLayout.CHUNK_ADOPTED, 4, EPOCH)));
            assertEquals(lapsingOwned, table.cas(0, t.ownerWord(lc), lapsingOwned, adopted));
            assertEquals(adopted, word(hostile, GlobalAddress.of(0, t.ownerWord(lc))));
            // and the victim still frees its own chunk's words and its chunk (a clean leave)
            ChunkTable own = ChunkTable.open(victim);
            assertEquals(victimMeta, own.cas(0, t.blockWord(c, metaBlock), victimMeta,
                    ChunkTableLayout.word(ChunkTableLayout.BLOCK_FREE, 4, 0)));
            assertEquals(0, own.cas(0, t.blockWord(c, reserveBlock), 0, ChunkTableLayout.word(ChunkTableLayout.BLOCK_FREE, 4, 0)));
            assertEquals(owned, own.cas(0, ownerAt, owned, ChunkTableLayout.word(ChunkTableLayout.CHUNK_ADOPTED, 4, EPOCH)));
            assertEquals(0, mn.frameServer().internalErrors());
        }
    }

    /**
     * Value block runs (a run recorded by one WRITE of the owner, kept spare for its own later
     * values, reused from its spares, freed by any writer that dropped it) and the return of a
     * wholly free adopted chunk (its blocks taken one by one, the owner word from adopted to owned,
     * the words written reserve again, the owner word to free) keep the rules; a hostile member
     * still cannot keep, reuse or free another live member's spare blocks.
     */
    @Test
    void valueRunsAndTheReturnOfAnAdoptedChunkKeepTheRules() throws Exception {
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        MemoryNodeOptions o = MemoryNodeOptions.of(0, loopback, REGION, "tcp", dir.resolve("mn"))
                .withCoordination(Coordination.embedded(loopback, Duration.ofSeconds(30)));
        try (MemoryNodeServer mn = MemoryNodeServer.start(o);
             TcpVerbs owner = TcpVerbs.connect(List.of(mn.address()), TcpVerbsConfig.defaults(), 4, EPOCH);
             TcpVerbs hostile = TcpVerbs.connect(List.of(mn.address()), TcpVerbsConfig.defaults(), 3, EPOCH);
             TcpVerbs lapsing = TcpVerbs.connect(List.of(mn.address()), TcpVerbsConfig.defaults(), 7, EPOCH);
             TcpVerbs returner = TcpVerbs.connect(List.of(mn.address()), TcpVerbsConfig.defaults(), 8, EPOCH)) {
            ChunkSource chunks = geometry(REGION.chunkBytes());
            NodeAllocator ownerAlloc = new NodeAllocator(chunks, owner, NODE_BYTES, 0, 4, EPOCH);
            ChunkTable table = ChunkTable.open(hostile);
            ChunkTableLayout t = table.layout(0);
            UnsafeBuffer value = new UnsafeBuffer(new byte[1000]);
            long run = ownerAlloc.allocateValue(1000, value);
            long c = t.chunkOf(GlobalAddress.offset(run));
            long first = (GlobalAddress.offset(run) - t.chunkOffset(c)) / NODE_BYTES;
            long valueWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_VALUE, 4, EPOCH);
            long spare = ChunkTableLayout.word(ChunkTableLayout.BLOCK_VALUE_SPARE, 4, EPOCH);
            assertEquals(valueWord, word(hostile, GlobalAddress.of(0, t.blockWord(c, first))), "the run is recorded");
            assertEquals(4, ownerAlloc.freeValue(run, 1000), "the owner keeps its run spare");
            assertEquals(spare, word(hostile, GlobalAddress.of(0, t.blockWord(c, first))));
            long hostileFree = ChunkTableLayout.word(ChunkTableLayout.BLOCK_FREE, 3, 0);
            AccessDeniedException e = denied("free a live member's spare block",
                    () -> table.cas(0, t.blockWord(c, first), spare, hostileFree));
            assertTrue(e.getMessage().contains("live member"), e.getMessage());
            UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
            b.putLong(0, ChunkTableLayout.word(ChunkTableLayout.BLOCK_VALUE, 3, EPOCH));
            denied("reuse another's spare block", () -> hostile.write(GlobalAddress.of(0, t.blockWord(c, first)), b, 0, 8));
            assertEquals(run, ownerAlloc.allocateValue(1000, value), "the owner's next run comes from its spares");
            assertEquals(valueWord, word(hostile, GlobalAddress.of(0, t.blockWord(c, first))));
            denied("keep another's run as one's own spare", () -> table.cas(0, t.blockWord(c, first), valueWord,
                    ChunkTableLayout.word(ChunkTableLayout.BLOCK_VALUE_SPARE, 3, EPOCH)));
            NodeAllocator hostileAlloc = new NodeAllocator(chunks, hostile, NODE_BYTES, 0, 3, EPOCH);
            assertEquals(4, hostileAlloc.freeValue(run, 1000), "a writer that dropped a run frees it, whoever wrote it");
            assertEquals(ChunkTableLayout.BLOCK_FREE, ChunkTableLayout.state(word(hostile, GlobalAddress.of(0,
                    t.blockWord(c, first)))));

            // an adopted chunk, every block free: member 7's, reclaimed after its fence
            NodeAllocator lapsingAlloc = new NodeAllocator(chunks, lapsing, NODE_BYTES, 0, 7, EPOCH);
            long meta = lapsingAlloc.allocateBlock(0, NODE_BYTES); // bumped from a chunk it claims (nodes may come from the pool)
            long lc = t.chunkOf(GlobalAddress.offset(meta));
            int blocks = (int) t.blocksPerChunk(NODE_BYTES);
            mn.fence(7, EPOCH);
            long lapsedMeta = ChunkTableLayout.word(ChunkTableLayout.BLOCK_META, 7, EPOCH);
            for (int i = 0; i < blocks; i++) {
                long expected = word(hostile, GlobalAddress.of(0, t.blockWord(lc, i)));
                assertTrue(expected == lapsedMeta || expected == ChunkTableLayout.BLOCK_RESERVE, Long.toHexString(expected));
                assertEquals(expected, table.cas(0, t.blockWord(lc, i), expected, hostileFree));
            }
            long lapsedOwned = ChunkTableLayout.word(ChunkTableLayout.CHUNK_OWNED, 7, EPOCH);
            long adopted = ChunkTableLayout.word(ChunkTableLayout.CHUNK_ADOPTED, 7, EPOCH);
            assertEquals(lapsedOwned, table.cas(0, t.ownerWord(lc), lapsedOwned, adopted));
            denied("take a block of a live member's chunk as metadata", () -> table.cas(0, t.blockWord(c, first),
                    word(hostile, GlobalAddress.of(0, t.blockWord(c, first))), ChunkTableLayout.word(ChunkTableLayout.BLOCK_META,
                            3, EPOCH)));
            // a fresh allocator scans the pool first: it returns the chunk, then claims chunks as usual
            NodeAllocator returnerAlloc = new NodeAllocator(chunks, returner, NODE_BYTES, 0, 8, EPOCH);
            returnerAlloc.allocate();
            assertEquals(1, returnerAlloc.chunksReturned(), "the adopted chunk went back to the pool");
            assertNotEquals(ChunkTableLayout.CHUNK_ADOPTED, ChunkTableLayout.state(word(hostile, GlobalAddress.of(0,
                    t.ownerWord(lc)))));
            assertEquals(0, mn.frameServer().internalErrors());
        }
    }

    @Test
    void withChunkOwnersOffOrWithoutMembershipAStealLands() throws Exception {
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        stealLands(MemoryNodeOptions.of(0, loopback, REGION, "tcp", dir.resolve("off"))
                .withCoordination(Coordination.embedded(loopback, Duration.ofSeconds(30)))
                .withCarrierOptions(CarrierOptions.NONE.with(TcpCarrierServer.CHUNK_OWNERS, "off")));
        // a memory node without membership learns no fence, so it cannot tell a reclamation from a theft
        stealLands(MemoryNodeOptions.of(0, loopback, REGION, "tcp", dir.resolve("alone")));
        IllegalStateException bad = assertThrows(IllegalStateException.class, () -> MemoryNodeServer.start(
                MemoryNodeOptions.of(1, new InetSocketAddress("127.0.0.1", 0), REGION, "tcp", dir.resolve("bad"))
                        .withCarrierOptions(CarrierOptions.NONE.with(TcpCarrierServer.RIGHTS, "off")
                                .with(TcpCarrierServer.CHUNK_OWNERS, "on"))));
        assertTrue(bad.getMessage().contains("tcp.chunk-owners=on needs tcp.rights=on"), bad.getMessage());
    }

    private static void stealLands(MemoryNodeOptions o) throws Exception {
        try (MemoryNodeServer mn = MemoryNodeServer.start(o);
             TcpVerbs victim = TcpVerbs.connect(List.of(mn.address()), TcpVerbsConfig.defaults(), 4, EPOCH);
             TcpVerbs hostile = TcpVerbs.connect(List.of(mn.address()), TcpVerbsConfig.defaults(), 3, EPOCH)) {
            long node = new NodeAllocator(geometry(REGION.chunkBytes()), victim, NODE_BYTES, 0, 4, EPOCH).allocate();
            ChunkTable table = ChunkTable.open(hostile);
            long c = table.layout(0).chunkOf(GlobalAddress.offset(node));
            long owned = ChunkTableLayout.word(ChunkTableLayout.CHUNK_OWNED, 4, EPOCH);
            assertEquals(owned, table.cas(0, table.layout(0).ownerWord(c), owned,
                    ChunkTableLayout.word(ChunkTableLayout.CHUNK_OWNED, 3, EPOCH)), "with the rules off the steal lands");
        }
    }

    @Test
    void aTreeWorkloadFinishesCleanBesideAHostileMemberOfARealCluster() throws Exception {
        long seed = seed("aTreeWorkloadFinishesCleanBesideAHostileMemberOfARealCluster");
        ClusterSecret secret = ClusterSecret.generate();
        MemoryNodeConfig region = new MemoryNodeConfig(32L << 20, 64L << 10, 64L << 10);
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        try (MemoryNodeServer mn = MemoryNodeServer.start(MemoryNodeOptions.of(0, loopback, region, "tcp", dir.resolve("cluster"))
                .withSecret(secret).withCoordination(Coordination.embedded(loopback, Duration.ofSeconds(10))))) {
            ClusterClient.Options options = ClusterClient.Options.of(List.of(mn.address())).withTimeoutMillis(20_000)
                    .withMessaging(loopback, null).withSecret(secret);
            TreeConfig tree = new TreeConfig(8, 8, NODE_BYTES, 1L << 20);
            RemoteComputeNode a = RemoteComputeNode.join(options, tree, "modular", 16, 4);
            RemoteComputeNode leaver = RemoteComputeNode.join(options, tree, "modular", 16, 4);
            try (ClusterClient hostile = ClusterClient.join(options)) {
                List<Thread> threads = new ArrayList<>();
                AtomicReference<Throwable> failed = new AtomicReference<>();
                AtomicLong done = new AtomicLong();
                int opsPerThread = 3_000;
                for (int w = 0; w < 4; w++) {
                    DmIndex index = (w % 2 == 0 ? a : leaver).index();
                    Random rnd = new Random(seed + w);
                    threads.add(new Thread(() -> { // YCSB-A-like: half updates or inserts, half reads
                        try {
                            for (int i = 0; i < opsPerThread; i++) {
                                byte[] key = ByteBuffer.allocate(8).putLong(rnd.nextInt(20_000)).array();
                                if (rnd.nextBoolean()) {
                                    index.put(key, ByteBuffer.allocate(8).putLong(i).array());
                                } else {
                                    index.get(key);
                                }
                                done.incrementAndGet();
                            }
                        } catch (Throwable t) {
                            failed.compareAndSet(null, t);
                        }
                    }, "workload-" + w));
                }
                threads.forEach(Thread::start);
                Random rnd = new Random(seed);
                ChunkTable table = ChunkTable.open(hostile.verbs());
                ChunkTableLayout t = table.layout(0);
                int me = hostile.computeNodeId();
                long myOwned = ChunkTableLayout.word(ChunkTableLayout.CHUNK_OWNED, me, hostile.epoch());
                long myNode = ChunkTableLayout.word(ChunkTableLayout.BLOCK_NODE, me, hostile.epoch());
                long myFree = ChunkTableLayout.word(ChunkTableLayout.BLOCK_FREE, me, 0);
                UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
                b.putLong(0, myNode);
                int refused = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (threads.stream().anyMatch(Thread::isAlive) && System.nanoTime() < deadline && refused < 20_000) {
                    long[] owners = table.ownerWords(0);
                    for (int c = 0; c < owners.length; c++) {
                        long w = owners[c];
                        if (ChunkTableLayout.state(w) != ChunkTableLayout.CHUNK_OWNED || ChunkTableLayout.member(w) == me) {
                            continue;
                        }
                        long cc = c;
                        long block = rnd.nextInt((int) t.blocksPerChunk(NODE_BYTES));
                        long blockAt = t.blockWord(cc, block);
                        long seen = table.blockWords(0, cc, (int) block + 1)[(int) block];
                        switch (rnd.nextInt(5)) {
                            case 0 -> denied("steal", () -> table.cas(0, t.ownerWord(cc), w, myOwned));
                            case 1 -> denied("free another's chunk", () -> table.cas(0, t.ownerWord(cc), w, 0));
                            case 2 -> denied("adopt a live member's chunk", () -> table.cas(0, t.ownerWord(cc), w,
                                    ChunkTableLayout.word(ChunkTableLayout.CHUNK_ADOPTED, ChunkTableLayout.member(w),
                                            ChunkTableLayout.epoch(w))));
                            case 3 -> denied("mark a block", () -> hostile.verbs().write(GlobalAddress.of(0, blockAt), b, 0, 8));
                            default -> {
                                if (ChunkTableLayout.state(seen) == ChunkTableLayout.BLOCK_RESERVE
                                        || ChunkTableLayout.state(seen) == ChunkTableLayout.BLOCK_META) {
                                    denied("reclaim a live member's block", () -> table.cas(0, blockAt, seen, myFree));
                                } else {
                                    denied("steal a recorded node", () -> table.cas(0, blockAt, seen, seen + 1));
                                }
                            }
                        }
                        refused++;
                    }
                    Thread.onSpinWait();
                }
                for (Thread th : threads) {
                    th.join(TimeUnit.SECONDS.toMillis(60));
                    assertFalse(th.isAlive(), th.getName() + " did not finish");
                }
                assertNull(failed.get(), () -> "the workload failed beside the hostile member: " + failed.get());
                assertEquals(4L * opsPerThread, done.get());
                assertTrue(refused > 0, "the hostile member found no chunk of another member to attack");
                System.out.println("ChunkTableRightsTest: " + refused + " hostile chunk-table verbs refused beside "
                        + done.get() + " tree operations");
                TreeReport r = a.computeNode().check();
                assertTrue(r.ok(), r::toString);
                assertEquals(0, r.leakedBytes(), r::toString);
                leaver.close(); // a clean leave gives its memory back through the same rules
                leaver = null;
                r = a.computeNode().check();
                assertTrue(r.ok(), r::toString);
                assertEquals(0, r.leakedBytes(), r::toString);
                assertTrue(r.region().reachable() > 0, r::toString);
            } finally {
                if (leaver != null) {
                    leaver.close();
                }
                a.close();
            }
            assertEquals(0, mn.frameServer().internalErrors());
        }
    }
}
