package io.dmtree.core.membership;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The state machine behind a {@link Lease} handle, shared by the implementations: {@code LIVE <->
 * SUSPENDED -> LAPSED | CLOSED}. The final states are absorbing: the first {@link #end} wins, later
 * ones return {@code false}, and every end callback runs exactly once (registered before the end:
 * on the ending thread, after the state is published; registered after: at once on the caller).
 * {@link #awaitEnd} returns once the callbacks registered before the end have run, so a holder
 * that waited sees their effects (a callback must therefore not wait for its own lease's end).
 * {@link #state()} is a volatile read, cheap enough to check before every guarded step.
 */
public final class LeaseStatus {
    private volatile LeaseState state = LeaseState.LIVE;
    /** The end's callbacks have run (guarded by this). */
    private boolean settled;
    private final List<Consumer<LeaseState>> callbacks = new ArrayList<>();

    public LeaseState state() {
        return state;
    }

    /** LIVE to SUSPENDED; no effect in any other state. */
    public synchronized void suspend() {
        if (state == LeaseState.LIVE) {
            state = LeaseState.SUSPENDED;
        }
    }

    /** SUSPENDED to LIVE; no effect in any other state. */
    public synchronized void resume() {
        if (state == LeaseState.SUSPENDED) {
            state = LeaseState.LIVE;
        }
    }

    /**
     * Ends the lease with {@code terminal} ({@link LeaseState#LAPSED} or {@link LeaseState#CLOSED});
     * returns {@code true} if this call ended it, then runs the callbacks on this thread.
     */
    public boolean end(LeaseState terminal) {
        if (!terminal.ended()) {
            throw new IllegalArgumentException(terminal + " is not a final lease state");
        }
        List<Consumer<LeaseState>> run;
        synchronized (this) {
            if (state.ended()) {
                return false;
            }
            state = terminal;
            notifyAll();
            run = List.copyOf(callbacks);
            callbacks.clear();
        }
        try {
            for (Consumer<LeaseState> c : run) {
                c.accept(terminal);
            }
        } finally {
            synchronized (this) {
                settled = true;
                notifyAll();
            }
        }
        return true;
    }

    public void onEnd(Consumer<LeaseState> callback) {
        LeaseState now;
        synchronized (this) {
            now = state;
            if (!now.ended()) {
                callbacks.add(callback);
                return;
            }
        }
        callback.accept(now);
    }

    public synchronized LeaseState awaitEnd(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!settled) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return state;
    }
}
