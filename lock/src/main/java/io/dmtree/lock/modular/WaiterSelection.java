package io.dmtree.lock.modular;

/**
 * What the waiter manager selected at one release: the entries of the waiters that now hold the
 * lock (one exclusive waiter, or consecutive shared waiters) with their positions, and how many
 * waiters stay queued behind them. Reused per thread.
 */
public final class WaiterSelection {
    private long[] entries = new long[4];
    private int[] positions = new int[4];
    private int count;
    private int waitersBehind;
    private boolean handedOn;

    void clear() {
        count = 0;
        waitersBehind = 0;
        handedOn = false;
    }

    /** Whether the grants of this selection tell the waiters that the releaser's tenure hook handed its state on. */
    public boolean handedOn() {
        return handedOn;
    }

    void handedOn(boolean h) {
        this.handedOn = h;
    }

    void add(long entry, int position) {
        if (count == entries.length) {
            entries = java.util.Arrays.copyOf(entries, count * 2);
            positions = java.util.Arrays.copyOf(positions, count * 2);
        }
        positions[count] = position;
        entries[count++] = entry;
    }

    /** The full 32-bit queue position of selected request {@code i} (its grant count). */
    public int position(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException(i);
        }
        return positions[i];
    }

    void waitersBehind(int n) {
        this.waitersBehind = n;
    }

    public int count() {
        return count;
    }

    public long entry(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException(i);
        }
        return entries[i];
    }

    public int waitersBehind() {
        return waitersBehind;
    }
}
