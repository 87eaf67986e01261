package io.dmtree.core.memory;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Fault injection: verbs that stop their compute node after its k-th request, as a crashed or
 * fenced member is stopped. Every single verb is one request and every request of a batch is one;
 * {@link #crashAfter(long)} lets the next k requests take effect and refuses the one after and
 * every later one with a {@link CrashedException}. A crash point inside a batch applies the
 * batch's first requests, in order, to the memory nodes and refuses the rest: what a carrier that
 * applies a batch request by request (shm, local) leaves when its compute node dies, and what a
 * batch spanning memory nodes leaves on a carrier that applies a whole frame per memory node.
 *
 * <p>{@link #crashTornAfter(long, long)} also lets the request at the crash point, when it is a
 * WRITE spanning more than one 64-byte cache line, land partly: a seeded, non-empty, strict subset
 * of its cache lines (a process killed in the middle of a copy into shared memory, or a
 * multi-packet RDMA WRITE cut short). A WRITE within one cache line is taken to be atomic.
 *
 * <p>Before a crash point is set the verbs pass everything through, counting requests
 * ({@link #issued()}) and, when asked, keeping a trace of them, so a caller can learn how many
 * crash points an operation has. Calls are serialized: this is a test carrier. Counters are the
 * wrapped verbs' (wrap these in {@link CountingVerbs} to count).
 */
public final class CrashingVerbs implements Verbs {
    /** One request as issued: its kind, target and length. */
    public record Request(VerbKind kind, long address, int length) {
        /** Cache lines a WRITE of this request touches. */
        public int cacheLines() {
            if (length == 0) {
                return 0;
            }
            long first = GlobalAddress.offset(address) / CACHE_LINE;
            long last = (GlobalAddress.offset(address) + length - 1) / CACHE_LINE;
            return (int) (last - first + 1);
        }
    }

    public static final int CACHE_LINE = 64;

    private final Verbs inner;
    private long allowed = Long.MAX_VALUE;
    private long issued;
    private boolean crashed;
    private Random tear;
    private List<Request> trace;

    public CrashingVerbs(Verbs inner) {
        this.inner = inner;
    }

    /** Lets the next {@code requests} requests take effect, then stops this compute node. */
    public synchronized void crashAfter(long requests) {
        arm(requests, null);
    }

    /**
     * {@link #crashAfter(long)}, and the request at the crash point, if it is a WRITE over several
     * cache lines, lands a subset of them chosen by {@code seed}.
     */
    public synchronized void crashTornAfter(long requests, long seed) {
        arm(requests, new Random(seed));
    }

    private void arm(long requests, Random tearing) {
        if (requests < 0) {
            throw new IllegalArgumentException("crash point must not be negative: " + requests);
        }
        if (crashed) {
            throw new IllegalStateException("these verbs have crashed already");
        }
        allowed = requests;
        tear = tearing;
    }

    /** Removes the crash point (a crash that happened stays). */
    public synchronized void disarm() {
        allowed = Long.MAX_VALUE;
        tear = null;
    }

    public synchronized boolean crashed() {
        return crashed;
    }

    /** Requests that took effect so far. */
    public synchronized long issued() {
        return issued;
    }

    /** Starts keeping a trace of the requests that take effect (clearing an earlier one), or stops. */
    public synchronized void trace(boolean on) {
        trace = on ? new ArrayList<>() : null;
    }

    /** The requests that took effect since {@link #trace(boolean) trace(true)}. */
    public synchronized List<Request> traced() {
        return trace == null ? List.of() : List.copyOf(trace);
    }

    private CrashedException refused() {
        return new CrashedException("compute node stopped by fault injection after " + issued + " requests");
    }

    /** True when the next request may take effect; false at the crash point (which it then marks). */
    private boolean admit(VerbKind kind, long address, int length) {
        if (crashed) {
            throw refused();
        }
        if (allowed == 0) {
            crashed = true;
            return false;
        }
        if (allowed != Long.MAX_VALUE) {
            allowed--;
        }
        issued++;
        if (trace != null) {
            trace.add(new Request(kind, address, length));
        }
        return true;
    }

    @Override
    public synchronized void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        if (!admit(VerbKind.READ, address, length)) {
            throw refused();
        }
        inner.read(address, dst, dstOffset, length);
    }

    @Override
    public synchronized void write(long address, DirectBuffer src, int srcOffset, int length) {
        if (!admit(VerbKind.WRITE, address, length)) {
            tearWrite(address, src, srcOffset, length);
            throw refused();
        }
        inner.write(address, src, srcOffset, length);
    }

    @Override
    public synchronized long cas(long address, long expected, long desired) {
        if (!admit(VerbKind.CAS, address, Long.BYTES)) {
            throw refused();
        }
        return inner.cas(address, expected, desired);
    }

    @Override
    public synchronized long faa(long address, long delta) {
        if (!admit(VerbKind.FAA, address, Long.BYTES)) {
            throw refused();
        }
        return inner.faa(address, delta);
    }

    @Override
    public synchronized void post(VerbBatch batch) {
        if (crashed) {
            throw refused();
        }
        int n = batch.size();
        if (allowed >= n) {
            if (allowed != Long.MAX_VALUE) {
                allowed -= n;
            }
            inner.post(batch);
            issued += n;
            if (trace != null) {
                for (int i = 0; i < n; i++) {
                    trace.add(new Request(batch.kind(i), batch.address(i), batch.length(i)));
                }
            }
            return;
        }
        // the crash point lies inside the batch: its first requests land, in order, one by one
        for (int i = 0; i < n; i++) {
            VerbKind kind = batch.kind(i);
            long address = batch.address(i);
            if (!admit(kind, address, batch.length(i))) {
                if (kind == VerbKind.WRITE) {
                    tearWrite(address, batch.writeBuffer(i), batch.bufferOffset(i), batch.length(i));
                }
                throw refused();
            }
            switch (kind) {
                case READ -> inner.read(address, batch.readBuffer(i), batch.bufferOffset(i), batch.length(i));
                case WRITE -> inner.write(address, batch.writeBuffer(i), batch.bufferOffset(i), batch.length(i));
                case CAS -> batch.setResult(i, inner.cas(address, batch.operand1(i), batch.operand2(i)));
                case FAA -> batch.setResult(i, inner.faa(address, batch.operand1(i)));
            }
        }
        throw new IllegalStateException("crash point inside a batch was not reached");
    }

    /** At a torn crash point: lands a strict, non-empty subset of the WRITE's cache lines. */
    private void tearWrite(long address, DirectBuffer src, int srcOffset, int length) {
        if (tear == null) {
            return;
        }
        int lines = new Request(VerbKind.WRITE, address, length).cacheLines();
        if (lines < 2) {
            return;
        }
        boolean[] land = new boolean[lines];
        int landing = 0;
        for (int i = 0; i < lines; i++) {
            land[i] = tear.nextBoolean();
            landing += land[i] ? 1 : 0;
        }
        if (landing == 0) {
            land[tear.nextInt(lines)] = true;
        } else if (landing == lines) {
            land[tear.nextInt(lines)] = false;
        }
        long start = GlobalAddress.offset(address);
        long end = start + length;
        int mn = GlobalAddress.memoryNode(address);
        long lineStart = start / CACHE_LINE * CACHE_LINE;
        for (int i = 0; i < lines; i++, lineStart += CACHE_LINE) {
            if (!land[i]) {
                continue;
            }
            long from = Math.max(start, lineStart);
            long to = Math.min(end, lineStart + CACHE_LINE);
            inner.write(GlobalAddress.of(mn, from), src, srcOffset + (int) (from - start), (int) (to - from));
        }
    }

    @Override
    public int memoryNodeCount() {
        return inner.memoryNodeCount();
    }

    @Override
    public VerbCounters counters(int mn) {
        return inner.counters(mn);
    }

    @Override
    public void close() {
        inner.close();
    }
}
