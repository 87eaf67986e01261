package io.dmtree.cn.carrier.rdma;

import io.dmtree.core.memory.FencedException;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ErrorCode;
import io.dmtree.core.wire.ErrorReply;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.core.wire.RdmaAttachFrame;
import io.dmtree.core.wire.RdmaWindow;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Attaches queue pairs to a memory node: one connection to its frame server's
 * {@link HelloFrame#SERVICE_RDMA_ATTACH} service, authenticated as this compute node's incarnation
 * (the cluster secret's mutual challenge), one {@link RdmaAttachFrame} request naming the queue
 * pairs by their connection-manager source address, and its reply: per queue pair, its windows.
 * A fenced incarnation gets a {@link FencedException}; any other refusal a {@link RemoteAccessException}.
 */
final class RdmaAttachClient {
    private RdmaAttachClient() {
    }

    static List<List<RdmaWindow>> attach(int memoryNode, InetSocketAddress control, ClusterSecret secret, int computeNode,
                                         long epoch, List<InetSocketAddress> queuePairs, int timeoutMillis) {
        String where = control.getHostString() + ":" + control.getPort();
        try (FrameChannel ch = FrameChannel.open(control, HelloFrame.SERVICE_RDMA_ATTACH, 1 << 20, timeoutMillis, secret,
                computeNode, epoch)) {
            ch.write(RdmaAttachFrame.request(new FrameWriter(256), 1, queuePairs));
            ch.readWithTimeout(timeoutMillis);
            FrameReader r = new FrameReader().wrap(ch.frame(), 0, ch.frameLength());
            if (r.type() == FrameHeader.TYPE_ERROR) {
                ErrorReply e = ErrorReply.of(r);
                if (e.code() == ErrorCode.FENCED) {
                    throw new FencedException(computeNode, epoch, "memory node " + memoryNode + " at " + where
                            + " refused to attach its queue pairs: " + e.message());
                }
                throw new RemoteAccessException("memory node " + memoryNode + " at " + where + " refused to attach "
                        + queuePairs.size() + " queue pair(s): " + e.message());
            }
            if (r.type() != (FrameHeader.TYPE_RDMA_ATTACH | FrameHeader.REPLY_BIT)) {
                throw new RemoteAccessException("memory node " + memoryNode + " answered RDMA_ATTACH with "
                        + FrameHeader.typeName(r.type()));
            }
            List<List<RdmaWindow>> windows = RdmaAttachFrame.windows(r);
            if (windows.size() != queuePairs.size()) {
                throw new RemoteAccessException("memory node " + memoryNode + " attached " + windows.size() + " of "
                        + queuePairs.size() + " queue pairs");
            }
            return windows;
        } catch (IOException | MalformedFrameException e) {
            throw new RemoteAccessException("cannot attach RDMA queue pairs at memory node " + memoryNode + " (" + where + "): "
                    + e.getMessage(), e);
        }
    }
}
