package io.dmtree.mn.carrier;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The processes of this host's compute nodes, by compute-node id, as their control-plane JOIN
 * told this memory node (the JOIN carries the sender's process id, {@link
 * io.dmtree.core.wire.ControlFrame}). A carrier that fences by stopping a process (shm: compute
 * nodes map the region, and nothing but stopping them takes the mapping away) looks them up here.
 *
 * <p>A process is remembered as a {@link ProcessHandle}, which names the process by id and start
 * time, so a process id reused by an unrelated later process is never mistaken for it. An entry
 * stays when the compute node's control connection drops (a crashed or frozen compute node is
 * exactly what gets fenced) and goes when it leaves cleanly (LEAVE) or another process joins in
 * its slot. This memory node's own process, and ids 0 and 1, are never recorded. The host each
 * compute node's control connection came from is kept the same way (rdma fences by it).
 */
public final class ComputeNodeProcesses {
    private final ConcurrentHashMap<Integer, ProcessHandle> bySlot = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, InetAddress> hosts = new ConcurrentHashMap<>();

    /**
     * Compute node {@code computeNode} joined from process {@code pid} (0: not told) whose control
     * connection came from {@code peer} (null: unknown).
     */
    public void joined(int computeNode, long pid, SocketAddress peer) {
        if (peer instanceof InetSocketAddress a && a.getAddress() != null) {
            hosts.put(computeNode, a.getAddress());
        } else {
            hosts.remove(computeNode);
        }
        if (pid <= 1 || pid == ProcessHandle.current().pid()) {
            bySlot.remove(computeNode);
            return;
        }
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isPresent()) {
            bySlot.put(computeNode, h.get());
        } else {
            bySlot.remove(computeNode); // gone already
        }
    }

    /** Compute node {@code computeNode} left cleanly: nothing of it is to be stopped. */
    public void left(int computeNode) {
        bySlot.remove(computeNode);
        hosts.remove(computeNode);
    }

    /** The host compute node {@code computeNode}'s control connection came from, if known. */
    public Optional<InetAddress> host(int computeNode) {
        return Optional.ofNullable(hosts.get(computeNode));
    }

    /** The process that last joined as {@code computeNode} and did not leave, if any. */
    public Optional<ProcessHandle> process(int computeNode) {
        return Optional.ofNullable(bySlot.get(computeNode));
    }
}
