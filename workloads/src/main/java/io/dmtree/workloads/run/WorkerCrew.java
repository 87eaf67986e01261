package io.dmtree.workloads.run;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;

/**
 * A fixed set of worker threads that runs phases (load, run) one after another. In a phase every
 * worker runs the same task with its own index; all workers wait at a start gate, so the phase's
 * wall time runs from opening the gate to the last worker's finish.
 *
 * <p>Workers report progress through their {@link Tally}; the caller's thread moves the progress
 * bar. When a worker fails, the others see it at their next report and stop, and the phase rethrows
 * the first failure.
 *
 * <p>No phase waits without bound for a worker after a failure: a worker that failed may have left
 * a lock held or a hand-over half done, so another worker can be parked in a wait that nothing will
 * end (a lock wait of its own compute node, or on a memory node that is gone). Once the first
 * failure is seen, the others get {@link #stopGraceMillis()} to stop; those still running then
 * are abandoned (daemon threads, never reused: the crew is spent and refuses further phases), and
 * the phase throws the first failure with a note naming how many workers were abandoned and
 * where each was waiting.
 */
public final class WorkerCrew implements AutoCloseable {
    /** Longs between two workers' tally slots, so they do not share a cache line. */
    private static final int SLOT_STRIDE = 16;
    /** Default time the other workers get to stop after the first failure. */
    public static final long DEFAULT_STOP_GRACE_MILLIS = 2_000;

    private final int threads;
    private final ExecutorService pool;
    private final long stopGraceMillis;
    /** Set once a phase abandoned a worker: its pool thread may never return. */
    private volatile String abandoned;

    @FunctionalInterface
    public interface Task {
        void run(int worker, Tally tally) throws Exception;
    }

    /** How far one worker has come; also tells it to stop when another failed. */
    public static final class Tally {
        private final AtomicLongArray slots;
        private final int slot;
        private final AtomicReference<Throwable> failure;

        Tally(AtomicLongArray slots, int slot, AtomicReference<Throwable> failure) {
            this.slots = slots;
            this.slot = slot;
            this.failure = failure;
        }

        /** Records {@code done} units; returns false when the phase is being abandoned. */
        public boolean report(long done) {
            slots.lazySet(slot, done);
            return failure.get() == null;
        }
    }

    public WorkerCrew(int threads, String name) {
        this(threads, name, DEFAULT_STOP_GRACE_MILLIS);
    }

    /** A crew whose workers get {@code stopGraceMillis} to stop after another's failure. */
    public WorkerCrew(int threads, String name, long stopGraceMillis) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be positive: " + threads);
        }
        if (stopGraceMillis < 1 || stopGraceMillis > 3_600_000) {
            throw new IllegalArgumentException("stop grace must be in [1 ms, 1 h]: " + stopGraceMillis + " ms");
        }
        this.threads = threads;
        this.stopGraceMillis = stopGraceMillis;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, name + "-" + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    /** How long the other workers get to stop once one failed. */
    public long stopGraceMillis() {
        return stopGraceMillis;
    }

    /**
     * Runs {@code task} on every worker and returns the phase's wall time in nanoseconds.
     * {@code progressTotal} units make a full bar named {@code progressName}.
     */
    public long runPhase(String progressName, long progressTotal, Task task) {
        try (PhaseProgress progress = PhaseProgress.start(progressName, progressTotal)) {
            return runPhase(task, progress::stepTo);
        }
    }

    /**
     * Runs {@code task} on every worker and returns the phase's wall time in nanoseconds; while
     * waiting, passes the units done so far to {@code progress} about four times a second.
     */
    public long runPhase(Task task, LongConsumer progress) {
        if (abandoned != null) {
            throw new IllegalStateException("this worker crew abandoned stuck workers in an earlier phase (" + abandoned
                    + ") and runs no more phases");
        }
        AtomicLongArray slots = new AtomicLongArray(threads * SLOT_STRIDE);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long[] finished = new long[threads];
        Thread[] running = new Thread[threads];
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch gate = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>(threads);
        for (int w = 0; w < threads; w++) {
            int worker = w;
            futures.add(pool.submit(() -> {
                running[worker] = Thread.currentThread();
                ready.countDown();
                try {
                    gate.await();
                    task.run(worker, new Tally(slots, worker * SLOT_STRIDE, failure));
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    finished[worker] = System.nanoTime();
                }
                return null;
            }));
        }
        awaitUninterruptibly(ready);
        long start = System.nanoTime();
        gate.countDown();
        boolean interrupted = false;
        long stopBy = Long.MAX_VALUE; // once a failure is seen: when the others must have stopped
        List<Integer> stuck = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            Future<?> f = futures.get(w);
            while (true) {
                if (stopBy == Long.MAX_VALUE && failure.get() != null) {
                    stopBy = System.nanoTime() + stopGraceMillis * 1_000_000;
                }
                long waitNanos = Math.min(250_000_000L, Math.max(0, stopBy - System.nanoTime()));
                try {
                    f.get(waitNanos, TimeUnit.NANOSECONDS);
                    break;
                } catch (TimeoutException e) {
                    progress.accept(sum(slots));
                    if (System.nanoTime() - stopBy >= 0) {
                        stuck.add(w); // give up on this worker; the later ones had the same grace
                        break;
                    }
                } catch (InterruptedException e) {
                    // stop the workers at their next report, but still wait (bounded) for them to finish
                    interrupted = true;
                    failure.compareAndSet(null, e);
                } catch (ExecutionException e) {
                    failure.compareAndSet(null, e.getCause());
                    break;
                }
            }
        }
        progress.accept(sum(slots));
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable t = failure.get();
        if (!stuck.isEmpty()) {
            abandoned = stuck.size() + " of " + threads + " workers";
            throw new IllegalStateException(describe(t) + "; " + stuck.size() + " of " + threads + " workers were still busy "
                    + stopGraceMillis + " ms after that and were abandoned (" + whereStuck(stuck, running) + ")", t);
        }
        if (t != null) {
            if (t instanceof RuntimeException) {
                throw (RuntimeException) t;
            }
            if (t instanceof Error) {
                throw (Error) t;
            }
            throw new IllegalStateException(describe(t), t);
        }
        long end = start;
        for (long f : finished) {
            end = Math.max(end, f);
        }
        return end - start;
    }

    private static String describe(Throwable t) {
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /** Where each stuck worker is: the first frame of its stack outside the JDK. */
    private static String whereStuck(List<Integer> stuck, Thread[] running) {
        StringBuilder b = new StringBuilder();
        for (int w : stuck) {
            Thread th = running[w];
            String at = "unknown";
            if (th != null) {
                for (StackTraceElement e : th.getStackTrace()) {
                    if (!e.getClassName().startsWith("java.") && !e.getClassName().startsWith("jdk.")) {
                        at = e.getClassName().substring(e.getClassName().lastIndexOf('.') + 1) + "." + e.getMethodName();
                        break;
                    }
                }
            }
            b.append(b.length() == 0 ? "" : ", ").append("worker ").append(w).append(" in ").append(at);
        }
        return b.toString();
    }

    private long sum(AtomicLongArray slots) {
        long s = 0;
        for (int w = 0; w < threads; w++) {
            s += slots.get(w * SLOT_STRIDE);
        }
        return s;
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops the workers; waits up to 10 s for them. When a phase abandoned stuck workers it neither
     * interrupts nor waits for them: their threads are daemons and may never return, and an
     * interrupted park returns at once, so interrupting would turn a parked wait into a spinning one.
     */
    @Override
    public void close() {
        if (abandoned != null) {
            pool.shutdown();
            return;
        }
        pool.shutdownNow();
        try {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
