package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
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
 * frames go out back to back and the call then waits for all replies, so a batch costs one round
 * trip per memory node, as counted. Requests to one memory node stay in batch order (one frame,
 * executed in order).
 *
 * <p>A memory node that dies or stops answering makes its verbs throw
 * {@link RemoteAccessException} within the configured timeout; see {@link VerbConnection}.
 */
public final class TcpVerbs implements Verbs {
    private final VerbConnection[][] connections;
    private final ThreadLocal<ThreadState> threadState;

    private final class ThreadState {
        final VerbBatch single = new VerbBatch();
        final FrameWriter[] writers = new FrameWriter[connections.length];
        final VerbConnection.PendingCall[] calls = new VerbConnection.PendingCall[connections.length];
        final VerbConnection[] used = new VerbConnection[connections.length];
        final int lane = (int) (Thread.currentThread().getId() % connections[0].length);

        ThreadState() {
            for (int i = 0; i < calls.length; i++) {
                calls[i] = new VerbConnection.PendingCall(i);
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
        if (memoryNodes.isEmpty()) {
            throw new IllegalArgumentException("no memory node to connect to");
        }
        VerbConnection[][] conns = new VerbConnection[memoryNodes.size()][config.connectionsPerNode()];
        try {
            for (int mn = 0; mn < conns.length; mn++) {
                for (int c = 0; c < conns[mn].length; c++) {
                    conns[mn][c] = new VerbConnection(mn, memoryNodes.get(mn), config.maxOutstanding(),
                            config.maxFrameBytes(), config.timeoutMillis());
                }
            }
        } catch (IOException e) {
            closeAll(conns);
            throw new RemoteAccessException("cannot open the tcp verb connection: " + e.getMessage(), e);
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
                    c.send(t.calls[mn], t.writers[mn]);
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

    /** True once the connections to memory node {@code mn} failed. */
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
