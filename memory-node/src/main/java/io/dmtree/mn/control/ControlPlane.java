package io.dmtree.mn.control;

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
import java.util.concurrent.TimeUnit;

/**
 * The control-plane state of one memory node: which compute nodes joined, the directory of their
 * messaging endpoints, named barriers, chunk allocation and the home of the root pointer.
 * Memory node 0 coordinates (assigns compute-node ids, keeps the directory and the barriers);
 * every memory node hands out its own chunks. All methods are thread-safe; waits end at their
 * timeout or when the plane is {@link #shutdown() shut down}.
 *
 * <p>Invariants: a compute-node id is held by at most one live session of memory node 0; a
 * counting barrier round releases exactly when its declared number of distinct compute nodes
 * arrived; a member barrier round releases exactly when each of its members arrived or left the
 * cluster; every waiter of a round gets the same arrival list (and list of departed members); a compute node that leaves loses its id
 * and directory entry (a waiter can no longer be told a grant it would never read).
 */
public final class ControlPlane {
    private final MemoryNode node;
    private final RegionDescription description;
    private final BitSet computeNodes = new BitSet();
    private final Map<Integer, String> endpoints = new HashMap<>();
    private final Map<String, Barrier> barriers = new HashMap<>();
    private boolean shutdown;

    public ControlPlane(MemoryNode node, RegionDescription description) {
        this.node = node;
        this.description = description;
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
        private final int code;

        public Refusal(int code, String message) {
            super(message);
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    /** Registers a compute node; returns its id. */
    public synchronized int join(int wanted) throws Refusal {
        checkOpen();
        if (!coordinator()) {
            if (wanted == ControlFrame.ANY_COMPUTE_NODE) {
                throw new Refusal(FrameHeader.ERROR_STATE,
                        "join memory node 0 first: it assigns compute-node ids");
            }
            checkId(wanted);
            computeNodes.set(wanted);
            return wanted;
        }
        int id;
        if (wanted == ControlFrame.ANY_COMPUTE_NODE) {
            id = computeNodes.nextClearBit(0);
            if (id >= ControlFrame.MAX_COMPUTE_NODES) {
                throw new Refusal(FrameHeader.ERROR_NO_SPACE, "all " + ControlFrame.MAX_COMPUTE_NODES
                        + " compute-node ids are taken");
            }
        } else {
            checkId(wanted);
            if (computeNodes.get(wanted)) {
                throw new Refusal(FrameHeader.ERROR_STATE, "compute node id " + wanted
                        + " is taken by a running compute node");
            }
            id = wanted;
        }
        computeNodes.set(id);
        return id;
    }

    private static void checkId(int id) throws Refusal {
        if (id < 0 || id >= ControlFrame.MAX_COMPUTE_NODES) {
            throw new Refusal(FrameHeader.ERROR_OUT_OF_RANGE, "compute node id " + id + " outside [0, "
                    + ControlFrame.MAX_COMPUTE_NODES + ")");
        }
    }

    /** The compute node left or its session ended. */
    public synchronized void leave(int cn) {
        if (cn < 0) {
            return;
        }
        computeNodes.clear(cn);
        removeOrphanedInbox(endpoints.remove(cn));
        for (Map.Entry<String, Barrier> e : List.copyOf(barriers.entrySet())) {
            releaseIfComplete(e.getKey(), e.getValue());
        }
        notifyAll();
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
            throw new Refusal(FrameHeader.ERROR_NO_SPACE, e.getMessage());
        }
    }

    public long rootHome() throws Refusal {
        if (!coordinator()) {
            throw new Refusal(FrameHeader.ERROR_STATE, "the root pointer lives on memory node 0, not "
                    + node.id());
        }
        return GlobalAddress.of(0, RegionLayout.ROOT_POINTER_OFFSET);
    }

    public synchronized void registerEndpoint(int cn, String endpoint) throws Refusal {
        checkOpen();
        requireCoordinator("the messaging directory");
        if (!computeNodes.get(cn)) {
            throw new Refusal(FrameHeader.ERROR_STATE, "compute node " + cn + " has not joined");
        }
        endpoints.put(cn, endpoint);
        notifyAll();
    }

    /** The endpoint of {@code cn}, waiting up to {@code waitMillis} for it to be registered; null if absent. */
    public synchronized String lookupEndpoint(int cn, int waitMillis) throws Refusal, InterruptedException {
        requireCoordinator("the messaging directory");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        while (true) {
            checkOpen();
            String e = endpoints.get(cn);
            long left = deadline - System.nanoTime();
            if (e != null || left <= 0) {
                return e;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
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
    public synchronized BarrierRelease barrier(String name, int cn, int parties, Set<Integer> members, int timeoutMillis,
                                               byte[] payload) throws Refusal, InterruptedException {
        checkOpen();
        requireCoordinator("barriers");
        if (!computeNodes.get(cn)) {
            throw new Refusal(FrameHeader.ERROR_STATE, "compute node " + cn + " has not joined");
        }
        if (parties < 1 || parties > ControlFrame.MAX_COMPUTE_NODES) {
            throw new Refusal(FrameHeader.ERROR_OUT_OF_RANGE, "barrier parties " + parties);
        }
        if (!members.isEmpty() && (members.size() != parties || !members.contains(cn))) {
            throw new Refusal(FrameHeader.ERROR_STATE, "barrier '" + name + "': compute node " + cn + " names "
                    + members.size() + " members " + new TreeSet<>(members) + " for " + parties
                    + " parties; the members must be the parties and include the caller");
        }
        Barrier b = barriers.computeIfAbsent(name, n -> new Barrier(parties, members));
        if (b.parties != parties || !b.members.equals(members)) {
            throw new Refusal(FrameHeader.ERROR_STATE, "barrier '" + name + "' is for " + b.describe()
                    + ", not " + new Barrier(parties, members).describe());
        }
        if (b.arrivals.containsKey(cn)) {
            throw new Refusal(FrameHeader.ERROR_STATE, "compute node " + cn + " already waits at barrier '"
                    + name + "'");
        }
        b.arrivals.put(cn, payload);
        releaseIfComplete(name, b);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!b.released) {
            long left = deadline - System.nanoTime();
            if (shutdown) {
                throw new Refusal(FrameHeader.ERROR_SHUTTING_DOWN, "memory node " + node.id() + " is stopping");
            }
            if (left <= 0) {
                b.arrivals.remove(cn);
                if (b.arrivals.isEmpty()) {
                    barriers.remove(name, b);
                }
                throw new Refusal(FrameHeader.ERROR_TIMEOUT, "barrier '" + name + "': only "
                        + (b.arrivals.size() + 1) + " of " + parties + " compute nodes arrived within " + timeoutMillis + " ms");
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return new BarrierRelease(b.arrivals, b.departed);
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
            notifyAll();
        }
    }

    /** Blocks until the plane shuts down (a compute node's liveness watch). */
    public synchronized void awaitShutdown() throws InterruptedException {
        while (!shutdown) {
            wait();
        }
    }

    /** Wakes every waiter; later calls are refused. */
    public synchronized void shutdown() {
        shutdown = true;
        notifyAll();
    }

    private void checkOpen() throws Refusal {
        if (shutdown) {
            throw new Refusal(FrameHeader.ERROR_SHUTTING_DOWN, "memory node " + node.id() + " is stopping");
        }
    }

    private void requireCoordinator(String what) throws Refusal {
        if (!coordinator()) {
            throw new Refusal(FrameHeader.ERROR_STATE, what + " live on memory node 0, not " + node.id());
        }
    }

    private static final class Barrier {
        final int parties;
        final Set<Integer> members;
        final Map<Integer, byte[]> arrivals = new TreeMap<>();
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
