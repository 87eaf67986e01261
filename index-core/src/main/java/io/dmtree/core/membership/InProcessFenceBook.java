package io.dmtree.core.membership;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The {@link FenceBook} of one JVM (the embedded cluster and tests). State is guarded by this
 * object's monitor; watchers are called on one daemon thread of the book, in order, outside the
 * monitor, so a watcher may call back into the book.
 */
public final class InProcessFenceBook implements FenceBook {
    private final Map<Member, Entry> entries = new TreeMap<>(Comparator.comparingLong(Member::epoch));
    private final List<Runnable> watchers = new CopyOnWriteArrayList<>();
    private final ExecutorService notifier = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "dmtree-fence-book");
        t.setDaemon(true);
        return t;
    });

    private static final class Entry {
        final Set<Integer> fencedBy = new HashSet<>();
        Lease claim;
        boolean recovered;
    }

    @Override
    public void requestFence(Member computeNode) {
        requireComputeNode(computeNode);
        boolean added;
        synchronized (this) {
            added = entries.putIfAbsent(computeNode, new Entry()) == null;
        }
        if (added) {
            changed();
        }
    }

    @Override
    public void acknowledgeFence(int memoryNode, Member computeNode) {
        if (memoryNode < 0) {
            throw new IllegalArgumentException("memory node id " + memoryNode + " is negative");
        }
        boolean added;
        synchronized (this) {
            added = entry(computeNode).fencedBy.add(memoryNode);
        }
        if (added) {
            changed();
        }
    }

    @Override
    public boolean claimRecovery(Lease self, Member computeNode) {
        synchronized (this) {
            Entry e = entry(computeNode);
            if (e.recovered) {
                return false;
            }
            if (e.claim == self) {
                return true;
            }
            if (e.claim != null && e.claim.isLive()) {
                return false;
            }
            if (!self.isLive()) {
                return false;
            }
            e.claim = self;
        }
        self.onEnd(s -> {
            boolean dropped;
            synchronized (this) {
                Entry e = entries.get(computeNode);
                dropped = e != null && e.claim == self;
                if (dropped) {
                    e.claim = null;
                }
            }
            if (dropped) {
                changed();
            }
        });
        return true;
    }

    @Override
    public void recovered(Member computeNode) {
        synchronized (this) {
            Entry e = entry(computeNode);
            if (e.recovered) {
                return;
            }
            e.recovered = true;
            e.claim = null;
        }
        changed();
    }

    @Override
    public synchronized List<FenceRecord> records() {
        List<FenceRecord> out = new ArrayList<>(entries.size());
        for (Map.Entry<Member, Entry> e : entries.entrySet()) {
            out.add(new FenceRecord(e.getKey(), e.getValue().fencedBy, e.getValue().recovered));
        }
        return out;
    }

    @Override
    public AutoCloseable watch(Runnable changed) {
        watchers.add(changed);
        notifier.execute(changed);
        return () -> watchers.remove(changed);
    }

    @Override
    public void close() {
        notifier.shutdown();
    }

    private Entry entry(Member computeNode) {
        Entry e = entries.get(computeNode);
        if (e == null) {
            throw new IllegalStateException("no fence was requested for " + computeNode);
        }
        return e;
    }

    private static void requireComputeNode(Member m) {
        if (m == null || m.kind() != MemberKind.COMPUTE_NODE) {
            throw new IllegalArgumentException("only compute nodes are fenced: " + m);
        }
    }

    private void changed() {
        Executor n = notifier;
        for (Runnable w : watchers) {
            try {
                n.execute(w);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return; // closed
            }
        }
    }
}
