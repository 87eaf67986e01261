package io.dmtree.core.memory;

/**
 * A compute node's verb was refused, or will be, because the compute node was fenced: its lease
 * lapsed, every memory node refuses the verbs of that incarnation, and what it held is recovered
 * by others. Nothing this incarnation issues takes effect any more; it must stop using the index
 * and may join again, as a new incarnation with a larger epoch.
 */
public final class FencedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int computeNode;
    private final long epoch;

    public FencedException(int computeNode, long epoch, String why) {
        super("compute node " + computeNode + " (epoch " + epoch + ") is fenced: " + why
                + "; nothing it issues takes effect any more, it must join again");
        this.computeNode = computeNode;
        this.epoch = epoch;
    }

    public int computeNode() {
        return computeNode;
    }

    public long epoch() {
        return epoch;
    }
}
