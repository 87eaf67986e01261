package io.dmtree.mn.carrier.rdma;

import io.dmtree.core.wire.ErrorCode;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameService;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.core.wire.RdmaAttachFrame;
import io.dmtree.core.wire.RdmaWindow;
import io.dmtree.core.wire.SessionContext;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Supplier;

/**
 * The memory node's {@link HelloFrame#SERVICE_RDMA_ATTACH} service: a compute node, on a
 * connection that proved the cluster secret as its incarnation (the frame server's handshake),
 * attaches the queue pairs it connected to this memory node's rdma endpoint and gets their windows
 * ({@link RdmaAttachFrame}, {@link RdmaRegionServer#attach}). The incarnation is the
 * connection's, never one a frame names, so a member gets windows for its own rights only; a
 * connection without a compute node is refused, a fenced incarnation is refused with
 * {@link ErrorCode#FENCED}.
 */
final class RdmaAttachService implements FrameService {
    private final Supplier<RdmaRegionServer> server;

    RdmaAttachService(Supplier<RdmaRegionServer> server) {
        this.server = server;
    }

    @Override
    public int serviceId() {
        return HelloFrame.SERVICE_RDMA_ATTACH;
    }

    @Override
    public int maxFrameBytes() {
        return FrameHeader.LENGTH + 4 + RdmaAttachFrame.MAX_QUEUE_PAIRS * RdmaAttachFrame.QP_BYTES;
    }

    @Override
    public void admit(SessionContext context) throws MalformedFrameException {
        if (context.computeNode() == HelloFrame.NO_COMPUTE_NODE) {
            throw new MalformedFrameException(ErrorCode.STATE, "attaching rdma queue pairs needs a compute node's connection"
                    + " (its HELLO names none)", true);
        }
    }

    @Override
    public Session open(SessionContext context) {
        return (r, w) -> handle(context, r, w);
    }

    private void handle(SessionContext context, FrameReader r, FrameWriter w) throws MalformedFrameException {
        if (r.type() != FrameHeader.TYPE_RDMA_ATTACH) {
            throw new MalformedFrameException(ErrorCode.UNKNOWN_TYPE, "the rdma-attach service takes RDMA_ATTACH frames, not "
                    + FrameHeader.typeName(r.type()));
        }
        List<InetSocketAddress> qps = RdmaAttachFrame.queuePairs(r);
        RdmaRegionServer s = server.get();
        if (s == null) {
            throw new MalformedFrameException(ErrorCode.STATE, "the rdma endpoint is not started");
        }
        if (!(context.peer() instanceof InetSocketAddress peer) || peer.getAddress() == null) {
            throw new MalformedFrameException(ErrorCode.STATE, "the attaching connection has no peer address");
        }
        List<List<RdmaWindow>> windows;
        try {
            windows = s.attach(context.computeNode(), context.epoch(), peer.getAddress(), qps);
        } catch (RdmaRegionServer.FencedAttach e) {
            throw new MalformedFrameException(ErrorCode.FENCED, e.getMessage());
        } catch (IOException e) {
            throw new MalformedFrameException(ErrorCode.STATE, e.getMessage());
        }
        RdmaAttachFrame.reply(w, r.correlationId(), windows);
    }
}
