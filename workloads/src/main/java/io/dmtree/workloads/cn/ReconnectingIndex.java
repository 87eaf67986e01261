package io.dmtree.workloads.cn;

import io.dmtree.cn.DmIndex;
import io.dmtree.cn.control.RemoteComputeNode;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.TreeReport;

import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.Consumer;

/**
 * The index of a long-lived client ({@code dmtree cn --serve}) that rejoins the cluster when a
 * memory node is lost, for instance when it restarts at the same address.
 *
 * <p>When the compute node hears that a memory node was lost, it closes that compute node (leaving
 * the memory nodes it can still reach) and, on a thread of its own, rejoins: up to {@link
 * Policy#attempts()} attempts, the first after {@link Policy#firstBackoffMillis()}, each later one
 * after twice the wait before it, at most {@link Policy#maxBackoffMillis()}; every attempt says so
 * in one line. Rejoining means joining as a new compute node (the id may change) and reopening the
 * index the memory nodes hold; a memory node that restarted as a new process has an empty region,
 * so the index is then created afresh, with the widths and lock design it had. While it rejoins,
 * every operation fails at once with a message saying so (none waits); after the last failed
 * attempt every operation fails with the reason, and {@link #awaitGaveUp} returns it.
 *
 * <p>Invariants: at most one compute node is open; {@code current} is either the open one or null
 * while rejoining or after giving up or closing; a loss notice of a compute node that is no longer
 * current is ignored, so one loss starts one rejoin. {@link #close()} stops a rejoin within its
 * current attempt's wait and closes the open compute node.
 */
public final class ReconnectingIndex implements DmIndex {
    /** Joins the cluster and opens the index: a new compute node each call. */
    @FunctionalInterface
    public interface Joiner {
        RemoteComputeNode join();
    }

    /**
     * How a lost cluster is rejoined.
     *
     * @param attempts           rejoin attempts before giving up (0: never rejoin)
     * @param firstBackoffMillis wait before the first attempt
     * @param maxBackoffMillis   longest wait between attempts
     */
    public record Policy(int attempts, long firstBackoffMillis, long maxBackoffMillis) {
        public Policy {
            if (attempts < 0 || attempts > 10_000) {
                throw new IllegalArgumentException("rejoin attempts must be in [0, 10000]: " + attempts);
            }
            if (firstBackoffMillis < 1 || maxBackoffMillis < firstBackoffMillis || maxBackoffMillis > 3_600_000) {
                throw new IllegalArgumentException("rejoin backoff needs 1 ms <= first <= longest <= 1 h, got "
                        + firstBackoffMillis + " ms and " + maxBackoffMillis + " ms");
            }
        }
    }

    private final Joiner joiner;
    private final Policy policy;
    private final Consumer<String> notes;
    private final Consumer<RemoteComputeNode> onJoined;
    private final int keyBytes;
    private final int valueBytes;
    private final Object lock = new Object();
    private volatile RemoteComputeNode current;
    /** Why there is no current compute node (rejoining, gave up, closed). */
    private volatile String absence;
    private volatile boolean closed;
    private String gaveUp;
    private Thread rejoiner;

    private ReconnectingIndex(Joiner joiner, Policy policy, Consumer<String> notes, Consumer<RemoteComputeNode> onJoined,
                              RemoteComputeNode first) {
        this.joiner = joiner;
        this.policy = policy;
        this.notes = notes;
        this.onJoined = onJoined;
        this.keyBytes = first.computeNode().treeConfig().keyBytes();
        this.valueBytes = first.computeNode().treeConfig().valueBytes();
        this.current = first;
    }

    /**
     * Joins once (a failure throws, as for any compute node) and watches the memory nodes from
     * then on. {@code onJoined} hears every compute node joined, the first one too; {@code notes}
     * every progress line.
     */
    public static ReconnectingIndex open(Joiner joiner, Policy policy, Consumer<String> notes,
                                         Consumer<RemoteComputeNode> onJoined) {
        RemoteComputeNode first = joiner.join();
        ReconnectingIndex index = new ReconnectingIndex(joiner, policy, notes, onJoined, first);
        onJoined.accept(first);
        index.watch(first);
        return index;
    }

    private void watch(RemoteComputeNode node) {
        node.cluster().onMemoryNodeLost(reason -> lost(node, reason));
    }

    private void lost(RemoteComputeNode node, String reason) {
        synchronized (lock) {
            if (closed || current != node) {
                return;
            }
            current = null;
            absence = "compute node " + node.id() + " lost the cluster (" + reason + ") and is rejoining it";
            rejoiner = new Thread(() -> rejoin(node, reason), "dmtree-rejoin");
            rejoiner.setDaemon(true);
            rejoiner.start();
        }
    }

    private void rejoin(RemoteComputeNode old, String reason) {
        try {
            old.close();
        } catch (RuntimeException e) {
            // the cluster it belonged to is partly gone; nothing more to leave
        }
        if (policy.attempts() == 0) {
            giveUp("compute node " + old.id() + " lost the cluster (" + reason + ") and does not rejoin (0 attempts)");
            return;
        }
        long backoff = policy.firstBackoffMillis();
        String last = reason;
        for (int k = 1; k <= policy.attempts(); k++) {
            notes.accept(String.format(Locale.ROOT, "cn %d: rejoining the cluster: attempt %d of %d in %d ms", old.id(), k,
                    policy.attempts(), backoff));
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                return; // closed
            }
            if (closed) {
                return;
            }
            absence = "compute node " + old.id() + " lost the cluster (" + reason + ") and is rejoining it (attempt " + k
                    + " of " + policy.attempts() + ")";
            RemoteComputeNode node;
            try {
                node = joiner.join();
            } catch (RuntimeException e) {
                last = e.getMessage() == null ? e.toString() : e.getMessage();
                notes.accept(String.format(Locale.ROOT, "cn %d: attempt %d of %d failed: %s", old.id(), k, policy.attempts(),
                        last));
                backoff = Math.min(policy.maxBackoffMillis(), backoff * 2);
                continue;
            }
            synchronized (lock) {
                if (closed) {
                    node.close();
                    return;
                }
                current = node;
                absence = null;
            }
            onJoined.accept(node);
            watch(node);
            return;
        }
        giveUp("compute node " + old.id() + " gave up rejoining the cluster after " + policy.attempts()
                + " attempts; the last said: " + last);
    }

    private void giveUp(String why) {
        synchronized (lock) {
            gaveUp = why;
            absence = why;
            lock.notifyAll();
        }
        notes.accept(why);
    }

    /**
     * Waits until rejoining gave up or the index closed; returns why it gave up, or null when it
     * was closed.
     */
    public String awaitGaveUp() throws InterruptedException {
        synchronized (lock) {
            while (gaveUp == null && !closed) {
                lock.wait();
            }
            return gaveUp;
        }
    }

    /** The compute node serving now, or null while rejoining. */
    public RemoteComputeNode node() {
        return current;
    }

    private DmIndex index() {
        RemoteComputeNode n = current;
        if (n != null) {
            return n.index();
        }
        if (closed) {
            throw new IllegalStateException("the index is closed");
        }
        String why = absence;
        throw new IllegalStateException(why == null ? "not connected" : why);
    }

    @Override
    public int keyBytes() {
        return keyBytes;
    }

    @Override
    public int valueBytes() {
        return valueBytes;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        index().put(key, value);
    }

    @Override
    public byte[] get(byte[] key) {
        return index().get(key);
    }

    /** The variable-length values of the index this view is joined to now (ask again after a rejoin). */
    @Override
    public io.dmtree.core.tree.VariableValues values() {
        return index().values();
    }

    @Override
    public boolean delete(byte[] key) {
        return index().delete(key);
    }

    @Override
    public List<Entry> scan(byte[] from, int limit) {
        return index().scan(from, limit);
    }

    @Override
    public List<Entry> range(byte[] from, byte[] toExclusive) {
        return index().range(from, toExclusive);
    }

    @Override
    public int scan(byte[] from, int limit, EntryVisitor visitor) {
        return index().scan(from, limit, visitor);
    }

    @Override
    public byte[] putIfAbsent(byte[] key, byte[] value) {
        return index().putIfAbsent(key, value);
    }

    @Override
    public byte[] getAndPut(byte[] key, byte[] value) {
        return index().getAndPut(key, value);
    }

    @Override
    public byte[] getAndDelete(byte[] key) {
        return index().getAndDelete(key);
    }

    @Override
    public byte[] replace(byte[] key, byte[] value) {
        return index().replace(key, value);
    }

    @Override
    public boolean replace(byte[] key, byte[] expected, byte[] value) {
        return index().replace(key, expected, value);
    }

    @Override
    public boolean delete(byte[] key, byte[] expected) {
        return index().delete(key, expected);
    }

    @Override
    public byte[] compute(byte[] key, java.util.function.UnaryOperator<byte[]> function) {
        return index().compute(key, function);
    }

    @Override
    public List<byte[]> getAll(List<byte[]> keys) {
        return index().getAll(keys);
    }

    @Override
    public void putAll(List<Entry> entries) {
        index().putAll(entries);
    }

    @Override
    public Entry first() {
        return index().first();
    }

    @Override
    public Entry last() {
        return index().last();
    }

    @Override
    public Entry ceiling(byte[] key) {
        return index().ceiling(key);
    }

    @Override
    public Entry higher(byte[] key) {
        return index().higher(key);
    }

    @Override
    public Entry floor(byte[] key) {
        return index().floor(key);
    }

    @Override
    public Entry lower(byte[] key) {
        return index().lower(key);
    }

    @Override
    public List<Entry> reverseScan(byte[] from, int limit) {
        return index().reverseScan(from, limit);
    }

    @Override
    public long approximateSize() {
        return index().approximateSize();
    }

    @Override
    public void put(long key, long value) {
        index().put(key, value);
    }

    @Override
    public OptionalLong get(long key) {
        return index().get(key);
    }

    @Override
    public boolean delete(long key) {
        return index().delete(key);
    }

    @Override
    public List<LongEntry> scan(long from, int limit) {
        return index().scan(from, limit);
    }

    @Override
    public int scan(long from, int limit, LongEntryVisitor visitor) {
        return index().scan(from, limit, visitor);
    }

    @Override
    public List<LongEntry> range(long from, long toExclusive) {
        return index().range(from, toExclusive);
    }

    @Override
    public VerbCounts memoryNodeTraffic() {
        return index().memoryNodeTraffic();
    }

    @Override
    public CacheStats cacheStats() {
        return index().cacheStats();
    }

    @Override
    public TreeReport check() {
        return index().check();
    }

    /** Stops a rejoin in progress (within its current wait) and closes the open compute node; once. */
    @Override
    public void close() {
        RemoteComputeNode n;
        Thread r;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            n = current;
            current = null;
            r = rejoiner;
            lock.notifyAll();
        }
        if (r != null) {
            r.interrupt();
            try {
                r.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (n != null) {
            n.close();
        }
    }
}
