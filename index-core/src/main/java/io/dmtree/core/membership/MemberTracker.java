package io.dmtree.core.membership;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The view and the listeners of one {@link Membership}, kept on one thread of their own. The
 * implementation feeds it evidence as it learns it: an incarnation {@link #present is (or was)
 * live}, an incarnation {@link #ended ended}, or {@link #resync the complete set} of live ones after a
 * gap. From evidence in any order, with repeats, it derives the view and the notices the class
 * comment of {@link Membership} promises.
 *
 * <p>Invariants, all kept on the tracker thread: per slot it holds at most one current incarnation
 * and the highest epoch it knows ended. Evidence about an epoch at or below the slot's ended epoch,
 * or below its current one, is stale and ignored; evidence of a larger epoch than the current one
 * proves the current one ended (a slot has one holder at a time and epochs only grow), so its lapse
 * is announced first. Hence every incarnation announced as joined is announced as lapsed exactly
 * once, after its join and before any later join of its slot, whatever order evidence comes in.
 * The view is an immutable snapshot published after each change, before listeners hear of it.
 * A listener that subscribes hears the view of that moment as joins, then every later change:
 * the snapshot and the subscription are taken on the tracker thread, between two changes.
 *
 * <p>The same thread runs the implementation's timers ({@link #schedule}), so an in-process
 * cluster needs no other thread.
 */
public final class MemberTracker implements AutoCloseable {
    private final ScheduledThreadPoolExecutor thread;
    private final Map<MemberId, Member> current = new HashMap<>();
    private final Map<MemberId, Long> endedEpoch = new HashMap<>();
    private final List<MembershipListener> listeners = new ArrayList<>();
    private volatile MembershipView view = MembershipView.EMPTY;
    private volatile Thread trackerThread;

    public MemberTracker(String name) {
        thread = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "dmtree-membership-" + name);
            t.setDaemon(true);
            trackerThread = t;
            return t;
        });
        thread.setRemoveOnCancelPolicy(true);
        thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /** The latest published view. */
    public MembershipView view() {
        return view;
    }

    /** Evidence: {@code m} holds (or held) its lease. */
    public CompletableFuture<Void> present(Member m) {
        return submit(() -> {
            applyPresent(m);
            publish();
        });
    }

    /** Evidence: the incarnation {@code epoch} of {@code id} ended. */
    public CompletableFuture<Void> ended(MemberId id, long epoch) {
        return submit(() -> {
            applyEnded(id, epoch);
            publish();
        });
    }

    /** Evidence: {@code live} is the complete set of live incarnations; any other ended. */
    public CompletableFuture<Void> resync(Collection<Member> live) {
        List<Member> copy = List.copyOf(live);
        return submit(() -> {
            Set<MemberId> slots = new HashSet<>();
            for (Member m : copy) {
                slots.add(m.id());
            }
            for (Member m : List.copyOf(current.values())) {
                boolean still = false;
                for (Member n : copy) {
                    still |= n.sameIncarnation(m);
                }
                if (!still) {
                    applyEnded(m.id(), m.epoch());
                }
            }
            for (Member m : copy) {
                applyPresent(m);
            }
            publish();
        });
    }

    /** Subscribes {@code listener}: it hears the current view as joins, then every change. */
    public AutoCloseable subscribe(MembershipListener listener) {
        await(submit(() -> {
            listeners.add(listener);
            for (Member m : current.values().stream().sorted().toList()) {
                call(listener, m, true);
            }
        }));
        return () -> {
            if (Thread.currentThread() == trackerThread) {
                listeners.remove(listener);
            } else {
                try {
                    await(submit(() -> listeners.remove(listener)));
                } catch (MembershipException closed) {
                    // the tracker stopped: nobody calls the listener any more
                }
            }
        };
    }

    /** Runs {@code task} on the tracker thread after {@code delayNanos}. */
    public ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
        try {
            return thread.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            throw new MembershipException("membership is closed");
        }
    }

    /** Runs {@code task} on the tracker thread. */
    public CompletableFuture<Void> submit(Runnable task) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            thread.execute(() -> {
                try {
                    task.run();
                    done.complete(null);
                } catch (Throwable t) {
                    done.completeExceptionally(t);
                }
            });
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(new MembershipException("membership is closed"));
        }
        return done;
    }

    /** {@code true} on the tracker thread. */
    public boolean onTrackerThread() {
        return Thread.currentThread() == trackerThread;
    }

    /** Waits for {@code f} (not on the tracker thread: that would wait for itself). */
    public void await(CompletableFuture<Void> f) {
        if (onTrackerThread()) {
            throw new IllegalStateException("waiting on the membership thread for its own work");
        }
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MembershipException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new MembershipException(e.getCause().toString(), e.getCause());
        }
    }

    private void applyPresent(Member m) {
        MemberId id = m.id();
        if (m.epoch() <= endedEpoch.getOrDefault(id, 0L)) {
            return; // that incarnation is known to have ended
        }
        Member cur = current.get(id);
        if (cur != null && cur.epoch() >= m.epoch()) {
            return; // known, or older than the current one
        }
        if (cur != null) {
            applyEnded(id, cur.epoch()); // a newer epoch in the slot: the current holder is gone
        }
        current.put(id, m);
        publish();
        for (MembershipListener l : List.copyOf(listeners)) {
            call(l, m, true);
        }
    }

    private void applyEnded(MemberId id, long epoch) {
        Member cur = current.get(id);
        if (cur != null && cur.epoch() <= epoch) {
            current.remove(id);
            endedEpoch.merge(id, cur.epoch(), Math::max);
            publish();
            for (MembershipListener l : List.copyOf(listeners)) {
                call(l, cur, false);
            }
        }
        endedEpoch.merge(id, epoch, Math::max);
    }

    private void call(MembershipListener l, Member m, boolean joined) {
        try {
            if (joined) {
                l.joined(m);
            } else {
                l.lapsed(m);
            }
        } catch (RuntimeException e) {
            Thread t = Thread.currentThread();
            t.getUncaughtExceptionHandler().uncaughtException(t, e); // one listener's bug stops no other
        }
    }

    private void publish() {
        view = new MembershipView(new TreeMap<>(current));
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            if (!onTrackerThread()) {
                thread.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
