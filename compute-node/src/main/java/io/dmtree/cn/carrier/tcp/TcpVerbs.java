package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.wire.FrameWriter;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The {@code tcp} carrier: one compute node's verbs on memory nodes that run a tcp verb service.
 * A single verb is a batch of one. A batch becomes one request frame per memory node touched; the
 * frames are submitted back to back and the call then waits for all replies, so a batch costs one
 * round trip per memory node, as counted. Requests to one memory node stay in batch order (one
 * frame, executed in order).
 *
 * <p>Each thread keeps one encoder and one {@link PendingCall} per memory node and always uses the
 * same of the {@code connectionsPerNode} connections to a node (its lane), so a verb allocates
 * nothing. Frames of concurrent threads on one connection leave in one socket write and their
 * replies are read by the waiting threads themselves; see {@link VerbConnection}.
 *
 * <p>A memory node that dies or stops answering makes its verbs throw
 * {@link RemoteAccessException} within the configured timeout.
 */
public final class TcpVerbs implements Verbs {
    private final VerbConnection[][] connections;
    private final ThreadLocal<ThreadState> threadState;

    private final class ThreadState {
        final VerbBatch single = new VerbBatch();
        final FrameWriter[] writers = new FrameWriter[connections.length];
        final PendingCall[] calls = new PendingCall[connections.length];
        final VerbConnection[] used = new VerbConnection[connections.length];
        final int lane = (int) (Thread.currentThread().getId() % connections[0].length);

        ThreadState() {
            for (int i = 0; i < calls.length; i++) {
                calls[i] = new PendingCall(i);
                writers[i] = new FrameWriter(1024);
            }
        }
    }

    private TcpVerbs(VerbConnection[][] connections) {
        this.connections = connections;
        this.threadState = ThreadLocal.withInitial(ThreadState::new);
    }

    /**
     * Connects to the verb services of the memory nodes listed by id (position {@code i} is memory
     * node {@code i}); fails with a message naming the unreachable node.
     */
    public static TcpVerbs connect(List<InetSocketAddress> memoryNodes, TcpVerbsConfig config) {
        return connect(memoryNodes, config, HelloFrame.NO_COMPUTE_NODE, 0);
    }

    /**
     * Connects as incarnation {@code (computeNode, epoch)} of a cluster with membership: memory
     * nodes that fenced it refuse its verbs, which then throw {@link io.dmtree.core.memory.FencedException}.
     */
    public static TcpVerbs connect(List<InetSocketAddress> memoryNodes, TcpVerbsConfig config, int computeNode, long epoch) {
        return connect(memoryNodes, config, computeNode, epoch, null);
    }

    /** ... proving {@code secret} to every memory node and checking theirs (null: none). */
    public static TcpVerbs connect(List<InetSocketAddress> memoryNodes, TcpVerbsConfig config, int computeNode, long epoch,
                                   io.dmtree.core.wire.ClusterSecret secret) {
        if (memoryNodes.isEmpty()) {
            throw new IllegalArgumentException("no memory node to connect to");
        }
        VerbConnection[][] conns = new VerbConnection[memoryNodes.size()][config.connectionsPerNode()];
        try {
            for (int mn = 0; mn < conns.length; mn++) {
                for (int c = 0; c < conns[mn].length; c++) {
                    conns[mn][c] = new VerbConnection(mn, memoryNodes.get(mn), config.maxOutstanding(),
                            config.maxFrameBytes(), config.timeoutMillis(), config.spins(), computeNode, epoch, secret);
                }
            }
        } catch (IOException e) {
            closeAll(conns);
            throw new RemoteAccessException("cannot open the tcp verb connection: " + e.getMessage(), e);
        } catch (RuntimeException e) { // a FencedException: this incarnation is refused
            closeAll(conns);
            throw e;
        }
        return new TcpVerbs(conns);
    }

    @Override
    public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        ThreadState t = threadState.get();
        t.single.clear();
        post(t, t.single.read(address, dst, dstOffset, length));
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        ThreadState t = threadState.get();
        t.single.clear();
        post(t, t.single.write(address, src, srcOffset, length));
    }

    @Override
    public long cas(long address, long expected, long desired) {
        ThreadState t = threadState.get();
        t.single.clear();
        post(t, t.single.cas(address, expected, desired));
        return t.single.result(0);
    }

    @Override
    public long faa(long address, long delta) {
        ThreadState t = threadState.get();
        t.single.clear();
        post(t, t.single.faa(address, delta));
        return t.single.result(0);
    }

    @Override
    public void post(VerbBatch batch) {
        post(threadState.get(), batch);
    }

    private void post(ThreadState t, VerbBatch batch) {
        int n = batch.size();
        if (n == 0) {
            return;
        }
        for (int i = 0; i < n; i++) {
            int mn = GlobalAddress.memoryNode(batch.address(i));
            if (mn >= connections.length) {
                throw new RemoteAccessException("no memory node " + mn + " (address " + GlobalAddress.toString(batch.address(i))
                        + "); this compute node knows " + connections.length);
            }
        }
        // encode every frame first, so a batch refused here (buffer bounds, size) sends nothing
        for (int i = 0; i < n; i++) {
            int mn = GlobalAddress.memoryNode(batch.address(i));
            if (batch.firstToMemoryNode(i)) {
                t.calls[mn].encode(batch, t.writers[mn], connections[mn][t.lane].maxFrameBytes());
            }
        }
        int sent = 0;
        RuntimeException failure = null;
        try {
            for (int i = 0; i < n; i++) {
                int mn = GlobalAddress.memoryNode(batch.address(i));
                if (batch.firstToMemoryNode(i)) {
                    VerbConnection c = connections[mn][t.lane];
                    c.send(t.calls[mn]);
                    t.used[sent++] = c;
                }
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        for (int s = 0, i = 0; s < sent; i++) {
            int mn = GlobalAddress.memoryNode(batch.address(i));
            if (batch.firstToMemoryNode(i)) {
                try {
                    t.used[s].await(t.calls[mn]);
                } catch (RuntimeException e) {
                    if (failure == null) {
                        failure = e;
                    }
                }
                t.used[s] = null;
                s++;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public int memoryNodeCount() {
        return connections.length;
    }

    /**
     * Memory node {@code mn} was reported gone: its connections fail with {@code reason}, so verbs to
     * it throw at once instead of waiting for their timeout.
     */
    public void memoryNodeLost(int mn, String reason) {
        if (mn >= 0 && mn < connections.length) {
            for (VerbConnection c : connections[mn]) {
                c.lost(reason);
            }
        }
    }

    /** What the connections did on the wire so far, summed over every memory node. */
    public WireStats wireStats() {
        WireStats sum = WireStats.ZERO;
        for (VerbConnection[] row : connections) {
            for (VerbConnection c : row) {
                sum = sum.plus(c.stats());
            }
        }
        return sum;
    }

    /** Each connection's state in a few words (diagnostics). */
    String describe() {
        StringBuilder b = new StringBuilder();
        for (int mn = 0; mn < connections.length; mn++) {
            for (int c = 0; c < connections[mn].length; c++) {
                b.append("mn").append(mn).append('/').append(c).append(": ").append(connections[mn][c].describe()).append('\n');
            }
        }
        return b.toString();
    }

    /** True once a connection to memory node {@code mn} failed. */
    public boolean failed(int mn) {
        for (VerbConnection c : connections[mn]) {
            if (c.failed()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        closeAll(connections);
    }

    private static void closeAll(VerbConnection[][] conns) {
        for (VerbConnection[] row : conns) {
            for (VerbConnection c : row) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }
}
