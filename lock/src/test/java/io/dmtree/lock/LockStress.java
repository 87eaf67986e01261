package io.dmtree.lock;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Seeded random stress of one lock design on several logical compute nodes: every critical
 * section checks the mode invariants on entry and bumps a plain (non-atomic) counter with a
 * read-yield-write, so any overlap of exclusive holders loses an increment.
 */
final class LockStress {
    /** Per-lock state shared by all test threads. */
    static final class Guard {
        final AtomicInteger exclusiveIn = new AtomicInteger();
        final AtomicInteger sharedIn = new AtomicInteger();
        final AtomicInteger maxShared = new AtomicInteger();
        final AtomicLong exclusiveAcquires = new AtomicLong();
        final AtomicLong sharedAcquires = new AtomicLong();
        long counter; // guarded by the lock under test only
        volatile long sharedSeen;
    }

    record Result(long seed, long operations, Guard[] guards, String failure) {
        long maxSharedOverlap() {
            int m = 0;
            for (Guard g : guards) {
                m = Math.max(m, g.maxShared.get());
            }
            return m;
        }
    }

    static Result run(LockDesign design, long seed, int memoryNodes, int cns, int threadsPerCn, int locks,
                      double sharedRatio, long millis) throws Exception {
        System.out.printf("lock stress %s seed=%d cns=%d threads/cn=%d locks=%d shared=%.2f millis=%d%n",
                design.name(), seed, cns, threadsPerCn, locks, sharedRatio, millis);
        try (LockTestCluster cluster = new LockTestCluster(design, memoryNodes, cns, threadsPerCn + 2)) {
            Guard[] guards = new Guard[locks];
            for (int i = 0; i < locks; i++) {
                guards[i] = new Guard();
            }
            AtomicReference<String> failure = new AtomicReference<>();
            AtomicLong ops = new AtomicLong();
            CyclicBarrier start = new CyclicBarrier(cns * threadsPerCn);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            List<Thread> threads = new ArrayList<>();
            SplittableRandom root = new SplittableRandom(seed);
            for (int cn = 0; cn < cns; cn++) {
                for (int t = 0; t < threadsPerCn; t++) {
                    LockClient client = cluster.client(cn);
                    SplittableRandom rnd = root.split();
                    String name = "cn" + cn + "-t" + t;
                    Thread th = new Thread(() -> {
                        try {
                            start.await();
                            long n = 0;
                            while (System.nanoTime() < deadline && failure.get() == null) {
                                int li = rnd.nextInt(locks);
                                LockMode mode = rnd.nextDouble() < sharedRatio ? LockMode.SHARED : LockMode.EXCLUSIVE;
                                long lock = cluster.lock(li);
                                client.acquire(lock, mode);
                                critical(guards[li], mode, rnd, failure, name);
                                client.release(lock, mode, null);
                                n++;
                            }
                            ops.addAndGet(n);
                        } catch (Throwable e) {
                            failure.compareAndSet(null, name + ": " + e);
                            e.printStackTrace();
                        }
                    }, name);
                    th.setDaemon(true);
                    threads.add(th);
                    th.start();
                }
            }
            for (Thread th : threads) {
                th.join(millis + 60_000);
                if (th.isAlive()) {
                    failure.compareAndSet(null, "thread " + th.getName() + " still running 60 s after the deadline"
                            + " (deadlock or lost grant)");
                }
            }
            for (int i = 0; i < locks && failure.get() == null; i++) {
                Guard g = guards[i];
                if (g.counter != g.exclusiveAcquires.get()) {
                    failure.set("lock " + i + ": protected counter " + g.counter + " != exclusive acquisitions "
                            + g.exclusiveAcquires.get() + " (mutual exclusion broken)");
                }
            }
            return new Result(seed, ops.get(), guards, failure.get());
        }
    }

    static void critical(Guard g, LockMode mode, SplittableRandom rnd, AtomicReference<String> failure,
                                 String who) {
        critical(g, mode, rnd, failure, who, null);
    }

    /**
     * The critical section; {@code during} (may be null) runs inside it, while the holder is
     * counted in, so a long hold is checked against every holder that enters meanwhile.
     */
    static void critical(Guard g, LockMode mode, SplittableRandom rnd, AtomicReference<String> failure,
                         String who, Runnable during) {
        if (mode == LockMode.EXCLUSIVE) {
            int x = g.exclusiveIn.incrementAndGet();
            int s = g.sharedIn.get();
            if (x != 1 || s != 0) {
                failure.compareAndSet(null, who + ": exclusive holder found " + x + " exclusive, " + s + " shared inside");
            }
            long c = g.counter;
            if (rnd.nextInt(4) == 0) {
                Thread.yield();
            }
            if (during != null) {
                during.run();
            }
            g.counter = c + 1;
            g.exclusiveAcquires.incrementAndGet();
            g.exclusiveIn.decrementAndGet();
        } else {
            int s = g.sharedIn.incrementAndGet();
            g.maxShared.accumulateAndGet(s, Math::max);
            int x = g.exclusiveIn.get();
            if (x != 0) {
                failure.compareAndSet(null, who + ": shared holder found " + x + " exclusive inside");
            }
            long c = g.counter;
            if (rnd.nextInt(2) == 0) {
                Thread.yield();
            }
            if (during != null) {
                during.run();
            }
            if (g.counter != c) {
                failure.compareAndSet(null, who + ": protected counter changed under a shared hold");
            }
            g.sharedSeen = c;
            g.sharedAcquires.incrementAndGet();
            g.sharedIn.decrementAndGet();
        }
    }

    private LockStress() {
    }
}
