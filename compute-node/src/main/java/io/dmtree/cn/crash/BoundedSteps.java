package io.dmtree.cn.crash;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Steps of a crash-point trial that may block, run on a helper thread with a time bound, so a
 * lock left held or a recovery that never returns shows as a failed trial instead of a hung
 * sweep. One worker thread serves the steps in turn; a step still running at its bound keeps that
 * thread ({@link Step#abandon}) and the next step gets a fresh one. A trial that leaves a step
 * running for good must leave its memory nodes mapped: that thread may still touch them.
 */
final class BoundedSteps implements AutoCloseable {
    private static final AtomicInteger NAMES = new AtomicInteger();

    private ExecutorService worker = newWorker();

    /** A step submitted to the worker. */
    final class Step<T> {
        private final Future<T> future;
        private final String what;

        private Step(Future<T> future, String what) {
            this.future = future;
            this.what = what;
        }

        /**
         * Waits at most {@code millis} for the step: its result, or a {@link StepFailure} naming the
         * step when it threw or is still running (it keeps running; see {@link #abandon}).
         */
        T await(long millis) {
            try {
                return future.get(millis, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new StepFailure(what + " did not finish within " + millis + " ms", true);
            } catch (ExecutionException e) {
                throw new StepFailure(what + " threw " + e.getCause(), false);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StepFailure(what + ": interrupted", true);
            }
        }

        boolean done() {
            return future.isDone();
        }

        /** Gives the worker thread up to this step, still running; later steps run on a fresh thread. */
        void abandon() {
            if (!future.isDone()) {
                worker.shutdown(); // the stuck thread ends when (if ever) its step does
                worker = newWorker();
            }
        }
    }

    /** A step that threw, or did not finish within its bound ({@link #stuck()}). */
    static final class StepFailure extends RuntimeException {
        private final boolean stuck;

        StepFailure(String message, boolean stuck) {
            super(message, null, false, false);
            this.stuck = stuck;
        }

        boolean stuck() {
            return stuck;
        }
    }

    <T> Step<T> submit(String what, Callable<T> step) {
        return new Step<>(worker.submit(step), what);
    }

    /** Runs {@code step} on the worker and waits for it at most {@code millis}; abandons it when stuck. */
    <T> T run(String what, long millis, Callable<T> step) {
        Step<T> s = submit(what, step);
        try {
            return s.await(millis);
        } catch (StepFailure f) {
            s.abandon();
            throw f;
        }
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "crash-sweep-step-" + NAMES.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void close() {
        worker.shutdown();
    }
}
