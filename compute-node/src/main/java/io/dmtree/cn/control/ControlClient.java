package io.dmtree.cn.control;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.core.wire.AuthenticationException;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.ErrorReply;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.core.wire.RegionDescription;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * A compute node's control-plane connection to one memory node ({@link ControlFrame}). Calls are
 * synchronous and serialised on the connection; each waits at most its timeout (barriers and
 * directory lookups: their own wait plus the call timeout). A refusal by the memory node becomes a
 * {@link ControlException} carrying its message; a lost connection an {@link ControlException}
 * saying the memory node is unreachable.
 */
public final class ControlClient implements AutoCloseable {
    private final InetSocketAddress address;
    private final FrameChannel channel;
    private final FrameWriter writer = new FrameWriter();
    private final FrameReader reader = new FrameReader();
    private final int timeoutMillis;
    private final ClusterSecret secret;
    private long nextId = 1;
    private volatile boolean closed;
    private Thread watcher;
    private FrameChannel watchChannel;

    private ControlClient(InetSocketAddress address, FrameChannel channel, int timeoutMillis, ClusterSecret secret) {
        this.address = address;
        this.secret = secret;
        this.channel = channel;
        this.timeoutMillis = timeoutMillis;
    }

    public static ControlClient connect(InetSocketAddress address, int timeoutMillis) {
        return connect(address, timeoutMillis, null);
    }

    /**
     * Connects proving {@code secret} (null: none) and checking the memory node's proof; a failure
     * of either is an {@link AuthenticationFailedException}.
     */
    public static ControlClient connect(InetSocketAddress address, int timeoutMillis, ClusterSecret secret) {
        try {
            return new ControlClient(address, FrameChannel.open(address, HelloFrame.SERVICE_CONTROL, 4 << 20, timeoutMillis,
                    secret), timeoutMillis, secret);
        } catch (AuthenticationException e) {
            throw new AuthenticationFailedException("the memory node at " + describe(address) + " and this process "
                    + "did not authenticate each other: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ControlException("cannot reach the memory node at " + describe(address) + ": " + e.getMessage(), e);
        }
    }

    /** The id of the memory node at the other end (from its HELLO). */
    public int memoryNodeId() {
        return channel.peer().nodeId();
    }

    public InetSocketAddress address() {
        return address;
    }

    /** The local address of this connection: the interface by which this host reaches the memory node. */
    public InetSocketAddress localAddress() {
        InetSocketAddress a = channel.localAddress();
        if (a == null) {
            throw new ControlException("the connection to the memory node at " + describe(address) + " is closed");
        }
        return a;
    }

    /** This process's id as JOIN carries it (an shm memory node fences a compute node by stopping it). */
    private static final int OWN_PID = (int) ProcessHandle.current().pid();

    /** Joins; {@code wanted} is {@link ControlFrame#ANY_COMPUTE_NODE} on memory node 0. Returns the id. */
    public synchronized int join(int wanted) {
        return join(wanted, 0);
    }

    /** Joins as incarnation {@code epoch} of its membership slot (0: a cluster without membership). */
    public synchronized int join(int wanted, long epoch) {
        FrameReader r = call(begin(FrameHeader.TYPE_JOIN).u16(wanted).u16(0).i32(OWN_PID).i64(epoch), timeoutMillis, "JOIN");
        return read(() -> {
            int cn = r.u16("compute node id");
            r.skip(6, "memory node id and padding");
            return cn;
        });
    }

    public synchronized void leave() {
        call(begin(FrameHeader.TYPE_LEAVE), timeoutMillis, "LEAVE");
    }

    public synchronized RegionDescription describe() {
        FrameReader r = call(begin(FrameHeader.TYPE_DESCRIBE), timeoutMillis, "DESCRIBE");
        return read(() -> RegionDescription.decode(r));
    }

    public synchronized long allocateChunk() {
        FrameReader r = call(begin(FrameHeader.TYPE_ALLOCATE_CHUNK), timeoutMillis, "ALLOCATE_CHUNK");
        return read(() -> r.i64("chunk address"));
    }

    public synchronized long rootHome() {
        FrameReader r = call(begin(FrameHeader.TYPE_ROOT_HOME), timeoutMillis, "ROOT_HOME");
        return read(() -> r.i64("root pointer address"));
    }

    public synchronized void registerEndpoint(String endpoint) {
        call(begin(FrameHeader.TYPE_REGISTER_ENDPOINT).string(endpoint, ControlFrame.MAX_ENDPOINT_BYTES), timeoutMillis,
                "REGISTER_ENDPOINT");
    }

    /** The messaging endpoint of compute node {@code cn}, waiting up to {@code waitMillis} for it. */
    public synchronized Optional<String> lookupEndpoint(int cn, int waitMillis) {
        FrameReader r = call(begin(FrameHeader.TYPE_LOOKUP_ENDPOINT).u16(cn).u16(0).i32(waitMillis),
                timeoutMillis + waitMillis, "LOOKUP_ENDPOINT");
        return read(() -> {
            boolean found = r.u8("found") != 0;
            String e = r.string(ControlFrame.MAX_ENDPOINT_BYTES, "endpoint");
            return found ? Optional.of(e) : Optional.<String>empty();
        });
    }

    /**
     * Waits at barrier {@code name} until {@code parties} compute nodes arrived; returns every
     * arrival's payload by compute-node id.
     */
    public Map<Integer, byte[]> barrier(String name, int parties, int waitMillis, byte[] payload) {
        return barrier(name, parties, Set.of(), waitMillis, payload).arrivals();
    }

    /**
     * Waits at barrier {@code name}: a counting barrier for {@code parties} when {@code members} is
     * empty, else a barrier of those members that releases when each arrived or left the cluster.
     */
    public synchronized BarrierRelease barrier(String name, int parties, Set<Integer> members, int waitMillis,
                                               byte[] payload) {
        FrameWriter w = begin(FrameHeader.TYPE_BARRIER).string(name, ControlFrame.MAX_BARRIER_NAME_BYTES).u16(parties)
                .i32(waitMillis).i32(payload.length).bytes(payload).u16(members.size());
        for (int m : new TreeSet<>(members)) {
            w.u16(m);
        }
        FrameReader r = call(w, timeoutMillis + waitMillis, "BARRIER");
        return read(() -> {
            int n = r.u16("arrivals");
            Map<Integer, byte[]> all = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                int cn = r.u16("compute node id");
                int len = r.i32("payload bytes");
                if (len < 0 || len > ControlFrame.MAX_BARRIER_PAYLOAD_BYTES) {
                    throw new MalformedFrameException(ErrorCode.TOO_LARGE, "payload of " + len + " bytes");
                }
                all.put(cn, r.bytes(len, "payload"));
            }
            int d = r.u16("departed");
            Set<Integer> departed = new TreeSet<>();
            for (int i = 0; i < d; i++) {
                departed.add(r.u16("departed compute node id"));
            }
            return new BarrierRelease(all, departed);
        });
    }

    /**
     * Arrives at barrier {@code name} (as {@link #barrier(String, int, Set, int, byte[])}) with
     * {@code payload}, then hangs up without waiting for the round to release: the memory node
     * keeps an arrival whose connection closed until its round releases or {@code waitMillis}
     * pass, so the round's other parties still receive {@code payload}; the hang-up ends this
     * compute node's session with the memory node (it leaves). A compute node that cannot go on uses
     * it to tell the others why. Waits at most {@code refusalWaitMillis} for an immediate answer: a
     * refusal (the round is for other parties, say) throws {@link ControlException} and keeps the
     * connection (nothing changed at the memory node; the caller may try other parties); a release
     * or no answer (the arrival waits) returns; a broken connection throws. Unless refused, this
     * client is closed afterwards.
     */
    public synchronized void arriveAndHangUp(String name, int parties, Set<Integer> members, int waitMillis, byte[] payload,
                                             int refusalWaitMillis) {
        boolean hangUp = true;
        try {
            FrameWriter w = begin(FrameHeader.TYPE_BARRIER).string(name, ControlFrame.MAX_BARRIER_NAME_BYTES).u16(parties)
                    .i32(waitMillis).i32(payload.length).bytes(payload).u16(members.size());
            for (int m : new TreeSet<>(members)) {
                w.u16(m);
            }
            w.finish();
            try {
                channel.write(w);
            } catch (IOException e) {
                throw new ControlException("memory node at " + describe(address) + " is unreachable (BARRIER): "
                        + e.getMessage(), e);
            }
            try {
                channel.readWithTimeout(refusalWaitMillis);
            } catch (java.net.SocketTimeoutException e) {
                return; // no answer yet: the arrival waits for the others
            } catch (IOException | MalformedFrameException e) {
                throw new ControlException("memory node at " + describe(address) + " is unreachable (BARRIER): "
                        + e.getMessage(), e);
            }
            reader.wrap(channel.frame(), 0, channel.frameLength());
            if (reader.type() == FrameHeader.TYPE_ERROR) {
                ErrorReply e = ErrorReply.of(reader);
                hangUp = false;
                throw new ControlException("BARRIER refused by memory node " + memoryNodeId() + ": " + e.message(), e.code());
            }
        } finally {
            if (hangUp) {
                close();
            }
        }
    }

    /**
     * Watches the memory node on a connection of its own: {@code onLost} runs once, on a daemon
     * thread, when the memory node stops or its connection breaks (not after {@link #close()}).
     */
    public synchronized void watch(Consumer<String> onLost) {
        if (watcher != null) {
            throw new IllegalStateException("already watching");
        }
        FrameChannel ch;
        try {
            ch = FrameChannel.open(address, HelloFrame.SERVICE_CONTROL, 64 * 1024, timeoutMillis, secret);
            FrameWriter w = new FrameWriter(64);
            ch.write(w.begin(FrameHeader.TYPE_WATCH, 0, 1).finish());
        } catch (IOException e) {
            throw new ControlException("cannot watch the memory node at " + describe(address) + ": " + e.getMessage(), e);
        }
        watchChannel = ch;
        watcher = new Thread(() -> {
            String reason;
            try {
                ch.read();
                FrameReader r = new FrameReader().wrap(ch.frame(), 0, ch.frameLength());
                reason = r.type() == FrameHeader.TYPE_ERROR ? ErrorReply.of(r).message() : "it answered its watch";
            } catch (IOException e) {
                reason = "its connection broke (" + e.getMessage() + ")";
            } catch (MalformedFrameException e) {
                reason = "it sent a bad frame (" + e.getMessage() + ")";
            }
            if (!closed) {
                onLost.accept("memory node " + memoryNodeId() + " at " + describe(address) + " stopped: " + reason);
            }
        }, "dmtree-watch-mn" + memoryNodeId());
        watcher.setDaemon(true);
        watcher.start();
    }

    private FrameWriter begin(int type) {
        if (closed) {
            throw new ControlException("the control connection to " + describe(address) + " is closed");
        }
        return writer.begin(type, 0, nextId++);
    }

    private FrameReader call(FrameWriter w, int waitMillis, String what) {
        w.finish();
        long id = w.buffer().getLong(FrameHeader.CORRELATION_OFFSET, java.nio.ByteOrder.LITTLE_ENDIAN);
        try {
            channel.write(w);
            channel.readWithTimeout(waitMillis);
        } catch (IOException | MalformedFrameException e) {
            channel.close();
            closed = true;
            throw new ControlException("memory node at " + describe(address) + " is unreachable (" + what + "): "
                    + e.getMessage(), e);
        }
        reader.wrap(channel.frame(), 0, channel.frameLength());
        if (reader.correlationId() != id) {
            channel.close();
            closed = true;
            throw new ControlException("memory node at " + describe(address) + " answered request " + reader.correlationId()
                    + " instead of " + id);
        }
        if (reader.type() == FrameHeader.TYPE_ERROR) {
            ErrorReply e = ErrorReply.of(reader);
            throw new ControlException(what + " refused by memory node " + memoryNodeId() + ": " + e.message(), e.code());
        }
        int type = w.buffer().getByte(FrameHeader.TYPE_OFFSET) & 0xFF;
        if (reader.type() != (type | FrameHeader.REPLY_BIT)) {
            throw new ControlException("memory node " + memoryNodeId() + " answered " + what + " with "
                    + FrameHeader.typeName(reader.type()));
        }
        return reader;
    }

    private interface Decoder<T> {
        T decode() throws MalformedFrameException;
    }

    private <T> T read(Decoder<T> d) {
        try {
            T t = d.decode();
            reader.end();
            return t;
        } catch (MalformedFrameException e) {
            throw new ControlException("memory node " + memoryNodeId() + " sent a bad reply: " + e.getMessage(), e);
        }
    }

    static String describe(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    @Override
    public synchronized void close() {
        closed = true;
        channel.close();
        if (watchChannel != null) {
            watchChannel.close();
        }
    }
}
