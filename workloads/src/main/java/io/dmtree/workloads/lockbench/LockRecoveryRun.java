package io.dmtree.workloads.lockbench;

import io.dmtree.core.cn.CnThreads;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.lock.HostMemory;
import io.dmtree.core.lock.HostMemoryContext;
import io.dmtree.core.lock.InProcessMemberLiveness;
import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.LockTable;
import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.ModelledLatencyVerbs;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.InJvmMessageBus;
import io.dmtree.lock.recovery.FenceableMessaging;
import io.dmtree.lock.recovery.FenceableVerbs;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.carrier.local.LocalVerbs;
import io.dmtree.mn.carrier.local.RegionHostMemory;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One trial of the lock recovery benchmark: one memory node and three logical compute nodes in
 * this JVM (local carrier, optionally with a modelled round trip), with the memory node's default
 * lock table, which recovery scans whole. Compute node 2 takes {@code held}
 * locks exclusively; on each, one live waiter from compute node 0 or 1 queues. Then compute node 2
 * stops: its verbs and messages fail from then on (as fencing makes them) and it is reported
 * departed; at that instant the clock starts and compute node 0 runs the design's recovery. Each
 * held lock's sample is the time until its waiter is granted. Membership's own detection of the
 * departure (the lease) comes before this and is not part of it.
 */
final class LockRecoveryRun {
    /** The memory node's default lock table: recovery scans all of it. */
    private static final long LOCK_TABLE_BYTES = MemoryNodeConfig.DEFAULT_LOCK_TABLE_BYTES;
    private static final long BOUND_MILLIS = 30_000;
    private static final int VICTIM = 2;
    private static final int CNS = 3;

    /** Samples of one trial: grant times after the stop, and the recovery call's duration. */
    record Trial(long[] grantNanos, long recoveryNanos, RecoveryReport report) {
    }

    private record Node(int computeNode, int computeNodeCount, Verbs verbs, CnMessaging messaging, CnThreads threads,
                        int hostMemoryNode, HostMemory hostMemory, MemberLiveness liveness) implements HostMemoryContext {
    }

    private LockRecoveryRun() {
    }

    static Trial trial(LockDesign design, int held, long modelledRttNanos) throws Exception {
        MemoryNodeConfig cfg = new MemoryNodeConfig(MemoryNodeConfig.regionBytesFor(1, 1 << 20, LOCK_TABLE_BYTES), 1 << 20,
                LOCK_TABLE_BYTES);
        try (MemoryNode mn = new MemoryNode(0, cfg)) {
            LockTable table = new LockTable(RegionLayout.LOCK_TABLE_START, LOCK_TABLE_BYTES, design.lockBytes());
            if (held > table.slots()) {
                throw new IllegalArgumentException(held + " locks of " + design.name() + " do not fit the lock table");
            }
            InProcessMemberLiveness liveness = new InProcessMemberLiveness(CNS);
            InJvmMessageBus bus = new InJvmMessageBus();
            List<FenceableVerbs> verbs = new ArrayList<>();
            List<FenceableMessaging> messaging = new ArrayList<>();
            List<LockClient> clients = new ArrayList<>();
            for (int cn = 0; cn < CNS; cn++) {
                Verbs v = LocalVerbs.counted(List.of(mn));
                if (modelledRttNanos > 0) {
                    v = new ModelledLatencyVerbs(v, modelledRttNanos);
                }
                FenceableVerbs fv = new FenceableVerbs(v, cn);
                FenceableMessaging fm = new FenceableMessaging(bus.join());
                verbs.add(fv);
                messaging.add(fm);
                clients.add(design.newClient(new Node(cn, CNS, fv, fm, new CnThreads(held + 8), cn == 0 ? 0 : -1,
                        cn == 0 ? new RegionHostMemory(mn.region()) : null, liveness)));
            }
            try {
                return run(design, held, table, liveness, verbs, messaging, clients);
            } finally {
                for (LockClient c : clients) {
                    c.close();
                }
            }
        }
    }

    private static Trial run(LockDesign design, int held, LockTable table, InProcessMemberLiveness liveness,
                             List<FenceableVerbs> verbs, List<FenceableMessaging> messaging, List<LockClient> clients)
            throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch end = new CountDownLatch(1);
        Thread victim = new Thread(() -> {
            try {
                for (int i = 0; i < held; i++) {
                    clients.get(VICTIM).acquire(table.lockAt(0, i), LockMode.EXCLUSIVE);
                }
                holding.countDown();
                end.await(); // stopped dead: never releases
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
                holding.countDown();
            }
        }, "recovery-bench-victim");
        victim.setDaemon(true);
        victim.start();
        if (!holding.await(BOUND_MILLIS, TimeUnit.MILLISECONDS) || failure.get() != null) {
            throw new IllegalStateException("the victim did not take its " + held + " locks", failure.get());
        }
        long[] grants = new long[held];
        long[] stop = new long[1];
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        List<Thread> waiters = new ArrayList<>();
        for (int i = 0; i < held; i++) {
            int lockIndex = i;
            LockClient c = clients.get(i % 2);
            Thread w = new Thread(() -> {
                long lock = table.lockAt(0, lockIndex);
                try {
                    started.incrementAndGet();
                    c.acquire(lock, LockMode.EXCLUSIVE);
                    long t = System.nanoTime();
                    stopped.await();
                    grants[lockIndex] = t - stop[0];
                    c.release(lock, LockMode.EXCLUSIVE, null);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "recovery-bench-waiter-" + i);
            w.setDaemon(true);
            waiters.add(w);
            w.start();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BOUND_MILLIS);
        while (started.get() < held) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("waiters did not start");
            }
            Thread.sleep(1);
        }
        Thread.sleep(20 + held / 5); // every waiter has queued (FAA and entry, link message, or CAS retries)

        verbs.get(VICTIM).fence();
        messaging.get(VICTIM).fence();
        liveness.depart(VICTIM);
        stop[0] = System.nanoTime();
        stopped.countDown();
        RecoveryReport report = design.recover(RecoveryContext.of(clients.get(0), table, 1), VICTIM);
        long recoveryNanos = System.nanoTime() - stop[0];
        for (Thread w : waiters) {
            w.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (w.isAlive()) {
                throw new IllegalStateException(w.getName() + " was not granted within " + BOUND_MILLIS + " ms of the stop");
            }
        }
        end.countDown();
        victim.interrupt();
        if (failure.get() != null) {
            throw new IllegalStateException("a waiter failed: " + failure.get(), failure.get());
        }
        return new Trial(grants, recoveryNanos, report);
    }

    /** Percentiles of recovery samples in microseconds. */
    record Summary(String design, int held, long samples, int trials, double p50Micros, double p99Micros,
                   double maxMicros, double meanRecoveryCallMicros) {
    }

    static Summary measure(LockDesign design, int held, int minSamples, long modelledRttNanos) throws Exception {
        Histogram h = new Histogram(60_000_000_000L, 3);
        int trials = Math.max(1, (minSamples + held - 1) / held);
        long recoverySum = 0;
        for (int t = 0; t < trials; t++) {
            Trial r = trial(design, held, modelledRttNanos);
            for (long g : r.grantNanos()) {
                h.recordValue(Math.max(1, g));
            }
            recoverySum += r.recoveryNanos();
        }
        return new Summary(design.name(), held, h.getTotalCount(), trials, h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(99) / 1e3, h.getMaxValue() / 1e3, recoverySum / 1e3 / trials);
    }
}
