package io.dmtree.workloads.run;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one body on a few daemon threads of their own and waits for all of them within one
 * deadline: the shape of a compute node's checked rounds, where each thread makes a fixed number
 * of operations. A thread still running at the deadline is named in the error (it is a daemon, so
 * it does not keep the process alive); the first failure of a body is returned, not thrown, so the
 * caller decides what it means (a fence, say).
 */
public final class BoundedThreads {
    /** One thread's work. */
    @FunctionalInterface
    public interface Body {
        void run(int thread) throws Exception;
    }

    private BoundedThreads() {
    }

    /**
     * Runs {@code body} on threads {@code 0 .. threads-1} named {@code name-T}; returns the first
     * failure, or null. Throws {@link IllegalStateException} when a thread has not finished
     * {@code timeoutSeconds} after the start, with {@code what} saying what it did not finish.
     */
    public static Throwable run(int threads, String name, int timeoutSeconds, String what, Body body)
            throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread w = new Thread(() -> {
                try {
                    body.run(thread);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, name + "-" + t);
            w.setDaemon(true);
            workers.add(w);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        workers.forEach(Thread::start);
        for (Thread w : workers) {
            w.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (w.isAlive()) {
                throw new IllegalStateException("thread " + w.getName() + " did not finish " + what + " within "
                        + timeoutSeconds + " s");
            }
        }
        return failure.get();
    }
}
