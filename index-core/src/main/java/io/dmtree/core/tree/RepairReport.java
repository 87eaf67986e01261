package io.dmtree.core.tree;

import java.util.List;

/**
 * What node repair of a lapsed member found ({@link TreeRecovery#recover}), and what
 * {@link TreeRecovery#completeSplits} still has to do.
 *
 * @param member    the lapsed member's id
 * @param blocks    its redo block on each memory node, 0 where it had none
 * @param replayed  REDO records replayed: write-backs cut short, now complete
 * @param discarded records found torn: write-backs that never began
 * @param pending   separators of splits that may be missing from the level above, lowest level first
 * @param cells     addresses of the cells in use, retired by {@link TreeRecovery#completeSplits}
 * @param mergesFinished merges whose survivor was written and whose right node node repair wrote removed
 */
public record RepairReport(int member, long[] blocks, int replayed, int discarded, List<PendingSeparator> pending,
                           long[] cells, int mergesFinished) {
    public RepairReport {
        blocks = blocks.clone();
        cells = cells.clone();
        pending = List.copyOf(pending);
    }

    @Override
    public long[] blocks() {
        return blocks.clone();
    }

    @Override
    public long[] cells() {
        return cells.clone();
    }

    @Override
    public String toString() {
        return "member " + member + ": " + replayed + " write-backs replayed, " + discarded + " torn records discarded, "
                + pending.size() + " intents to complete, " + mergesFinished + " merges finished";
    }
}
