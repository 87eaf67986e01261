package io.dmtree.lock.recovery;

import io.dmtree.core.memory.FencedException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbCounters;
import io.dmtree.core.memory.VerbKind;
import io.dmtree.core.memory.Verbs;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A compute node's verbs that can be fenced from outside, standing in for fencing in tests and
 * benchmarks of lock recovery (every memory node refusing a lapsed member's verbs): after
 * {@link #fence()} returns, no verb of this node takes effect any more (each throws {@link FencedException}, as a carrier's fenced verb does).
 * A crash point ({@link #crashAfter}) fences the node by itself just before its n-th next request,
 * so it stops between any two verbs, also partway through a batch (batches then run request by
 * request, in order, and the requests before the crash point take effect).
 */
public final class FenceableVerbs implements Verbs {
    private final Verbs inner;
    private final int computeNode;
    private final long epoch;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong countdown = new AtomicLong(-1);
    private final AtomicLong requests = new AtomicLong();
    private volatile boolean fenced;
    private volatile Runnable onCrash = () -> { };

    public FenceableVerbs(Verbs inner, int computeNode) {
        this(inner, computeNode, 0);
    }

    /** Verbs of incarnation {@code epoch} of {@code computeNode}, named in the refusals. */
    public FenceableVerbs(Verbs inner, int computeNode, long epoch) {
        this.inner = inner;
        this.computeNode = computeNode;
        this.epoch = epoch;
    }

    /** Fences after {@code requests} more requests have taken effect; then runs {@code onCrash} once. */
    public void crashAfter(long requests, Runnable onCrash) {
        this.onCrash = onCrash;
        countdown.set(requests);
    }

    public boolean fenced() {
        return fenced;
    }

    /** From now on every verb fails; returns once no verb of this node is in flight. */
    public void fence() {
        fenced = true;
        while (inFlight.get() > 0) {
            Thread.onSpinWait();
        }
    }

    /** Requests this node has issued (taken effect or refused). */
    public long requests() {
        return requests.get();
    }

    private void enter() {
        requests.incrementAndGet();
        inFlight.incrementAndGet();
        if (fenced) {
            inFlight.decrementAndGet();
            throw refused();
        }
        if (countdown.get() >= 0 && countdown.getAndDecrement() == 0) {
            inFlight.decrementAndGet();
            fenced = true;
            Runnable r = onCrash;
            onCrash = () -> { };
            r.run();
            throw refused();
        }
    }

    /** What a carrier's memory node answers a fenced incarnation (tcp's FENCED), whatever this node knows yet. */
    private FencedException refused() {
        return new FencedException(computeNode, epoch, "the memory nodes refuse its verbs");
    }

    private void exit() {
        inFlight.decrementAndGet();
    }

    @Override
    public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        enter();
        try {
            inner.read(address, dst, dstOffset, length);
        } finally {
            exit();
        }
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        enter();
        try {
            inner.write(address, src, srcOffset, length);
        } finally {
            exit();
        }
    }

    @Override
    public long cas(long address, long expected, long desired) {
        enter();
        try {
            return inner.cas(address, expected, desired);
        } finally {
            exit();
        }
    }

    @Override
    public long faa(long address, long delta) {
        enter();
        try {
            return inner.faa(address, delta);
        } finally {
            exit();
        }
    }

    @Override
    public void post(VerbBatch batch) {
        if (countdown.get() < 0) {
            enter();
            try {
                inner.post(batch);
            } finally {
                exit();
            }
            return;
        }
        for (int i = 0; i < batch.size(); i++) { // request by request, so a crash point may cut the batch
            VerbKind k = batch.kind(i);
            switch (k) {
                case READ -> read(batch.address(i), batch.readBuffer(i), batch.bufferOffset(i), batch.length(i));
                case WRITE -> write(batch.address(i), batch.writeBuffer(i), batch.bufferOffset(i), batch.length(i));
                case CAS -> batch.setResult(i, cas(batch.address(i), batch.operand1(i), batch.operand2(i)));
                case FAA -> batch.setResult(i, faa(batch.address(i), batch.operand1(i)));
                default -> throw new IllegalStateException("unknown verb " + k);
            }
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
