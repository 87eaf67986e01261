package io.dmtree.core.lock;

/**
 * What one {@link LockDesign#recover} did.
 *
 * @param design            the design's name
 * @param lapsedComputeNode the departed compute node whose locks were recovered
 * @param locksScanned      lock slots read on the memory nodes
 * @param holdsReleased     holds of departed members released on their behalf
 * @param waitsRemoved      queued requests of departed members removed or passed on
 * @param locksReset        locks returned to their initial state after a drain
 * @param grantsResent      grants sent again to live waiters (duplicates are dropped by the waiters)
 * @param nanos             time recovery took
 */
public record RecoveryReport(String design, int lapsedComputeNode, long locksScanned, long holdsReleased,
                             long waitsRemoved, long locksReset, long grantsResent, long nanos) {
    @Override
    public String toString() {
        return design + " recovery of compute node " + lapsedComputeNode + ": " + locksScanned + " locks scanned, "
                + holdsReleased + " holds released, " + waitsRemoved + " waits removed, " + locksReset + " locks reset, "
                + grantsResent + " grants re-sent in " + nanos / 1000 + " us";
    }
}
