package io.dmtree.cn.carrier.rdma;

import java.util.concurrent.Executor;

/**
 * One lane of queue pairs to a memory node: the active one that verbs are posted on, and a spare
 * connected and attached in advance, as Patronus keeps spare resources. An error completion takes
 * an RC queue pair to the error state for good; {@link #failed} then makes the spare active at
 * once, so the member's next verb goes out without waiting for a new connection, and opens a new
 * spare in the background ({@code replenisher}).
 *
 * <h2>Invariants</h2>
 * All state is guarded by this object's monitor, held only briefly (never while opening).
 * {@link #active} returns the active queue pair, opening one on the caller's thread only when no
 * spare was ready. A failed queue pair is closed exactly once and never returned again. At most one
 * replenishment runs at a time; one that finishes after {@link #close} closes what it opened; one
 * that finds both places taken closes its surplus. A failed opening is remembered and ends the
 * replenishment; the next {@code failed} (or an {@code active} that finds no queue pair) tries again.
 */
final class SpareLane<Q extends AutoCloseable> implements AutoCloseable {
    /** Opens (connects and attaches) a queue pair. */
    @FunctionalInterface
    interface Opener<Q> {
        Q open() throws Exception;
    }

    private final Opener<Q> opener;
    private final Executor replenisher;
    private Q active;
    private Q spare;
    private boolean replenishing;
    private boolean closed;
    private String lastFailure;
    private long failovers;

    SpareLane(Q active, Q spare, Opener<Q> opener, Executor replenisher) {
        this.active = active;
        this.spare = spare;
        this.opener = opener;
        this.replenisher = replenisher;
    }

    /** The queue pair to post on: the active one, or (none ready) one opened now. */
    Q active() throws Exception {
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the lane is closed");
            }
            if (active != null) {
                return active;
            }
            if (spare != null) {
                active = spare;
                spare = null;
                replenishLocked();
                return active;
            }
        }
        Q fresh = opener.open(); // no spare was ready: the caller waits for one
        synchronized (this) {
            if (closed) {
                close(fresh);
                throw new IllegalStateException("the lane is closed");
            }
            if (active == null) {
                active = fresh;
                replenishLocked();
                return active;
            }
            close(fresh); // another caller's opening won
            return active;
        }
    }

    /** {@code q} failed (its queue pair is in the error state): the spare takes over; a new spare is opened. */
    void failed(Q q, String why) {
        synchronized (this) {
            if (q != active) {
                return; // failed over already
            }
            failovers++;
            lastFailure = why;
            active = spare;
            spare = null;
            replenishLocked();
        }
        close(q);
    }

    private void replenishLocked() {
        if (replenishing || closed || (active != null && spare != null)) {
            return;
        }
        replenishing = true;
        replenisher.execute(this::replenish);
    }

    private void replenish() {
        Q fresh;
        try {
            fresh = opener.open();
        } catch (Exception e) {
            synchronized (this) {
                replenishing = false;
                lastFailure = "opening a spare queue pair failed: " + e.getMessage();
            }
            return;
        }
        Q surplus = null;
        synchronized (this) {
            replenishing = false;
            if (closed) {
                surplus = fresh;
            } else if (active == null) {
                active = fresh;
                replenishLocked(); // the spare still missing
            } else if (spare == null) {
                spare = fresh;
            } else {
                surplus = fresh;
            }
        }
        if (surplus != null) {
            close(surplus);
        }
    }

    synchronized boolean spareReady() {
        return spare != null;
    }

    synchronized long failovers() {
        return failovers;
    }

    synchronized String lastFailure() {
        return lastFailure;
    }

    @Override
    public void close() {
        Q a;
        Q s;
        synchronized (this) {
            closed = true;
            a = active;
            s = spare;
            active = null;
            spare = null;
        }
        close(a);
        close(s);
    }

    private static void close(AutoCloseable q) {
        if (q != null) {
            try {
                q.close();
            } catch (Exception ignored) {
                // closing a queue pair that is gone anyway
            }
        }
    }
}
