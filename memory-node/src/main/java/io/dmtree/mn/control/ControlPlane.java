package io.dmtree.mn.control;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.RegionDescription;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.OutOfMemoryNodeSpaceException;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The control-plane state of one memory node: which compute nodes joined, the directory of their
 * messaging endpoints, named barriers, chunk allocation and the home of the root pointer.
 * Memory node 0 coordinates (assigns compute-node ids, keeps the directory and the barriers);
 * every memory node hands out its own chunks. All methods are thread-safe; waits end at their
 * timeout or when the plane is {@link #shutdown() shut down}.
 *
 * <p>Waits hold no thread. A barrier arrival, a directory lookup and a liveness watch each take an
 * {@link Outcome} that the plane completes exactly once, later, from whichever thread releases it
 * (the last arrival, the registration, the timer, {@link #shutdown()}); they return a {@link Wait}
 * that a caller whose peer went away cancels. Outcomes run under the plane's lock and must not
 * block or call back into the plane (the front door's only enqueues the reply). The blocking
 * methods of the same names wait for such an outcome on the caller's thread. Timeouts run on one
 * timer thread of the plane's own, started on first use and stopped at shutdown.
 *
 * <p>Invariants: a compute-node id is held by at most one live session of memory node 0 (a newer
 * incarnation of a compute node takes its id over from an older one whose lease ended); a
 * counting barrier round releases exactly when its declared number of distinct compute nodes
 * arrived; a member barrier round releases exactly when each of its members arrived or left the
 * cluster; every waiter of a round gets the same arrival list (and list of departed members); a compute node that leaves loses its id
 * and directory entry (a waiter can no longer be told a grant it would never read).
 */
public final class ControlPlane {
    private final MemoryNode node;
    private final RegionDescription description;
    private final BitSet computeNodes = new BitSet();
    /** The epoch of the incarnation holding each id in {@link #computeNodes} (0: without membership). */
    private final Map<Integer, Long> epochs = new HashMap<>();
    private final Map<Integer, String> endpoints = new HashMap<>();
    private final Map<String, Barrier> barriers = new HashMap<>();
    private final Map<Integer, List<Lookup>> lookups = new HashMap<>();
    private final Set<Watch> watches = new java.util.LinkedHashSet<>();
    private ScheduledThreadPoolExecutor timer;
    private boolean shutdown;
    /** Incarnations this memory node fenced: their control requests are refused like their verbs. */
    private final io.dmtree.mn.carrier.FencedEpochs fenced;

    public ControlPlane(MemoryNode node, RegionDescription description) {
        this(node, description, new io.dmtree.mn.carrier.FencedEpochs());
    }

    /**
     * A plane that refuses every request of an incarnation in {@code fenced} (a JOIN, a chunk, an
     * endpoint, a barrier) with {@link ErrorCode#FENCED}: a revoked compute node whose lease is
     * still live gets nothing more from this memory node, on the control plane as on the data path.
     */
    public ControlPlane(MemoryNode node, RegionDescription description, io.dmtree.mn.carrier.FencedEpochs fenced) {
        this.node = node;
        this.description = description;
        this.fenced = fenced;
    }

    /** Fences {@code cn}'s incarnations up to {@code epochUpTo} on this plane (bounds only grow). */
    public void fence(int cn, long epochUpTo) {
        fenced.fence(cn, epochUpTo);
    }

    /** Refuses incarnation {@code (cn, epoch)} if this memory node fenced it. */
    public void checkNotFenced(int cn, long epoch) throws Refusal {
        if (fenced.isFenced(cn, epoch)) {
            throw new Refusal(ErrorCode.FENCED, "compute node " + cn + " epoch " + epoch
                    + " is fenced (revoked or its lease ended) on memory node " + node.id() + " (epochs up to "
                    + fenced.upTo(cn) + "); its control requests are refused");
        }
    }

    public int memoryNodeId() {
        return node.id();
    }

    public RegionDescription description() {
        return description;
    }

    private boolean coordinator() {
        return node.id() == 0;
    }

    /** A failure the client caused; {@code code} is a frame error code. */
    public static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient ErrorCode code;

        public Refusal(ErrorCode code, String message) {
            super(message);
            this.code = code;
        }

        public ErrorCode code() {
            return code;
        }
    }

    /** Where the result of a wait goes: exactly one of the two methods is called, once. */
    public interface Outcome<T> {
        void done(T value);

        void refused(Refusal refusal);
    }

    /** A wait in progress; {@link #cancel()} forgets its outcome (the waiter went away). */
    public interface Wait {
        void cancel();
    }

    /** The wait of a call that completed at once. */
    public static final Wait NO_WAIT = () -> {
    };

    /** Registers a compute node without membership (epoch 0); returns its id. */
    public synchronized int join(int wanted) throws Refusal {
        return join(wanted, 0);
    }

    /**
     * Registers incarnation {@code epoch} of a compute node (0: a cluster without membership);
     * returns its id. An id held by an older incarnation (a smaller nonzero epoch) passes to the
     * newer one: membership gave the slot to the newer one, so the older one's lease ended, and its
     * session, which may linger (a stopped process), must not keep the id from it. The older
     * session's end then leaves the id alone ({@link #leave(int, long)}).
     */
    public synchronized int join(int wanted, long epoch) throws Refusal {
        checkOpen();
        if (epoch < 0) {
            throw new Refusal(ErrorCode.MALFORMED, "epoch " + epoch + " is negative");
        }
        if (wanted != ControlFrame.ANY_COMPUTE_NODE && wanted >= 0 && wanted < io.dmtree.mn.carrier.FencedEpochs.SLOTS) {
            checkNotFenced(wanted, epoch);
        }
        if (!coordinator()) {
            if (wanted == ControlFrame.ANY_COMPUTE_NODE) {
                throw new Refusal(ErrorCode.STATE,
                        "join memory node 0 first: it assigns compute-node ids");
            }
            checkId(wanted);
            if (computeNodes.get(wanted) && supersedes(wanted, epoch)) {
                takeOver(wanted);
            }
            computeNodes.set(wanted);
            epochs.put(wanted, epoch);
            return wanted;
        }
        int id;
        if (wanted == ControlFrame.ANY_COMPUTE_NODE) {
            id = computeNodes.nextClearBit(0);
            if (id >= ControlFrame.MAX_COMPUTE_NODES) {
                throw new Refusal(ErrorCode.NO_SPACE, "all " + ControlFrame.MAX_COMPUTE_NODES
                        + " compute-node ids are taken");
            }
        } else {
            checkId(wanted);
            if (computeNodes.get(wanted)) {
                if (!supersedes(wanted, epoch)) {
                    throw new Refusal(ErrorCode.STATE, "compute node id " + wanted
                            + " is taken by a running compute node");
                }
                takeOver(wanted);
            }
            id = wanted;
        }
        computeNodes.set(id);
        epochs.put(id, epoch);
        return id;
    }

    /** Whether incarnation {@code epoch} is newer than the one holding {@code id}. */
    private boolean supersedes(int id, long epoch) {
        Long held = epochs.get(id);
        return epoch > 0 && held != null && held > 0 && held < epoch;
    }

    /** The older incarnation of {@code id} loses its directory entry; a newer one joins in its place. */
    private void takeOver(int id) {
        removeOrphanedInbox(endpoints.remove(id));
    }

    private static void checkId(int id) throws Refusal {
        if (id < 0 || id >= ControlFrame.MAX_COMPUTE_NODES) {
            throw new Refusal(ErrorCode.OUT_OF_RANGE, "compute node id " + id + " outside [0, "
                    + ControlFrame.MAX_COMPUTE_NODES + ")");
        }
    }

    /** The compute node left or its session ended, whatever incarnation holds its id. */
    public synchronized void leave(int cn) {
        if (cn >= 0) {
            leave(cn, epochs.getOrDefault(cn, 0L));
        }
    }

    /**
     * Incarnation {@code epoch} of compute node {@code cn} left or its session ended; returns
     * whether it held the id (false once a newer incarnation took it over, or when it held none).
     */
    public synchronized boolean leave(int cn, long epoch) {
        if (cn < 0 || !computeNodes.get(cn) || epochs.getOrDefault(cn, 0L) != epoch) {
            return false;
        }
        epochs.remove(cn);
        computeNodes.clear(cn);
        removeOrphanedInbox(endpoints.remove(cn));
        for (Map.Entry<String, Barrier> e : List.copyOf(barriers.entrySet())) {
            releaseIfComplete(e.getKey(), e.getValue());
        }
        return true;
    }

    /**
     * A compute node's shm inbox ({@code shm:DIR/dmtree-cn*.inbox}, next to this memory node's
     * region file) is its own to remove; one killed without saying goodbye cannot, so the memory
     * node removes it when its session ends. Nothing outside the region's directory is touched.
     */
    private void removeOrphanedInbox(String endpoint) {
        String scheme = "shm:";
        if (endpoint == null || !endpoint.startsWith(scheme) || description == null || description.shmPath().isEmpty()) {
            return;
        }
        java.nio.file.Path inbox = java.nio.file.Path.of(endpoint.substring(scheme.length())).normalize();
        java.nio.file.Path dir = java.nio.file.Path.of(description.shmPath()).toAbsolutePath().getParent();
        String name = inbox.getFileName() == null ? "" : inbox.getFileName().toString();
        if (dir != null && dir.equals(inbox.getParent()) && name.startsWith("dmtree-cn") && name.endsWith(".inbox")) {
            try {
                java.nio.file.Files.deleteIfExists(inbox);
            } catch (java.io.IOException | SecurityException e) {
                // best effort: the launch scripts remove leftovers too
            }
        }
    }

    public synchronized List<Integer> computeNodes() {
        List<Integer> ids = new ArrayList<>();
        computeNodes.stream().forEach(ids::add);
        return ids;
    }

    /** A fresh zeroed chunk of this memory node. */
    public long allocateChunk() throws Refusal {
        try {
            return node.allocateChunk();
        } catch (OutOfMemoryNodeSpaceException e) {
            throw new Refusal(ErrorCode.NO_SPACE, e.getMessage());
        }
    }

    public long rootHome() throws Refusal {
        if (!coordinator()) {
            throw new Refusal(ErrorCode.STATE, "the root pointer lives on memory node 0, not "
                    + node.id());
        }
        return GlobalAddress.of(0, RegionLayout.ROOT_POINTER_OFFSET);
    }

    public synchronized void registerEndpoint(int cn, String endpoint) throws Refusal {
        checkOpen();
        requireCoordinator("the messaging directory");
        if (!computeNodes.get(cn)) {
            throw new Refusal(ErrorCode.STATE, "compute node " + cn + " has not joined");
        }
        endpoints.put(cn, endpoint);
        List<Lookup> waiting = lookups.remove(cn);
        if (waiting != null) {
            for (Lookup l : waiting) {
                l.finish();
                l.outcome.done(endpoint);
            }
        }
    }

    /** The endpoint of {@code cn}, waiting up to {@code waitMillis} for it to be registered; null if absent. */
    public String lookupEndpoint(int cn, int waitMillis) throws Refusal, InterruptedException {
        Blocking<String> b = new Blocking<>();
        return b.await(lookupEndpoint(cn, waitMillis, b));
    }

    /**
     * The endpoint of {@code cn} to {@code outcome}: at once when registered (or when
     * {@code waitMillis} is 0), else when it is registered, or null after {@code waitMillis}.
     */
    public synchronized Wait lookupEndpoint(int cn, int waitMillis, Outcome<String> outcome) throws Refusal {
        requireCoordinator("the messaging directory");
        checkOpen();
        String e = endpoints.get(cn);
        if (e != null || waitMillis <= 0) {
            outcome.done(e);
            return NO_WAIT;
        }
        Lookup l = new Lookup(cn, outcome);
        lookups.computeIfAbsent(cn, k -> new ArrayList<>()).add(l);
        l.timeout = schedule(() -> lookupTimedOut(l), waitMillis);
        return l;
    }

    private synchronized void lookupTimedOut(Lookup l) {
        if (forget(l)) {
            l.outcome.done(null);
        }
    }

    /** Removes a pending lookup; false if it already finished. */
    private boolean forget(Lookup l) {
        List<Lookup> waiting = lookups.get(l.cn);
        if (waiting == null || !waiting.remove(l)) {
            return false;
        }
        if (waiting.isEmpty()) {
            lookups.remove(l.cn);
        }
        l.finish();
        return true;
    }

    private final class Lookup implements Wait {
        final int cn;
        final Outcome<String> outcome;
        ScheduledFuture<?> timeout;

        Lookup(int cn, Outcome<String> outcome) {
            this.cn = cn;
            this.outcome = outcome;
        }

        void finish() {
            if (timeout != null) {
                timeout.cancel(false);
            }
        }

        @Override
        public void cancel() {
            synchronized (ControlPlane.this) {
                forget(this);
            }
        }
    }

    /**
     * Arrives at barrier {@code name} for {@code parties} compute nodes with a payload; returns every
     * arrival's payload by compute-node id once all arrived (a counting barrier: nobody is excused).
     */
    public Map<Integer, byte[]> barrier(String name, int cn, int parties, int timeoutMillis, byte[] payload)
            throws Refusal, InterruptedException {
        return barrier(name, cn, parties, Set.of(), timeoutMillis, payload).arrivals();
    }

    /**
     * What a released barrier round tells every waiter.
     *
     * @param arrivals payload of every compute node that arrived, by id
     * @param departed members that left the cluster without arriving (empty for counting barriers)
     */
    public record BarrierRelease(Map<Integer, byte[]> arrivals, Set<Integer> departed) {
    }

    /**
     * Arrives at barrier {@code name}. With an empty {@code members} set it counts: it releases when
     * {@code parties} compute nodes arrived. With members (then {@code parties} is their number and
     * the caller one of them) it releases when every member either arrived or left the cluster, so a
     * compute node that dies does not hold up the others; the release names who left.
     */
    public BarrierRelease barrier(String name, int cn, int parties, Set<Integer> members, int timeoutMillis, byte[] payload)
            throws Refusal, InterruptedException {
        Blocking<BarrierRelease> b = new Blocking<>();
        return b.await(barrier(name, cn, parties, members, timeoutMillis, payload, b));
    }

    /**
     * The same arrival, whose release (or refusal) goes to {@code outcome}: at once when this
     * arrival completes the round, else when the round completes, {@code timeoutMillis} pass (the
     * arrival is then withdrawn: a timeout refusal), or the plane shuts down. A refusal of the
     * arrival itself is thrown. Cancelling the wait drops the outcome but keeps the arrival until
     * the round releases or the timeout withdraws it, as for a waiter that stopped listening.
     */
    public synchronized Wait barrier(String name, int cn, int parties, Set<Integer> members, int timeoutMillis,
                                     byte[] payload, Outcome<BarrierRelease> outcome) throws Refusal {
        checkOpen();
        requireCoordinator("barriers");
        if (!computeNodes.get(cn)) {
            throw new Refusal(ErrorCode.STATE, "compute node " + cn + " has not joined");
        }
        if (parties < 1 || parties > ControlFrame.MAX_COMPUTE_NODES) {
            throw new Refusal(ErrorCode.OUT_OF_RANGE, "barrier parties " + parties);
        }
        if (!members.isEmpty() && (members.size() != parties || !members.contains(cn))) {
            throw new Refusal(ErrorCode.STATE, "barrier '" + name + "': compute node " + cn + " names "
                    + members.size() + " members " + new TreeSet<>(members) + " for " + parties
                    + " parties; the members must be the parties and include the caller");
        }
        Barrier b = barriers.computeIfAbsent(name, n -> new Barrier(parties, members));
        if (b.parties != parties || !b.members.equals(members)) {
            throw new Refusal(ErrorCode.STATE, "barrier '" + name + "' is for " + b.describe()
                    + ", not " + new Barrier(parties, members).describe());
        }
        if (b.arrivals.containsKey(cn)) {
            throw new Refusal(ErrorCode.STATE, "compute node " + cn + " already waits at barrier '"
                    + name + "'");
        }
        b.arrivals.put(cn, payload);
        Arrival a = new Arrival(name, b, cn, timeoutMillis, outcome);
        b.waiting.put(cn, a);
        releaseIfComplete(name, b);
        if (b.released) {
            return NO_WAIT;
        }
        if (timeoutMillis <= 0) {
            a.timedOut();
            return NO_WAIT;
        }
        a.timeout = schedule(a::timedOut, timeoutMillis);
        return a;
    }

    /** One compute node waiting at a barrier round. */
    private final class Arrival implements Wait {
        final String name;
        final Barrier barrier;
        final int cn;
        final int timeoutMillis;
        Outcome<BarrierRelease> outcome;
        ScheduledFuture<?> timeout;

        Arrival(String name, Barrier barrier, int cn, int timeoutMillis, Outcome<BarrierRelease> outcome) {
            this.name = name;
            this.barrier = barrier;
            this.cn = cn;
            this.timeoutMillis = timeoutMillis;
            this.outcome = outcome;
        }

        /** The round released: under the plane's lock. */
        void release(BarrierRelease r) {
            if (timeout != null) {
                timeout.cancel(false);
            }
            if (outcome != null) {
                outcome.done(r);
                outcome = null;
            }
        }

        /** Under the plane's lock, or from the timer. */
        void timedOut() {
            synchronized (ControlPlane.this) {
                Barrier b = barrier;
                if (b.released || b.waiting.get(cn) != this) {
                    return;
                }
                b.waiting.remove(cn);
                b.arrivals.remove(cn);
                if (b.arrivals.isEmpty()) {
                    barriers.remove(name, b);
                }
                refuse(new Refusal(ErrorCode.TIMEOUT, "barrier '" + name + "': only "
                        + (b.arrivals.size() + 1) + " of " + b.parties + " compute nodes arrived within " + timeoutMillis + " ms"));
            }
        }

        void refuse(Refusal r) {
            if (timeout != null) {
                timeout.cancel(false);
            }
            if (outcome != null) {
                outcome.refused(r);
                outcome = null;
            }
        }

        @Override
        public void cancel() {
            synchronized (ControlPlane.this) {
                outcome = null;
            }
        }
    }

    /** Releases {@code b} when it is complete (under the plane's lock). */
    private void releaseIfComplete(String name, Barrier b) {
        if (b.released) {
            return;
        }
        Set<Integer> departed = new TreeSet<>();
        for (int m : b.members) {
            if (!b.arrivals.containsKey(m) && !computeNodes.get(m)) {
                departed.add(m);
            }
        }
        if (b.arrivals.size() + departed.size() >= b.parties) {
            b.released = true;
            b.departed = Collections.unmodifiableSet(departed);
            barriers.remove(name, b);
            BarrierRelease release = new BarrierRelease(b.arrivals, b.departed);
            for (Arrival a : b.waiting.values()) {
                a.release(release);
            }
            b.waiting.clear();
        }
    }

    /** Blocks until the plane shuts down (a compute node's liveness watch). */
    public void awaitShutdown() throws InterruptedException {
        CompletableFuture<Void> f = new CompletableFuture<>();
        watchShutdown(() -> f.complete(null));
        try {
            f.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Runs {@code onShutdown} once the plane shuts down (at once if it has): a compute node's liveness watch. */
    public synchronized Wait watchShutdown(Runnable onShutdown) {
        if (shutdown) {
            onShutdown.run();
            return NO_WAIT;
        }
        Watch w = new Watch(onShutdown);
        watches.add(w);
        return w;
    }

    /** Pending watches, lookups and barrier arrivals: what waits now (for tests and stats). */
    public synchronized int waiting() {
        int n = watches.size();
        for (List<Lookup> l : lookups.values()) {
            n += l.size();
        }
        for (Barrier b : barriers.values()) {
            n += b.waiting.size();
        }
        return n;
    }

    private final class Watch implements Wait {
        final Runnable onShutdown;

        Watch(Runnable onShutdown) {
            this.onShutdown = onShutdown;
        }

        @Override
        public void cancel() {
            synchronized (ControlPlane.this) {
                watches.remove(this);
            }
        }
    }

    /** Wakes every waiter: watches run, lookups and barrier arrivals are refused; later calls are refused. */
    public synchronized void shutdown() {
        if (shutdown) {
            return;
        }
        shutdown = true;
        Refusal stopping = new Refusal(ErrorCode.SHUTTING_DOWN, "memory node " + node.id() + " is stopping");
        for (Watch w : List.copyOf(watches)) {
            w.onShutdown.run();
        }
        watches.clear();
        for (List<Lookup> waiting : List.copyOf(lookups.values())) {
            for (Lookup l : waiting) {
                l.finish();
                l.outcome.refused(stopping);
            }
        }
        lookups.clear();
        for (Barrier b : List.copyOf(barriers.values())) {
            for (Arrival a : List.copyOf(b.waiting.values())) {
                a.refuse(stopping);
            }
            b.waiting.clear();
        }
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    private ScheduledFuture<?> schedule(Runnable task, long millis) {
        if (timer == null) {
            timer = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "dmtree-mn" + node.id() + "-control-timer");
                t.setDaemon(true);
                return t;
            });
            timer.setRemoveOnCancelPolicy(true);
        }
        return timer.schedule(task, millis, TimeUnit.MILLISECONDS);
    }

    /** An outcome a caller's thread waits for. */
    private static final class Blocking<T> implements Outcome<T> {
        private final CompletableFuture<T> result = new CompletableFuture<>();

        @Override
        public void done(T value) {
            result.complete(value);
        }

        @Override
        public void refused(Refusal refusal) {
            result.completeExceptionally(refusal);
        }

        T await(Wait w) throws Refusal, InterruptedException {
            try {
                return result.get();
            } catch (InterruptedException e) {
                w.cancel();
                throw e;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Refusal r) {
                    throw r;
                }
                throw new IllegalStateException(e.getCause());
            }
        }
    }

    private void checkOpen() throws Refusal {
        if (shutdown) {
            throw new Refusal(ErrorCode.SHUTTING_DOWN, "memory node " + node.id() + " is stopping");
        }
    }

    private void requireCoordinator(String what) throws Refusal {
        if (!coordinator()) {
            throw new Refusal(ErrorCode.STATE, what + " live on memory node 0, not " + node.id());
        }
    }

    private static final class Barrier {
        final int parties;
        final Set<Integer> members;
        final Map<Integer, byte[]> arrivals = new TreeMap<>();
        final Map<Integer, Arrival> waiting = new HashMap<>();
        Set<Integer> departed = Set.of();
        boolean released;

        Barrier(int parties, Set<Integer> members) {
            this.parties = parties;
            this.members = Set.copyOf(members);
        }

        String describe() {
            return members.isEmpty() ? parties + " compute nodes" : "members " + new TreeSet<>(members);
        }
    }
}
