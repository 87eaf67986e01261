package io.dmtree.lock;

import io.dmtree.core.lock.LapsedMemberException;
import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.RecoveryReport;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A compute node that stops dead, and the recovery of its locks, under seeded random load: the
 * last compute node is the victim. It either holds {@code held} locks and waits on {@code queued}
 * others when it is stopped ({@link Crash#HOLDING}), or runs the same random load as the others and
 * stops by itself just before its n-th next memory-node request, n drawn from the seed, anywhere
 * in the lock protocol, also partway through a batch ({@link Crash#AT_VERB}). Stopping is what
 * fencing does to a member: its verbs and messages fail from then on. The test keeps the victim's
 * threads out of critical sections from the stop on (they take no effect, as a dead process), then
 * reports it departed and runs the design's recovery on compute node 0, while the other compute
 * nodes keep going. Every critical section bumps a plain counter ({@link LockStress#critical}), so
 * two exclusive holders at once lose an increment; afterwards every lock must be acquirable and
 * every counter exact. Every wait of the test is bounded; a thread still running past its bound is
 * reported with its stack.
 */
final class CrashRecoveryStress {
    enum Crash { HOLDING, AT_VERB }

    /**
     * @param held          locks the victim holds when stopped ({@link Crash#HOLDING})
     * @param queued        locks the victim waits on when stopped, each held by a live blocker
     * @param freeLocks     further locks in the load
     * @param millisBefore  load before the stop
     * @param millisAfter   load after the stop
     * @param blockerFirst  the blocker releases (granting the victim's dead waiters) before recovery
     *                      starts, else while it runs
     */
    record Plan(int memoryNodes, int cns, int threadsPerCn, int held, int queued, int freeLocks, double sharedRatio,
                long millisBefore, long millisAfter, Crash crash, boolean blockerFirst) {
        int locks() {
            return held + queued + freeLocks;
        }
    }

    /**
     * @param grantNanos per lock the victim held: from the stop to the first grant of it to a live
     *                   thread (-1: not within the load; the final pass still acquired it)
     */
    record Result(long seed, String failure, RecoveryReport report, long[] grantNanos, long operations,
                  long crashRequest) {
    }

    private static final long BOUND_MILLIS = 30_000;
    private static final Runnable LONG_HOLD = () -> java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);

    static Result run(LockDesign design, long seed, Plan plan) throws Exception {
        System.out.printf("crash recovery %s seed=%d %s%n", design.name(), seed, plan);
        SplittableRandom root = new SplittableRandom(seed);
        int victim = plan.cns() - 1;
        int locks = plan.locks();
        try (LockTestCluster cluster = new LockTestCluster(design, plan.memoryNodes(), plan.cns(),
                plan.threadsPerCn() + plan.queued() + 4)) {
            LockStress.Guard[] guards = new LockStress.Guard[locks];
            for (int i = 0; i < locks; i++) {
                guards[i] = new LockStress.Guard();
            }
            AtomicReference<String> failure = new AtomicReference<>();
            AtomicLongArray firstGrant = new AtomicLongArray(locks);
            AtomicLong killNanos = new AtomicLong();
            AtomicLong stopAt = new AtomicLong(Long.MAX_VALUE);
            AtomicLong ops = new AtomicLong();
            AtomicInteger victimInCs = new AtomicInteger();
            AtomicInteger victimDead = new AtomicInteger();
            List<Thread> live = new ArrayList<>();
            List<Thread> victims = new ArrayList<>();
            List<Thread> preWaiters = new ArrayList<>();
            CountDownLatch stopVictim = new CountDownLatch(1);

            // the victim's critical sections pass a gate the stop closes (a dead process runs none)
            final class Gate {
                boolean enter() {
                    victimInCs.incrementAndGet();
                    if (victimDead.get() != 0) {
                        victimInCs.decrementAndGet();
                        return false;
                    }
                    return true;
                }

                void exit() {
                    victimInCs.decrementAndGet();
                }
            }
            Gate gate = new Gate();

            // load threads; the victim's run the same loop through the gate when crashing at a verb
            for (int cn = 0; cn < plan.cns(); cn++) {
                boolean isVictim = cn == victim;
                if (isVictim && plan.crash() == Crash.HOLDING) {
                    continue;
                }
                for (int t = 0; t < plan.threadsPerCn(); t++) {
                    LockClient client = cluster.client(cn);
                    SplittableRandom rnd = root.split();
                    String name = "crash-cn" + cn + "-t" + t;
                    Thread th = new Thread(() -> {
                        long n = 0;
                        try {
                            while (System.nanoTime() < stopAt.get() && failure.get() == null) {
                                int li = rnd.nextInt(locks);
                                LockMode mode = rnd.nextDouble() < plan.sharedRatio() ? LockMode.SHARED : LockMode.EXCLUSIVE;
                                long lock = cluster.lock(li);
                                client.acquire(lock, mode);
                                if (isVictim) {
                                    if (!gate.enter()) {
                                        return; // dead: never runs its critical section or releases
                                    }
                                    LockStress.critical(guards[li], mode, rnd, failure, name);
                                    gate.exit();
                                } else {
                                    long k = killNanos.get();
                                    if (k != 0) {
                                        firstGrant.compareAndSet(li, 0, System.nanoTime() - k);
                                    }
                                    // now and then a longer hold, so an overlap with a wrongly granted holder shows
                                    LockStress.critical(guards[li], mode, rnd, failure, name,
                                            rnd.nextInt(32) == 0 ? LONG_HOLD : null);
                                }
                                client.release(lock, mode, null);
                                n++;
                            }
                        } catch (Throwable e) {
                            if (!isVictim) {
                                failure.compareAndSet(null, name + ": " + e);
                                e.printStackTrace();
                            }
                        } finally {
                            ops.addAndGet(n);
                        }
                    }, name);
                    th.setDaemon(true);
                    (isVictim ? victims : live).add(th);
                }
            }

            CountDownLatch crashed = new CountDownLatch(1);
            long crashRequest = -1;
            CountDownLatch releaseBlocker = new CountDownLatch(1);
            Thread blocker = null;
            if (plan.crash() == Crash.HOLDING) {
                blocker = holdAndQueue(cluster, plan, guards, root, failure, victims, preWaiters, stopVictim, releaseBlocker);
            } else {
                crashRequest = root.nextLong(400);
                cluster.fenceableVerbs.get(victim).crashAfter(crashRequest, crashed::countDown);
            }
            for (Thread t : live) {
                t.start();
            }
            if (plan.crash() == Crash.AT_VERB) {
                for (Thread t : victims) {
                    t.start();
                }
            }
            Thread.sleep(plan.millisBefore());
            if (plan.crash() == Crash.AT_VERB) {
                crashed.await(BOUND_MILLIS, TimeUnit.MILLISECONDS); // the stop comes at its verb, or is forced now
            }

            // the stop: no victim critical section from now on; no victim verb takes effect; departed
            victimDead.set(1);
            long spinDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BOUND_MILLIS);
            while (victimInCs.get() > 0) {
                if (System.nanoTime() > spinDeadline) {
                    return fail(seed, "a victim thread stayed in its critical section " + BOUND_MILLIS + " ms", plan);
                }
                Thread.onSpinWait();
            }
            cluster.fence(victim);
            killNanos.set(System.nanoTime());
            cluster.depart(victim);
            boolean blockerFirst = plan.blockerFirst();
            if (blocker != null && blockerFirst) {
                releaseBlocker.countDown(); // grants go to the victim's dead waiters before recovery starts
            }
            AtomicReference<RecoveryReport> report = new AtomicReference<>();
            Thread recovery = new Thread(() -> {
                try {
                    report.set(cluster.recover(0, victim));
                } catch (Throwable e) {
                    failure.compareAndSet(null, "recovery: " + e);
                    e.printStackTrace();
                }
            }, "crash-recovery");
            recovery.setDaemon(true);
            recovery.start();
            if (blocker != null && !blockerFirst) {
                Thread.sleep(30);
                releaseBlocker.countDown(); // recovery has been waiting on the victim's queued requests meanwhile
            }
            stopAt.set(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(plan.millisAfter()));
            recovery.join(BOUND_MILLIS);
            if (recovery.isAlive()) {
                failure.compareAndSet(null, "recovery still running " + BOUND_MILLIS + " ms after the stop\n" + stacks());
            }
            for (Thread t : live) {
                t.join(plan.millisAfter() + BOUND_MILLIS);
                if (t.isAlive()) {
                    failure.compareAndSet(null, t.getName() + " still running " + BOUND_MILLIS
                            + " ms after the load ended (a wait that never ends)\n" + stacks());
                }
            }
            if (blocker != null) {
                blocker.join(BOUND_MILLIS);
                if (blocker.isAlive()) {
                    failure.compareAndSet(null, "the blocker never released\n" + stacks());
                }
            }
            for (Thread p : preWaiters) {
                p.join(BOUND_MILLIS);
                if (p.isAlive()) {
                    failure.compareAndSet(null, p.getName() + " was never granted\n" + stacks());
                }
            }
            if (failure.get() == null) {
                finalPass(cluster, guards, failure, locks);
            }
            for (int i = 0; i < locks && failure.get() == null; i++) {
                LockStress.Guard g = guards[i];
                if (g.counter != g.exclusiveAcquires.get()) {
                    failure.set("lock " + i + ": protected counter " + g.counter + " != exclusive acquisitions "
                            + g.exclusiveAcquires.get() + " (mutual exclusion broken)");
                }
            }
            stopVictim.countDown();
            for (Thread v : victims) {
                v.interrupt();
            }
            long[] grants = new long[plan.crash() == Crash.HOLDING ? plan.held() : 0];
            for (int i = 0; i < grants.length; i++) {
                long g = firstGrant.get(i);
                grants[i] = g == 0 ? -1 : g;
            }
            if (report.get() != null) {
                System.out.println("  " + report.get());
            }
            return new Result(seed, failure.get(), report.get(), grants, ops.get(), crashRequest);
        }
    }

    /**
     * The victim's holds and waits before a {@link Crash#HOLDING} stop: a live blocker on CN 0 takes
     * the {@code queued} locks and holds them inside their critical sections, one victim thread takes
     * the {@code held} locks (modes from the seed), and on each queued lock a live waiter on CN 1 and
     * then one victim thread queue behind the blocker; returns once each has reached the memory node.
     * The blocker releases when {@code release} opens.
     */
    private static Thread holdAndQueue(LockTestCluster cluster, Plan plan, LockStress.Guard[] guards,
                                       SplittableRandom root, AtomicReference<String> failure, List<Thread> victims,
                                       List<Thread> preWaiters, CountDownLatch stopVictim, CountDownLatch release)
            throws Exception {
        int victim = plan.cns() - 1;
        CountDownLatch blocking = new CountDownLatch(1);
        SplittableRandom br = root.split();
        Thread blocker = new Thread(() -> {
            LockClient c = cluster.client(0);
            try {
                hold(c, cluster, guards, plan.held(), plan.queued(), br, failure, blocking, release);
            } catch (Throwable e) {
                failure.compareAndSet(null, "blocker: " + e);
                e.printStackTrace();
            }
        }, "crash-blocker");
        blocker.setDaemon(true);
        blocker.start();
        if (!blocking.await(BOUND_MILLIS, TimeUnit.MILLISECONDS)) {
            throw new AssertionError("blocker never took its locks");
        }
        LockMode[] modes = new LockMode[plan.held()];
        for (int i = 0; i < modes.length; i++) {
            modes[i] = root.nextDouble() < plan.sharedRatio() ? LockMode.SHARED : LockMode.EXCLUSIVE;
        }
        CountDownLatch holding = new CountDownLatch(1);
        SplittableRandom vr = root.split();
        Thread holder = new Thread(() -> {
            LockClient c = cluster.client(victim);
            try {
                for (int i = 0; i < plan.held(); i++) {
                    c.acquire(cluster.lock(i), modes[i]);
                    LockStress.critical(guards[i], modes[i], vr, failure, "victim-holder");
                }
                holding.countDown();
                stopVictim.await(); // stopped dead: holds its locks, never releases
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable e) {
                failure.compareAndSet(null, "victim holder before the stop: " + e);
            }
        }, "crash-victim-holder");
        holder.setDaemon(true);
        victims.add(holder);
        holder.start();
        if (!holding.await(BOUND_MILLIS, TimeUnit.MILLISECONDS)) {
            throw new AssertionError("victim never took its " + plan.held() + " locks: " + failure.get());
        }
        int words = cluster.design.lockBytes() / 8;
        for (int j = 0; j < plan.queued(); j++) {
            long lock = cluster.lock(plan.held() + j);
            if (plan.cns() > 2) {
                // a live waiter ahead of the victim's: recovery must not let it in while the blocker holds
                long[] pre = snapshot(cluster, lock, words);
                long preRequests = cluster.fenceableVerbs.get(1).requests();
                int gj = plan.held() + j;
                SplittableRandom pr = root.split();
                Thread p = new Thread(() -> {
                    try {
                        cluster.client(1).acquire(lock, LockMode.EXCLUSIVE);
                        LockStress.critical(guards[gj], LockMode.EXCLUSIVE, pr, failure, "pre-waiter-" + gj);
                        cluster.client(1).release(lock, LockMode.EXCLUSIVE, null);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, "pre-waiter: " + e);
                    }
                }, "crash-pre-waiter-" + j);
                p.setDaemon(true);
                preWaiters.add(p);
                p.start();
                awaitQueued(cluster, lock, words, pre, 1, preRequests, "live waiter " + j);
            }
            long[] before = snapshot(cluster, lock, words);
            long requestsBefore = cluster.fenceableVerbs.get(victim).requests();
            LockMode mode = root.nextDouble() < plan.sharedRatio() ? LockMode.SHARED : LockMode.EXCLUSIVE;
            Thread w = new Thread(() -> {
                try {
                    cluster.client(victim).acquire(lock, mode);
                    // granted: only possible after the stop (the blocker holds until then); it is dead, so it stops
                } catch (LapsedMemberException | io.dmtree.core.memory.RemoteAccessException | io.dmtree.core.memory.FencedException
                        | IllegalStateException e) {
                    // the stopped node learns it no longer is a member, or finds its verbs refused
                } catch (Throwable e) {
                    failure.compareAndSet(null, "victim waiter: " + e);
                }
            }, "crash-victim-waiter-" + j);
            w.setDaemon(true);
            victims.add(w);
            w.start();
            awaitQueued(cluster, lock, words, before, victim, requestsBefore, "victim waiter " + j);
        }
        Thread.sleep(20); // let the doorways finish (entry WRITE, link message)
        return blocker;
    }

    /**
     * The blocker: takes locks {@code from .. from+n-1} exclusively and holds each inside its
     * critical section until {@code release} opens, so any holder wrongly let in meanwhile is seen.
     */
    private static void hold(LockClient c, LockTestCluster cluster, LockStress.Guard[] guards, int from, int n,
                             SplittableRandom rnd, AtomicReference<String> failure, CountDownLatch holding,
                             CountDownLatch release) {
        if (n == 0) {
            holding.countDown();
            awaitOrFail(release, failure);
            return;
        }
        c.acquire(cluster.lock(from), LockMode.EXCLUSIVE);
        LockStress.critical(guards[from], LockMode.EXCLUSIVE, rnd, failure, "blocker",
                () -> hold(c, cluster, guards, from + 1, n - 1, rnd, failure, holding, release));
        c.release(cluster.lock(from), LockMode.EXCLUSIVE, null);
    }

    private static void awaitOrFail(CountDownLatch latch, AtomicReference<String> failure) {
        try {
            if (!latch.await(BOUND_MILLIS, TimeUnit.MILLISECONDS)) {
                failure.compareAndSet(null, "blocker: never told to release");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Returns once a waiter of compute node {@code cn} has queued: its doorway changed the lock's memory, or (CAS locks keep no queue) it has retried. */
    private static void awaitQueued(LockTestCluster cluster, long lock, int words, long[] before, int cn,
                                    long requestsBefore, String who) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BOUND_MILLIS);
        while (Arrays.equals(before, snapshot(cluster, lock, words))
                && cluster.fenceableVerbs.get(cn).requests() < requestsBefore + 2) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(who + " never reached the memory node");
            }
            Thread.sleep(1);
        }
        Thread.sleep(5); // let its doorway finish (entry WRITE, link message)
    }

    private static long[] snapshot(LockTestCluster c, long lock, int words) {
        long[] w = new long[words];
        for (int i = 0; i < words; i++) {
            w[i] = c.peek(io.dmtree.core.memory.GlobalAddress.plus(lock, 8L * i));
        }
        return w;
    }

    /** Every lock once more through a live node, each within the bound: none is left wedged. */
    private static void finalPass(LockTestCluster cluster, LockStress.Guard[] guards, AtomicReference<String> failure,
                                  int locks) throws InterruptedException {
        Thread pass = new Thread(() -> {
            SplittableRandom rnd = new SplittableRandom(1);
            LockClient c = cluster.client(0);
            for (int i = 0; i < locks && failure.get() == null; i++) {
                long lock = cluster.lock(i);
                c.acquire(lock, LockMode.EXCLUSIVE);
                LockStress.critical(guards[i], LockMode.EXCLUSIVE, rnd, failure, "final-pass");
                c.release(lock, LockMode.EXCLUSIVE, null);
            }
        }, "crash-final-pass");
        pass.setDaemon(true);
        pass.start();
        pass.join(BOUND_MILLIS);
        if (pass.isAlive()) {
            failure.compareAndSet(null, "a lock stayed wedged after recovery (final pass)\n" + stacks());
        }
    }

    private static Result fail(long seed, String why, Plan plan) {
        return new Result(seed, why + "\n" + stacks(), null, new long[0], 0, -1);
    }

    /** Stacks of this harness's threads, for a failure message. */
    static String stacks() {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            String n = e.getKey().getName();
            if (!n.startsWith("crash-") && !n.startsWith("lock-drain")) {
                continue;
            }
            b.append(n).append(" (").append(e.getKey().getState()).append(")\n");
            StackTraceElement[] st = e.getValue();
            for (int i = 0; i < Math.min(st.length, 14); i++) {
                b.append("    at ").append(st[i]).append('\n');
            }
        }
        return b.toString();
    }

    private CrashRecoveryStress() {
    }
}
