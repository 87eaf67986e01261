package io.dmtree.mn.local;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.ChunkSource;
import io.dmtree.mn.MemoryNode;

import java.util.List;

/** The control plane of in-process memory nodes: chunk allocation by direct call. */
public final class LocalControlPlane implements ChunkSource {
    private final List<MemoryNode> memoryNodes;

    public LocalControlPlane(List<MemoryNode> memoryNodes) {
        if (memoryNodes.isEmpty()) {
            throw new IllegalArgumentException("no memory nodes");
        }
        this.memoryNodes = List.copyOf(memoryNodes);
    }

    @Override
    public long allocateChunk(int mn) {
        if (mn < 0 || mn >= memoryNodes.size()) {
            throw new IllegalArgumentException("no memory node " + mn);
        }
        return memoryNodes.get(mn).allocateChunk();
    }

    @Override
    public long chunkBytes() {
        return memoryNodes.get(0).config().chunkBytes();
    }

    @Override
    public long lockTableOffset() {
        return RegionLayout.LOCK_TABLE_START;
    }

    @Override
    public long lockTableBytes() {
        return memoryNodes.get(0).config().lockTableBytes();
    }
}
