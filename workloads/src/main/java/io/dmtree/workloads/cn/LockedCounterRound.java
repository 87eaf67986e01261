package io.dmtree.workloads.cn;

import io.dmtree.workloads.run.BoundedThreads;

import io.dmtree.cn.LockedCounter;
import io.dmtree.cn.control.BarrierRelease;
import io.dmtree.cn.control.RemoteComputeNode;

import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The locked-counter check of a multi-process run ({@code dmtree cn --locked-counter N}): after
 * the measured run phase, every thread of every compute node of the run increments one shared
 * {@link LockedCounter} {@code N} times under the run's lock design, and the reporting compute
 * node checks that the counter is exactly the number of increments. The lowest-numbered member
 * allocates the counter and hands its address to the others at a barrier of the run. With the
 * {@code modular} lock, a lock released on one compute node is granted to a waiter on another by
 * a CN message, so the check covers grants crossing processes and hosts; a lost or doubled grant
 * shows as a wrong count (or, for a lost grant, as an acquire that times out).
 */
public final class LockedCounterRound {
    private final RemoteComputeNode node;
    private final int threads;
    private final int perThread;
    private LockedCounter counter;

    public LockedCounterRound(RemoteComputeNode node, int threads, int perThread) {
        if (threads < 1 || perThread < 1) {
            throw new IllegalArgumentException("threads and increments per thread must be positive");
        }
        this.node = node;
        this.threads = threads;
        this.perThread = perThread;
    }

    /**
     * Agrees on the counter with the other members: {@code meet} is the run's member barrier
     * (payload in, release out); the lowest-numbered member's word is used by all.
     */
    public void share(Set<Integer> members, Function<byte[], BarrierRelease> meet) {
        int first = members.stream().min(Integer::compare).orElseThrow();
        byte[] offer = new byte[8];
        if (first == node.id()) {
            ByteBuffer.wrap(offer).putLong(LockedCounter.allocateWord(node.cluster().chunkSource(), 0));
        }
        BarrierRelease r = meet.apply(offer);
        byte[] word = r.arrivals().get(first);
        if (word == null || word.length != 8) {
            throw new IllegalStateException("compute node " + first + ", which allocates the locked counter, left the run"
                    + " before handing it over");
        }
        counter = new LockedCounter(node.computeNode(), node.cluster().chunkSource(), ByteBuffer.wrap(word).getLong());
    }

    /** Runs this compute node's increments on {@link #threads} threads; returns how many it made. */
    public long run(int timeoutSeconds) throws InterruptedException {
        if (counter == null) {
            throw new IllegalStateException("share the counter first");
        }
        Throwable failed = BoundedThreads.run(threads, "dmtree-cn" + node.id() + "-counter", timeoutSeconds,
                "its " + perThread + " increments (a lock grant lost?)", t -> {
                    LockedCounter.Incrementer inc = counter.incrementer();
                    for (int i = 0; i < perThread; i++) {
                        inc.increment();
                    }
                });
        if (failed != null) {
            throw new IllegalStateException("locked counter: an increment failed: " + failed.getMessage(), failed);
        }
        return (long) threads * perThread;
    }

    /**
     * The reporter's verdict once every member made its increments: {@code arrived} members took
     * part and none left. Returns the line to print; {@link Verdict#exact} says whether it passed.
     */
    public Verdict verify(int arrived, Set<Integer> departed) {
        long expected = (long) arrived * threads * perThread;
        long value = counter.read();
        if (!departed.isEmpty()) {
            return new Verdict(true, String.format(Locale.ROOT, "locked counter: %,d (not checked: compute node(s) %s left"
                    + " during the run)", value, departed));
        }
        boolean exact = value == expected;
        return new Verdict(exact, String.format(Locale.ROOT, "locked counter: %,d of %,d increments (%d compute nodes x %d"
                        + " threads x %,d under lock %s) %s", value, expected, arrived, threads, perThread,
                node.computeNode().lockDesign().name(), exact ? "exact" : "WRONG: the lock let holders overlap"));
    }

    /** The outcome of {@link #verify}: passed or not, and the line saying so. */
    public record Verdict(boolean exact, String line) {
    }
}
