package io.dmtree.mn.control;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameService;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.core.wire.PendingReply;
import io.dmtree.core.wire.SessionContext;
import io.dmtree.mn.carrier.ComputeNodeProcesses;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Decodes control-plane frames ({@link ControlFrame}) and answers them from the
 * {@link ControlPlane}. Each session remembers the compute node that joined on it; when the
 * session ends that compute node leaves, so a compute node killed without saying goodbye frees its
 * id and directory entry.
 *
 * <p>Requests that wait (BARRIER, LOOKUP_ENDPOINT with a wait, WATCH) are parked: the session
 * hands the plane an outcome that completes the connection's {@link PendingReply}, so a waiting
 * compute node holds no thread of the memory node, however many wait and however long. A session
 * whose connection closes cancels its wait. A joined session stays open when idle: its connection
 * is the compute node's membership (closing it would make the node leave), and there are at most
 * {@link ControlFrame#MAX_COMPUTE_NODES} of them.
 */
public final class ControlService implements FrameService {
    /**
     * The largest control request: a BARRIER with the longest name, the largest payload and a
     * member list of every compute node.
     */
    public static final int MAX_REQUEST_BYTES = FrameHeader.LENGTH + 2 + ControlFrame.MAX_BARRIER_NAME_BYTES + 2 + 4 + 4
            + ControlFrame.MAX_BARRIER_PAYLOAD_BYTES + 2 + 2 * ControlFrame.MAX_COMPUTE_NODES;

    private final ControlPlane plane;
    private final int maxFrameBytes;
    private final ComputeNodeProcesses processes;

    public ControlService(ControlPlane plane) {
        this(plane, MAX_REQUEST_BYTES);
    }

    /** A control service that takes frames of at most {@code maxFrameBytes}. */
    public ControlService(ControlPlane plane, int maxFrameBytes) {
        this(plane, maxFrameBytes, new ComputeNodeProcesses());
    }

    /** ... and records in {@code processes} which process joined as which compute node. */
    public ControlService(ControlPlane plane, int maxFrameBytes, ComputeNodeProcesses processes) {
        this.plane = plane;
        this.maxFrameBytes = maxFrameBytes;
        this.processes = processes;
    }

    @Override
    public int serviceId() {
        return HelloFrame.SERVICE_CONTROL;
    }

    @Override
    public Session open(SessionContext context) {
        return new ControlSession(context);
    }

    @Override
    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    private final class ControlSession implements Session {
        private final SessionContext context;
        private int joined = -1;
        private long joinedEpoch;
        private ControlPlane.Wait waiting = ControlPlane.NO_WAIT;

        ControlSession(SessionContext context) {
            this.context = context;
        }

        @Override
        public boolean staysOpenWhenIdle() {
            return joined >= 0;
        }

        @Override
        public void handle(FrameReader r, FrameWriter w) throws MalformedFrameException, InterruptedException {
            int type = r.type();
            long id = r.correlationId();
            try {
                switch (type) {
                    case FrameHeader.TYPE_JOIN -> {
                        int wanted = r.u16("compute node id");
                        r.skip(2, "padding");
                        long pid = r.i32("process id") & 0xFFFF_FFFFL;
                        long epoch = r.remaining() > 0 ? r.i64("epoch") : 0;
                        r.end();
                        if (joined >= 0) {
                            throw new ControlPlane.Refusal(ErrorCode.STATE, "this connection already joined as compute node " + joined);
                        }
                        joined = plane.join(wanted, epoch);
                        joinedEpoch = epoch;
                        processes.joined(joined, pid, context.peer());
                        reply(w, type, id).u16(joined).u16(plane.memoryNodeId()).i32(0).finish();
                    }
                    case FrameHeader.TYPE_LEAVE -> {
                        r.end();
                        if (plane.leave(joined, joinedEpoch)) {
                            processes.left(joined);
                        }
                        joined = -1;
                        reply(w, type, id).finish();
                    }
                    case FrameHeader.TYPE_DESCRIBE -> {
                        r.end();
                        plane.description().encode(reply(w, type, id));
                        w.finish();
                    }
                    case FrameHeader.TYPE_ALLOCATE_CHUNK -> {
                        r.end();
                        requireJoined();
                        reply(w, type, id).i64(plane.allocateChunk()).finish();
                    }
                    case FrameHeader.TYPE_ROOT_HOME -> {
                        r.end();
                        reply(w, type, id).i64(plane.rootHome()).finish();
                    }
                    case FrameHeader.TYPE_REGISTER_ENDPOINT -> {
                        String endpoint = r.string(ControlFrame.MAX_ENDPOINT_BYTES, "endpoint");
                        r.end();
                        requireJoined();
                        plane.registerEndpoint(joined, endpoint);
                        reply(w, type, id).finish();
                    }
                    case FrameHeader.TYPE_LOOKUP_ENDPOINT -> {
                        int cn = r.u16("compute node id");
                        r.skip(2, "padding");
                        int wait = r.i32("wait millis");
                        r.end();
                        if (wait < 0 || wait > ControlFrame.MAX_WAIT_MILLIS) {
                            throw new ControlPlane.Refusal(ErrorCode.OUT_OF_RANGE, "wait of " + wait + " ms outside [0, "
                                    + ControlFrame.MAX_WAIT_MILLIS + "]");
                        }
                        PendingReply p = context.park();
                        waiting = plane.lookupEndpoint(cn, wait, new Parked<>(p, (out, e) -> reply(out, type, id)
                                .u8(e == null ? 0 : 1).string(e == null ? "" : e, ControlFrame.MAX_ENDPOINT_BYTES).finish()));
                    }
                    case FrameHeader.TYPE_BARRIER -> {
                        String name = r.string(ControlFrame.MAX_BARRIER_NAME_BYTES, "barrier name");
                        int parties = r.u16("parties");
                        int timeout = r.i32("timeout millis");
                        int n = r.i32("payload bytes");
                        if (n < 0 || n > ControlFrame.MAX_BARRIER_PAYLOAD_BYTES) {
                            throw new MalformedFrameException(ErrorCode.TOO_LARGE, "barrier payload of " + n
                                    + " bytes outside [0, " + ControlFrame.MAX_BARRIER_PAYLOAD_BYTES + "]");
                        }
                        byte[] payload = r.bytes(n, "barrier payload");
                        int m = r.u16("members");
                        if (m > ControlFrame.MAX_COMPUTE_NODES) {
                            throw new MalformedFrameException(ErrorCode.TOO_LARGE, "barrier of " + m + " members");
                        }
                        Set<Integer> members = new TreeSet<>();
                        for (int i = 0; i < m; i++) {
                            members.add(r.u16("member"));
                        }
                        r.end();
                        if (members.size() != m) {
                            throw new ControlPlane.Refusal(ErrorCode.STATE, "barrier '" + name + "' names a member twice");
                        }
                        if (timeout < 0 || timeout > ControlFrame.MAX_WAIT_MILLIS) {
                            throw new ControlPlane.Refusal(ErrorCode.OUT_OF_RANGE, "barrier timeout of " + timeout + " ms");
                        }
                        requireJoined();
                        PendingReply p = context.park();
                        waiting = plane.barrier(name, joined, parties, members, timeout, payload,
                                new Parked<>(p, (out, release) -> barrierReply(out, type, id, release)));
                    }
                    case FrameHeader.TYPE_WATCH -> {
                        r.end();
                        PendingReply p = context.park();
                        waiting = plane.watchShutdown(() -> p.complete(out -> {
                            throw new MalformedFrameException(ErrorCode.SHUTTING_DOWN, "memory node "
                                    + plane.memoryNodeId() + " is stopping");
                        }));
                    }
                    default -> throw new MalformedFrameException(ErrorCode.UNKNOWN_TYPE, "the control service does not take "
                            + FrameHeader.typeName(type) + " frames");
                }
            } catch (ControlPlane.Refusal e) {
                throw new MalformedFrameException(e.code(), e.getMessage());
            }
        }

        private void requireJoined() throws ControlPlane.Refusal {
            if (joined < 0) {
                throw new ControlPlane.Refusal(ErrorCode.STATE, "join first");
            }
            plane.checkNotFenced(joined, joinedEpoch);
        }

        @Override
        public void closed() {
            waiting.cancel();
            plane.leave(joined, joinedEpoch); // a no-op once a newer incarnation took the id over
        }
    }

    private static void barrierReply(FrameWriter w, int type, long id, ControlPlane.BarrierRelease release) {
        reply(w, type, id).u16(release.arrivals().size());
        for (Map.Entry<Integer, byte[]> e : release.arrivals().entrySet()) {
            w.u16(e.getKey()).i32(e.getValue().length).bytes(e.getValue());
        }
        w.u16(release.departed().size());
        for (int d : release.departed()) {
            w.u16(d);
        }
        w.finish();
    }

    /** How a parked request's reply is written from the plane's result. */
    private interface ReplyWriter<T> {
        void write(FrameWriter w, T value);
    }

    /** Completes a parked request with the plane's result, or with its refusal as an error reply. */
    private record Parked<T>(PendingReply reply, ReplyWriter<T> writer) implements ControlPlane.Outcome<T> {
        @Override
        public void done(T value) {
            reply.complete(w -> writer.write(w, value));
        }

        @Override
        public void refused(ControlPlane.Refusal refusal) {
            reply.complete(w -> {
                throw new MalformedFrameException(refusal.code(), refusal.getMessage());
            });
        }
    }

    private static FrameWriter reply(FrameWriter w, int type, long correlationId) {
        return w.begin(type | FrameHeader.REPLY_BIT, 0, correlationId);
    }
}
