package io.dmtree.mn.carrier.tcp;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameService;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.mn.OffHeapRegion;

import java.net.SocketAddress;

/**
 * The tcp verb service of a memory node: each connection gets its own {@link VerbExecutor}. Its
 * sessions never block (a verb frame is checked and applied to the region in one pass of plain
 * memory operations), so the front door runs them on the event loop that read the frame.
 *
 * <p>A verb connection that said HELLO stays open when idle: a compute node keeps connections per
 * memory node for its threads' lanes, and a lane may stay unused for hours (an idle {@code dmtree cn --serve}); the
 * client treats a closed connection as a lost memory node. A peer that vanished without closing is
 * found by TCP keepalive; silent connections are bounded by the connection cap and hold only the
 * small post-HELLO buffer.
 */
public final class VerbService implements FrameService {
    private final OffHeapRegion region;
    private final int maxFrameBytes;

    public VerbService(OffHeapRegion region, int maxFrameBytes) {
        this.region = region;
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    public int serviceId() {
        return HelloFrame.SERVICE_VERBS;
    }

    @Override
    public boolean sessionsMayBlock() {
        return false;
    }

    @Override
    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    @Override
    public Session open(SocketAddress peer) {
        VerbExecutor executor = new VerbExecutor(region, maxFrameBytes);
        return new Session() {
            @Override
            public void handle(FrameReader request, FrameWriter reply) throws MalformedFrameException {
                if (request.type() != FrameHeader.TYPE_VERB_REQUEST) {
                    throw new MalformedFrameException(ErrorCode.UNKNOWN_TYPE, "the verbs service takes VERBS frames, not "
                            + FrameHeader.typeName(request.type()));
                }
                executor.execute(request, reply);
            }

            @Override
            public boolean staysOpenWhenIdle() {
                return true;
            }
        };
    }
}
