package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;
import java.util.Random;

import static io.dmtree.cn.carrier.tcp.TcpTestCluster.SCRATCH;
import static io.dmtree.cn.carrier.tcp.TcpTestCluster.at;

/**
 * One thread's random mix of verbs and batches over every memory node, checked against a shadow
 * model as it goes. The thread owns a range of {@link #RANGE} bytes on each memory node
 * (disjoint from every other thread's), so the shadow predicts every READ, CAS and own FAA exactly,
 * also inside a batch where later requests must see earlier ones; the {@link #COUNTERS} shared
 * counters per memory node take FAAs from every thread, whose results are kept for the caller to
 * check that they tile {@code [0, total)} without gap or overlap.
 */
final class MixedVerbWorkload {
    static final int RANGE = 64 << 10;
    static final int COUNTERS = 4;
    static final int MAX_BATCH = 10;
    static final int MAX_LENGTH = 32 << 10;
    /** The shared counters, one cache line each, before every thread's range. */
    static final long COUNTER_BASE = SCRATCH;
    static final long RANGES_BASE = SCRATCH + 4096;

    private enum Kind { READ, WRITE, CAS, FAA_OWN, FAA_SHARED }

    private final Verbs verbs;
    private final int memoryNodes;
    private final Random rnd;
    private final boolean refusals;
    private final long[] base;
    private final byte[][] shadow;
    private final UnsafeBuffer src = new UnsafeBuffer(new byte[MAX_BATCH * MAX_LENGTH]);
    private final UnsafeBuffer dst = new UnsafeBuffer(new byte[MAX_BATCH * MAX_LENGTH]);
    private final VerbBatch batch = new VerbBatch();
    private final Kind[] kinds = new Kind[MAX_BATCH];
    private final byte[][] expectedRead = new byte[MAX_BATCH][];
    private final long[] expectedResult = new long[MAX_BATCH];
    private final int[] counterOf = new int[MAX_BATCH];
    private final int[] mnOf = new int[MAX_BATCH];
    private final long[] deltaOf = new long[MAX_BATCH];
    /** Shared FAAs done: per memory node and counter, (word before, delta) pairs. */
    final long[][][] sharedFaa;
    final int[][] sharedCount;
    long operations;
    long refused;

    MixedVerbWorkload(Verbs verbs, int memoryNodes, int thread, long seed, boolean refusals) {
        this.verbs = verbs;
        this.memoryNodes = memoryNodes;
        this.rnd = new Random(seed * 1_000_003L + thread);
        this.refusals = refusals;
        this.base = new long[memoryNodes];
        this.shadow = new byte[memoryNodes][RANGE];
        this.sharedFaa = new long[memoryNodes][COUNTERS][256];
        this.sharedCount = new int[memoryNodes][COUNTERS];
        for (int mn = 0; mn < memoryNodes; mn++) {
            base[mn] = RANGES_BASE + (long) thread * RANGE;
        }
    }

    /** One random operation: a single verb, a batch, or (when asked for) a request the memory node must refuse. */
    void step() {
        int dice = rnd.nextInt(100);
        if (refusals && dice < 2) {
            refusedRequest();
        } else if (dice < 35) {
            single();
        } else {
            batch(2 + rnd.nextInt(MAX_BATCH - 1));
        }
        operations++;
    }

    private int length() {
        int d = rnd.nextInt(100);
        if (d < 70) {
            return 1 + rnd.nextInt(64);
        }
        if (d < 95) {
            return 65 + rnd.nextInt(2048 - 64);
        }
        return 4096 + rnd.nextInt(MAX_LENGTH - 4096 + 1);
    }

    private int wordOffset() {
        return rnd.nextInt(RANGE / 8) * 8;
    }

    private long shadowWord(int mn, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = v << 8 | (shadow[mn][off + i] & 0xFF);
        }
        return v;
    }

    private void setShadowWord(int mn, int off, long v) {
        for (int i = 0; i < 8; i++) {
            shadow[mn][off + i] = (byte) (v >>> (8 * i));
        }
    }

    private void single() {
        int mn = rnd.nextInt(memoryNodes);
        switch (rnd.nextInt(5)) {
            case 0 -> {
                int len = length();
                int off = rnd.nextInt(RANGE - len + 1);
                verbs.read(at(mn, base[mn] + off), dst, 0, len);
                for (int i = 0; i < len; i++) {
                    if (dst.getByte(i) != shadow[mn][off + i]) {
                        throw new AssertionError("READ of " + len + " bytes at +" + off + " on memory node " + mn
                                + " differs at byte " + i + " after " + operations + " operations");
                    }
                }
            }
            case 1 -> {
                int len = length();
                int off = rnd.nextInt(RANGE - len + 1);
                fill(0, len);
                verbs.write(at(mn, base[mn] + off), src, 0, len);
                src.getBytes(0, shadow[mn], off, len);
            }
            case 2 -> {
                int off = wordOffset();
                long found = shadowWord(mn, off);
                long expected = rnd.nextBoolean() ? found : rnd.nextLong();
                long desired = rnd.nextLong();
                long got = verbs.cas(at(mn, base[mn] + off), expected, desired);
                check(got, found, "CAS");
                if (found == expected) {
                    setShadowWord(mn, off, desired);
                }
            }
            case 3 -> {
                int off = wordOffset();
                long found = shadowWord(mn, off);
                long delta = rnd.nextLong();
                check(verbs.faa(at(mn, base[mn] + off), delta), found, "FAA");
                setShadowWord(mn, off, found + delta);
            }
            default -> {
                int c = rnd.nextInt(COUNTERS);
                long delta = 1 + rnd.nextInt(1000);
                record(mn, c, verbs.faa(at(mn, COUNTER_BASE + 64L * c), delta), delta);
            }
        }
    }

    private void batch(int n) {
        batch.clear();
        int srcAt = 0;
        int dstAt = 0;
        for (int r = 0; r < n; r++) {
            int mn = rnd.nextInt(memoryNodes);
            mnOf[r] = mn;
            Kind k = Kind.values()[rnd.nextInt(Kind.values().length)];
            kinds[r] = k;
            switch (k) {
                case READ -> {
                    int len = Math.min(length(), MAX_LENGTH);
                    int off = rnd.nextInt(RANGE - len + 1);
                    batch.read(at(mn, base[mn] + off), dst, dstAt, len);
                    expectedRead[r] = Arrays.copyOfRange(shadow[mn], off, off + len);
                    dstAt += len;
                }
                case WRITE -> {
                    int len = length();
                    int off = rnd.nextInt(RANGE - len + 1);
                    fill(srcAt, len);
                    batch.write(at(mn, base[mn] + off), src, srcAt, len);
                    src.getBytes(srcAt, shadow[mn], off, len);
                    srcAt += len;
                }
                case CAS -> {
                    int off = wordOffset();
                    long found = shadowWord(mn, off);
                    long expected = rnd.nextBoolean() ? found : rnd.nextLong();
                    long desired = rnd.nextLong();
                    batch.cas(at(mn, base[mn] + off), expected, desired);
                    expectedResult[r] = found;
                    if (found == expected) {
                        setShadowWord(mn, off, desired);
                    }
                }
                case FAA_OWN -> {
                    int off = wordOffset();
                    long found = shadowWord(mn, off);
                    long delta = rnd.nextLong();
                    batch.faa(at(mn, base[mn] + off), delta);
                    expectedResult[r] = found;
                    setShadowWord(mn, off, found + delta);
                }
                case FAA_SHARED -> {
                    int c = rnd.nextInt(COUNTERS);
                    long delta = 1 + rnd.nextInt(1000);
                    batch.faa(at(mn, COUNTER_BASE + 64L * c), delta);
                    counterOf[r] = c;
                    deltaOf[r] = delta;
                }
            }
        }
        verbs.post(batch);
        int readAt = 0;
        for (int r = 0; r < n; r++) {
            switch (kinds[r]) {
                case READ -> {
                    byte[] want = expectedRead[r];
                    for (int i = 0; i < want.length; i++) {
                        if (dst.getByte(readAt + i) != want[i]) {
                            throw new AssertionError("batch READ " + r + " of " + n + " (" + want.length + " bytes, memory node "
                                    + mnOf[r] + ") differs at byte " + i + " after " + operations + " operations");
                        }
                    }
                    readAt += want.length;
                }
                case CAS, FAA_OWN -> check(batch.result(r), expectedResult[r], "batch " + kinds[r] + " " + r + " of " + n);
                case FAA_SHARED -> record(mnOf[r], counterOf[r], batch.result(r), deltaOf[r]);
                default -> {
                }
            }
        }
    }

    /** A misaligned CAS or a READ past the region: refused, writing nothing, the connection goes on. */
    private void refusedRequest() {
        int mn = rnd.nextInt(memoryNodes);
        try {
            if (rnd.nextBoolean()) {
                verbs.cas(at(mn, base[mn] + wordOffset() + 4), 0, 1);
            } else {
                verbs.read(at(mn, TcpTestCluster.CONFIG.regionBytes() - 8), dst, 0, 64);
            }
        } catch (RemoteAccessException e) {
            if (!e.getMessage().contains("refused")) {
                throw e;
            }
            refused++;
            return;
        }
        throw new AssertionError("a bad request to memory node " + mn + " was not refused");
    }

    private void fill(int at, int len) {
        for (int i = 0; i < len; i += 8) {
            long v = rnd.nextLong();
            for (int b = 0; b < 8 && i + b < len; b++) {
                src.putByte(at + i + b, (byte) (v >>> (8 * b)));
            }
        }
    }

    private void check(long got, long want, String what) {
        if (got != want) {
            throw new AssertionError(what + " returned " + got + ", the shadow model says " + want + " after " + operations
                    + " operations");
        }
    }

    private void record(int mn, int c, long before, long delta) {
        int i = sharedCount[mn][c]++;
        if (2 * i + 1 >= sharedFaa[mn][c].length) {
            sharedFaa[mn][c] = Arrays.copyOf(sharedFaa[mn][c], sharedFaa[mn][c].length * 2);
        }
        sharedFaa[mn][c][2 * i] = before;
        sharedFaa[mn][c][2 * i + 1] = delta;
    }

    /** Zeroes the thread's range on every memory node, as the shadow starts (region memory starts undefined). */
    void zeroRanges() {
        UnsafeBuffer zeros = new UnsafeBuffer(new byte[RANGE]);
        for (int mn = 0; mn < memoryNodes; mn++) {
            verbs.write(at(mn, base[mn]), zeros, 0, RANGE);
        }
    }

    /** Zeroes the shared counters of every memory node; before any thread uses them. */
    static void zeroCounters(Verbs verbs, int memoryNodes) {
        UnsafeBuffer zeros = new UnsafeBuffer(new byte[64 * COUNTERS]);
        for (int mn = 0; mn < memoryNodes; mn++) {
            verbs.write(at(mn, COUNTER_BASE), zeros, 0, 64 * COUNTERS);
        }
    }

    /** Reads the thread's whole range on every memory node back and compares it with the shadow. */
    void verifyRanges() {
        UnsafeBuffer all = new UnsafeBuffer(new byte[RANGE]);
        for (int mn = 0; mn < memoryNodes; mn++) {
            verbs.read(at(mn, base[mn]), all, 0, RANGE);
            for (int i = 0; i < RANGE; i++) {
                if (all.getByte(i) != shadow[mn][i]) {
                    throw new AssertionError("memory node " + mn + " byte +" + i + " of the range differs from the shadow");
                }
            }
        }
    }
}
