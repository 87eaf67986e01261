package io.dmtree.core.nic;

/** A clock that only moves when someone waits: modelled completions become exact instants. */
final class VirtualClock implements NicClock {
    private long now;

    VirtualClock(long start) {
        this.now = start;
    }

    @Override
    public synchronized long now() {
        return now;
    }

    @Override
    public synchronized void awaitUntil(long deadline) {
        now = Math.max(now, deadline);
    }

    synchronized void set(long t) {
        now = t;
    }
}
