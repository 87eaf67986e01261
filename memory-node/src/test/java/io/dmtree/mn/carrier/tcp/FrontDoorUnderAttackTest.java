package io.dmtree.mn.carrier.tcp;

import io.dmtree.core.wire.ConnectionLimits;
import io.dmtree.core.wire.ErrorReply;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameServerStats;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.VerbFrame;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A memory node under attack keeps serving and keeps its memory: hundreds of hostile connections
 * (silent, garbage, 16 MiB length prefixes before and after HELLO with partial bodies, partial
 * headers, garbage frames on verbs and control) come and go while real verb clients run a seeded
 * READ/WRITE/CAS/FAA workload over tcp, every reply checked against a shadow model of each
 * client's slice of the region and of shared FAA counters. Asserted: every reply and the final
 * region are right; the server's own accounting of receive-buffer bytes stays within open
 * connections x session buffer + receive budget (+ one resize per loop) although far more was
 * announced; its threads stay at loops + workers; every limit kind that was provoked is counted;
 * nothing leaks once the attackers leave. Seed: {@code -Ddmtree.seed}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FrontDoorUnderAttackTest {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int MAX_FRAME = 16 << 20;
    private static final int CLIENTS = 3;
    private static final int SLICE = 64 << 10;
    private static final long SLICES_START = 1 << 20;
    private static final long COUNTERS = SLICES_START + (long) CLIENTS * SLICE;
    private static final int N_COUNTERS = 8;
    private static final int ATTACKERS = 6;
    private static final int KINDS = 8;
    private static final int WAVES = 8;

    @TempDir
    Path dir;

    @Test
    void hostileConnectionsNeitherBreakTheWorkloadNorGrowTheMemoryNode() throws Exception {
        long seed = Long.getLong("dmtree.seed", System.nanoTime());
        System.out.println("FrontDoorUnderAttackTest seed=" + seed + " (replay with -Ddmtree.seed=" + seed + ")");
        ConnectionLimits limits = ConnectionLimits.MEMORY_NODE.toBuilder().eventLoops(2).helloTimeoutMillis(1000)
                .idleTimeoutMillis(2000).build();
        MemoryNodeOptions o = MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0),
                new MemoryNodeConfig(8L << 20, 64L << 10, 64L << 10), "tcp", dir).withLimits(limits);
        try (MemoryNodeServer mn = MemoryNodeServer.start(o)) {
            long budget = mn.frameServer().stats().receiveBudgetBytes();
            AtomicBoolean workloadDone = new AtomicBoolean();
            AtomicLong announced = new AtomicLong();
            AtomicLong maxReceive = new AtomicLong();
            AtomicLong maxOpen = new AtomicLong();
            AtomicLong maxThreads = new AtomicLong();
            AtomicLong beyondBound = new AtomicLong();
            Thread monitor = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    FrameServerStats s = mn.frameServer().stats();
                    maxReceive.accumulateAndGet(s.receiveBufferBytes(), Math::max);
                    maxOpen.accumulateAndGet(s.openConnections(), Math::max);
                    maxThreads.accumulateAndGet(s.threads(), Math::max);
                    // the bound the accounting must keep at every instant (one resize in flight per loop)
                    long bound = (long) (s.openConnections() + 8) * limits.sessionBufferBytes() + budget
                            + (long) limits.eventLoops() * MAX_FRAME;
                    if (s.receiveBufferBytes() > bound) {
                        beyondBound.set(s.receiveBufferBytes());
                    }
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "attack-monitor");
            monitor.setDaemon(true);
            monitor.start();

            // the region's chunk area is not zeroed until a chunk is handed out: the counters start at zero by a WRITE
            try (FrameChannel ch = FrameChannel.open(mn.address(), HelloFrame.SERVICE_VERBS, MAX_FRAME, 10_000)) {
                FrameWriter w = new FrameWriter();
                w.begin(FrameHeader.TYPE_VERB_REQUEST, 1, 1).u8(VerbFrame.KIND_WRITE).u8(0).u16(0).i32(8 * N_COUNTERS).i64(COUNTERS)
                        .bytes(new byte[8 * N_COUNTERS]).finish();
                ch.write(w);
                ch.readWithTimeout(10_000);
                assertEquals(FrameHeader.TYPE_VERB_REQUEST | FrameHeader.REPLY_BIT, ch.frame().getByte(FrameHeader.TYPE_OFFSET) & 0xFF);
            }
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + ATTACKERS);
            List<Future<long[]>> clients = new ArrayList<>();
            List<Future<?>> attackers = new ArrayList<>();
            long startNanos = System.nanoTime();
            for (int a = 0; a < ATTACKERS; a++) {
                Random rnd = new Random(seed * 31 + a);
                attackers.add(pool.submit(() -> attack(mn.address(), rnd, workloadDone, startNanos, announced)));
            }
            for (int c = 0; c < CLIENTS; c++) {
                Random rnd = new Random(seed * 17 + c);
                int client = c;
                clients.add(pool.submit(() -> workload(mn.address(), client, rnd)));
            }
            long[] counterTotals = new long[N_COUNTERS];
            try {
                for (Future<long[]> f : clients) {
                    long[] t = f.get(150, TimeUnit.SECONDS);
                    for (int i = 0; i < N_COUNTERS; i++) {
                        counterTotals[i] += t[i];
                    }
                }
            } finally {
                workloadDone.set(true);
            }
            for (Future<?> f : attackers) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdownNow();

            // the shared counters hold the sum of every client's adds
            try (FrameChannel ch = FrameChannel.open(mn.address(), HelloFrame.SERVICE_VERBS, MAX_FRAME, 10_000)) {
                FrameWriter w = new FrameWriter();
                w.begin(FrameHeader.TYPE_VERB_REQUEST, 1, 1).u8(VerbFrame.KIND_READ).u8(0).u16(0).i32(8 * N_COUNTERS).i64(COUNTERS)
                        .finish();
                ch.write(w);
                ch.readWithTimeout(10_000);
                for (int i = 0; i < N_COUNTERS; i++) {
                    assertEquals(counterTotals[i], ch.frame().getLong(FrameHeader.LENGTH + 8 * i, LE), "counter " + i);
                }
            }
            monitor.interrupt();
            monitor.join(5000);
            FrameServerStats s = mn.frameServer().stats();
            System.out.println("FrontDoorUnderAttackTest: announced " + (announced.get() >> 20) + " MiB; most receive-buffer bytes "
                    + maxReceive.get() + ", most open connections " + maxOpen.get() + ", most threads " + maxThreads.get() + "; " + s);
            assertEquals(0, beyondBound.get(), "receive-buffer bytes beyond connections x session buffer + budget + resizes");
            assertTrue(announced.get() > 4 * maxReceive.get(), "the attack announced far more than the memory node held: "
                    + announced.get() + " vs " + maxReceive.get());
            assertTrue(maxReceive.get() <= budget + (long) limits.eventLoops() * MAX_FRAME + (maxOpen.get() + 8)
                    * limits.sessionBufferBytes(), "most receive-buffer bytes " + maxReceive.get());
            assertTrue(maxOpen.get() >= 100, "hundreds of connections were open at once: " + maxOpen.get());
            assertTrue(maxThreads.get() <= limits.eventLoops() + limits.blockingWorkers(), "threads " + maxThreads.get());
            assertEquals(0, s.internalErrors(), s.toString());
            assertTrue(s.helloTimeouts() > 0, s.toString());
            assertTrue(s.helloFramesTooLarge() > 0, s.toString());
            assertTrue(s.idleTimeouts() > 0, s.toString());
            assertTrue(s.budgetWaits() > 0, s.toString());
            assertTrue(waitFor(() -> mn.frameServer().openConnections() == 0), "every connection is gone: " + mn.frameServer().stats());
            FrameServerStats after = mn.frameServer().stats();
            assertEquals(0, after.receiveBufferBytes(), after.toString());
            assertEquals(0, after.sendBufferBytes(), after.toString());
            assertEquals(0, after.budgetReservedBytes(), after.toString());
        }
    }

    // ---------------------------------------------------------------- the workload

    /** Pipelined verb frames on the client's own slice and the shared counters; returns the counter totals it added. */
    private static long[] workload(InetSocketAddress mn, int client, Random rnd) throws Exception {
        long base = SLICES_START + (long) client * SLICE;
        byte[] shadow = new byte[SLICE];
        long[] added = new long[N_COUNTERS];
        ByteBuffer sh = ByteBuffer.wrap(shadow).order(LE);
        FrameWriter w = new FrameWriter();
        long id = 1;
        try (FrameChannel ch = FrameChannel.open(mn, HelloFrame.SERVICE_VERBS, MAX_FRAME, 10_000)) {
            // the model starts from what the slice holds (the chunk area is not zeroed before it is handed out)
            for (int off = 0; off < SLICE; off += 16 << 10) {
                w.begin(FrameHeader.TYPE_VERB_REQUEST, 1, id++).u8(VerbFrame.KIND_READ).u8(0).u16(0).i32(16 << 10).i64(base + off)
                        .finish();
                ch.write(w);
                ch.readWithTimeout(20_000);
                ch.frame().getBytes(FrameHeader.LENGTH, shadow, off, 16 << 10);
            }
            for (int batch = 0; batch < 500; batch++) {
                int frames = 1 + rnd.nextInt(4);
                List<byte[]> expected = new ArrayList<>();
                List<String> described = new ArrayList<>();
                List<int[]> counterReplies = new ArrayList<>();
                for (int f = 0; f < frames; f++) {
                    int n = 1 + rnd.nextInt(6);
                    w.begin(FrameHeader.TYPE_VERB_REQUEST, n, id++);
                    ByteBuffer reply = ByteBuffer.allocate(1 << 16).order(LE);
                    List<Integer> counterAt = new ArrayList<>();
                    StringBuilder what = new StringBuilder("frame " + (id - 1) + ":");
                    for (int i = 0; i < n; i++) {
                        int kind = 1 + rnd.nextInt(5);
                        what.append(' ').append(kind).append('@').append(reply.position());
                        if (kind == 5) { // FAA on a shared counter: its result depends on the others, its total does not
                            int k = rnd.nextInt(N_COUNTERS);
                            long delta = rnd.nextInt(1000);
                            w.u8(VerbFrame.KIND_FAA).u8(0).u16(0).i32(8).i64(COUNTERS + 8L * k).i64(delta);
                            added[k] += delta;
                            counterAt.add(reply.position());
                            reply.putLong(0);
                            continue;
                        }
                        switch (kind) {
                            case VerbFrame.KIND_READ -> {
                                int len = rnd.nextInt(600);
                                int off = rnd.nextInt(SLICE - len + 1);
                                w.u8(kind).u8(0).u16(0).i32(len).i64(base + off);
                                reply.put(shadow, off, len);
                                reply.position(reply.position() + VerbFrame.padded(len) - len);
                            }
                            case VerbFrame.KIND_WRITE -> {
                                int len = rnd.nextInt(600);
                                int off = rnd.nextInt(SLICE - len + 1);
                                byte[] data = new byte[len];
                                rnd.nextBytes(data);
                                w.u8(kind).u8(0).u16(0).i32(len).i64(base + off).bytes(data).pad(8);
                                System.arraycopy(data, 0, shadow, off, len);
                            }
                            case VerbFrame.KIND_CAS -> {
                                int off = rnd.nextInt(SLICE / 8) * 8;
                                long found = sh.getLong(off);
                                long expect = rnd.nextBoolean() ? found : rnd.nextLong();
                                long desired = rnd.nextLong();
                                w.u8(kind).u8(0).u16(0).i32(8).i64(base + off).i64(expect).i64(desired);
                                if (found == expect) {
                                    sh.putLong(off, desired);
                                }
                                reply.putLong(found);
                            }
                            default -> {
                                int off = rnd.nextInt(SLICE / 8) * 8;
                                long delta = rnd.nextLong();
                                w.u8(VerbFrame.KIND_FAA).u8(0).u16(0).i32(8).i64(base + off).i64(delta);
                                long before = sh.getLong(off);
                                sh.putLong(off, before + delta);
                                reply.putLong(before);
                            }
                        }
                    }
                    w.finish();
                    ch.write(w);
                    expected.add(Arrays.copyOf(reply.array(), reply.position()));
                    described.add(what.toString());
                    counterReplies.add(counterAt.stream().mapToInt(Integer::intValue).toArray());
                }
                for (int f = 0; f < frames; f++) {
                    ch.readWithTimeout(20_000);
                    FrameReader r = new FrameReader().wrap(ch.frame(), 0, ch.frameLength());
                    assertEquals(FrameHeader.TYPE_VERB_REQUEST | FrameHeader.REPLY_BIT, r.type(),
                            r.type() == FrameHeader.TYPE_ERROR ? ErrorReply.of(r).getMessage() : "");
                    byte[] body = new byte[ch.frameLength() - FrameHeader.LENGTH];
                    ch.frame().getBytes(FrameHeader.LENGTH, body);
                    for (int at : counterReplies.get(f)) {
                        Arrays.fill(body, at, at + 8, (byte) 0); // a shared counter's value is not this client's to predict
                    }
                    if (!Arrays.equals(expected.get(f), body)) {
                        throw new AssertionError("client " + client + " batch " + batch + " frame " + f + " (" + described.get(f)
                                + "; kinds 5 = shared counter) reply correlation " + r.correlationId() + ", count " + r.count()
                                + ", " + body.length + " bytes, expected " + expected.get(f).length + "; first difference at "
                                + Arrays.mismatch(expected.get(f), body) + "\nexpected " + hex(expected.get(f)) + "\nactual   " + hex(body));
                    }
                }
            }
            // the slice equals the model
            for (int off = 0; off < SLICE; off += 16 << 10) {
                w.begin(FrameHeader.TYPE_VERB_REQUEST, 1, id++).u8(VerbFrame.KIND_READ).u8(0).u16(0).i32(16 << 10).i64(base + off)
                        .finish();
                ch.write(w);
                ch.readWithTimeout(20_000);
                byte[] body = new byte[16 << 10];
                ch.frame().getBytes(FrameHeader.LENGTH, body);
                assertArrayEquals(Arrays.copyOfRange(shadow, off, off + (16 << 10)), body, "slice of client " + client + " at " + off);
            }
        }
        return added;
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(b.length, 512); i++) {
            s.append(String.format("%02x", b[i] & 0xFF));
            if (i % 8 == 7) {
                s.append(' ');
            }
        }
        return s.toString();
    }

    // ---------------------------------------------------------------- the attack

    /**
     * Waves of hostile connections, one of each kind first (so every limit is provoked early), then
     * random kinds; a wave's connections stay open for a while, then the oldest close. Runs until
     * the workload is done and at least 4 s (two idle timeouts) have passed.
     */
    private static Void attack(InetSocketAddress mn, Random rnd, AtomicBoolean workloadDone, long startNanos, AtomicLong announced)
            throws Exception {
        List<SocketChannel> open = new ArrayList<>();
        try {
            for (int wave = 0; ; wave++) {
                boolean minimum = System.nanoTime() - startNanos > TimeUnit.SECONDS.toNanos(4);
                if (wave >= WAVES && workloadDone.get() && minimum) {
                    break;
                }
                int count = wave == 0 ? KINDS : 4 + rnd.nextInt(12);
                for (int i = 0; i < count; i++) {
                    int kind = wave == 0 ? i : rnd.nextInt(KINDS);
                    SocketChannel ch = SocketChannel.open(mn);
                    open.add(ch);
                    try {
                        hostile(ch, kind, rnd, announced);
                    } catch (IOException e) {
                        // the memory node closed it already: what it should do with most of these
                    }
                }
                while (open.size() > 60) {
                    open.remove(rnd.nextInt(open.size())).close();
                }
                Thread.sleep(100 + rnd.nextInt(200));
            }
        } finally {
            for (SocketChannel ch : open) {
                ch.close();
            }
        }
        return null;
    }

    private static void hostile(SocketChannel ch, int kind, Random rnd, AtomicLong announced) throws IOException {
        switch (kind) {
            case 0 -> {
                // silent: the HELLO timeout closes it
            }
            case 1 -> { // garbage before HELLO
                byte[] g = new byte[1 + rnd.nextInt(2000)];
                rnd.nextBytes(g);
                write(ch, g);
            }
            case 2 -> { // a 16 MiB length prefix before HELLO
                write(ch, header(MAX_FRAME, FrameHeader.TYPE_HELLO));
                announced.addAndGet(MAX_FRAME);
            }
            case 3 -> write(ch, Arrays.copyOf(hello(HelloFrame.SERVICE_VERBS), 10)); // a partial HELLO
            case 4 -> { // HELLO, then a maximal verb frame of which only a part ever comes
                write(ch, hello(HelloFrame.SERVICE_VERBS));
                write(ch, header(MAX_FRAME, FrameHeader.TYPE_VERB_REQUEST));
                announced.addAndGet(MAX_FRAME);
                byte[] part = new byte[(32 << 10) + rnd.nextInt(224 << 10)];
                rnd.nextBytes(part);
                write(ch, part);
            }
            case 5 -> { // HELLO, then half a header
                write(ch, hello(HelloFrame.SERVICE_VERBS));
                write(ch, Arrays.copyOf(header(4096, FrameHeader.TYPE_VERB_REQUEST), 8));
            }
            case 6 -> { // HELLO, then well-framed garbage: refused, the connection goes on
                write(ch, hello(HelloFrame.SERVICE_VERBS));
                for (int i = 0; i < 1 + rnd.nextInt(20); i++) {
                    byte[] f = new byte[FrameHeader.LENGTH + rnd.nextInt(512)];
                    rnd.nextBytes(f);
                    ByteBuffer.wrap(f).order(LE).putInt(0, f.length).put(FrameHeader.VERSION_OFFSET, (byte) FrameHeader.VERSION);
                    write(ch, f);
                }
            }
            default -> { // control HELLO, then garbage frames and a large announcement
                write(ch, hello(HelloFrame.SERVICE_CONTROL));
                byte[] f = new byte[FrameHeader.LENGTH + rnd.nextInt(64)];
                rnd.nextBytes(f);
                ByteBuffer.wrap(f).order(LE).putInt(0, f.length).put(FrameHeader.VERSION_OFFSET, (byte) FrameHeader.VERSION);
                write(ch, f);
                write(ch, header(MAX_FRAME, FrameHeader.TYPE_BARRIER));
                announced.addAndGet(MAX_FRAME);
            }
        }
    }

    private static void write(SocketChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static byte[] hello(int service) {
        ByteBuffer b = ByteBuffer.allocate(HelloFrame.REQUEST_LENGTH).order(LE);
        b.putInt(HelloFrame.REQUEST_LENGTH).put((byte) FrameHeader.VERSION).put((byte) FrameHeader.TYPE_HELLO).putShort((short) 0)
                .putLong(0).putInt(HelloFrame.MAGIC).put((byte) service).put((byte) 0).putShort((short) 0);
        return b.array();
    }

    private static byte[] header(int length, int type) {
        ByteBuffer b = ByteBuffer.allocate(FrameHeader.LENGTH).order(LE);
        b.putInt(length).put((byte) FrameHeader.VERSION).put((byte) type).putShort((short) 1).putLong(1);
        return b.array();
    }

    private static boolean waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(10);
        }
        return condition.getAsBoolean();
    }
}
