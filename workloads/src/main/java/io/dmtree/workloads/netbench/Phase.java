package io.dmtree.workloads.netbench;

import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One timed phase: {@code threads} threads, each with its own {@link RoundTrips.Client}, run their
 * share of {@code iterations} round trips back to back, timing each with {@link System#nanoTime()}.
 * The threads start together from a latch; the phase lasts from the latch to the last thread's
 * end. Each client's last reply is verified after the timed loop.
 */
final class Phase {
    /** Latencies in nanoseconds up to a minute, 3 significant digits. */
    static Histogram newHistogram() {
        return new Histogram(TimeUnit.MINUTES.toNanos(1), 3);
    }

    /** What a phase measured: every round trip's latency, and its wall time. */
    record Outcome(Histogram latencies, long elapsedNanos) {
    }

    private Phase() {
    }

    /** Runs the phase; a failing round trip fails it, with that failure as the cause. */
    static Outcome run(RoundTrips system, int threads, long iterations, long timeoutMillis) throws Exception {
        Histogram[] histograms = new Histogram[threads];
        RoundTrips.Client[] clients = new RoundTrips.Client[threads];
        for (int t = 0; t < threads; t++) {
            histograms[t] = newHistogram();
            clients[t] = system.client(t);
        }
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long share = iterations / threads + (t < iterations % threads ? 1 : 0);
            RoundTrips.Client c = clients[t];
            Histogram h = histograms[t];
            Thread w = new Thread(() -> {
                try {
                    start.await();
                    for (long i = 0; i < share; i++) {
                        long t0 = System.nanoTime();
                        c.once();
                        h.recordValue(Math.min(System.nanoTime() - t0, h.getHighestTrackableValue()));
                    }
                    if (share > 0) {
                        c.verify();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "netbench-" + system.name() + "-" + t);
            w.setDaemon(true);
            workers.add(w);
            w.start();
        }
        long begin = System.nanoTime();
        start.countDown();
        long deadline = begin + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        for (Thread w : workers) {
            w.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (w.isAlive()) {
                throw new IllegalStateException(system.name() + " phase did not finish within " + timeoutMillis + " ms");
            }
        }
        long elapsed = System.nanoTime() - begin;
        Throwable f = failure.get();
        if (f != null) {
            throw new IllegalStateException(system.name() + " round trip failed: " + f.getMessage(), f);
        }
        Histogram all = newHistogram();
        for (Histogram h : histograms) {
            all.add(h);
        }
        return new Outcome(all, elapsed);
    }
}
