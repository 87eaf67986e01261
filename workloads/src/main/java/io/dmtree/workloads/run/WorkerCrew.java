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
 */
public final class WorkerCrew implements AutoCloseable {
    /** Longs between two workers' tally slots, so they do not share a cache line. */
    private static final int SLOT_STRIDE = 16;

    private final int threads;
    private final ExecutorService pool;

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
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be positive: " + threads);
        }
        this.threads = threads;
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
        AtomicLongArray slots = new AtomicLongArray(threads * SLOT_STRIDE);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long[] finished = new long[threads];
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch gate = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>(threads);
        for (int w = 0; w < threads; w++) {
            int worker = w;
            futures.add(pool.submit(() -> {
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
        for (Future<?> f : futures) {
            while (true) {
                try {
                    f.get(250, TimeUnit.MILLISECONDS);
                    break;
                } catch (TimeoutException e) {
                    progress.accept(sum(slots));
                } catch (InterruptedException e) {
                    // stop the workers at their next report, but still wait for them to finish
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
        if (t != null) {
            if (t instanceof RuntimeException) {
                throw (RuntimeException) t;
            }
            if (t instanceof Error) {
                throw (Error) t;
            }
            throw new IllegalStateException(t.getMessage() == null ? t.toString() : t.getMessage(), t);
        }
        long end = start;
        for (long f : finished) {
            end = Math.max(end, f);
        }
        return end - start;
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

    @Override
    public void close() {
        pool.shutdownNow();
        try {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
