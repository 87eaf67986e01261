package io.dmtree.cn.control;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.RegionDescription;

import java.util.List;

/**
 * {@link ChunkSource} over the control plane: each chunk comes from the chosen memory node's
 * ALLOCATE_CHUNK. Every memory node must use the same chunk size and lock-table placement (checked
 * when the compute node joins).
 */
public final class RemoteChunkSource implements ChunkSource {
    private final List<ControlClient> memoryNodes;
    private final RegionDescription first;

    public RemoteChunkSource(List<ControlClient> memoryNodes, List<RegionDescription> descriptions) {
        this.memoryNodes = List.copyOf(memoryNodes);
        this.first = descriptions.get(0);
        for (RegionDescription d : descriptions) {
            if (d.chunkBytes() != first.chunkBytes() || d.lockTableOffset() != first.lockTableOffset()
                    || d.lockTableBytes() != first.lockTableBytes()) {
                throw new IllegalArgumentException("memory node " + d.memoryNode() + " uses chunks of " + d.chunkBytes()
                        + " bytes and a lock table of " + d.lockTableBytes() + " bytes at " + d.lockTableOffset()
                        + ", memory node 0 uses " + first.chunkBytes() + ", " + first.lockTableBytes() + " at "
                        + first.lockTableOffset() + ": start every memory node with the same --chunk and --lock-table");
            }
        }
    }

    @Override
    public long allocateChunk(int mn) {
        if (mn < 0 || mn >= memoryNodes.size()) {
            throw new RemoteAccessException("no memory node " + mn + "; this compute node knows " + memoryNodes.size());
        }
        try {
            return memoryNodes.get(mn).allocateChunk();
        } catch (ControlException e) {
            if (e.refusedWith(ErrorCode.NO_SPACE)) {
                throw new io.dmtree.mn.OutOfMemoryNodeSpaceException(e.getMessage());
            }
            throw new RemoteAccessException(e.getMessage(), e);
        }
    }

    @Override
    public long chunkBytes() {
        return first.chunkBytes();
    }

    @Override
    public long lockTableOffset() {
        return first.lockTableOffset();
    }

    @Override
    public long lockTableBytes() {
        return first.lockTableBytes();
    }
}
