package io.dmtree.mn.carrier.tcp;

import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameService;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.mn.OffHeapRegion;

import java.net.SocketAddress;

/**
 * The tcp verb service of a memory node: each connection gets its own {@link VerbExecutor}. Its
 * sessions never block (a verb frame is checked and applied to the region in one pass of plain
 * memory operations), so the front door runs them on the event loop that read the frame.
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
        return (request, reply) -> {
            if (request.type() != FrameHeader.TYPE_VERB_REQUEST) {
                throw new MalformedFrameException(FrameHeader.ERROR_UNKNOWN_TYPE, "the verbs service takes VERBS frames, not "
                        + FrameHeader.typeName(request.type()));
            }
            executor.execute(request, reply);
        };
    }
}
