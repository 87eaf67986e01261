package io.dmtree.lock.baseline;

import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.Verbs;
import io.dmtree.lock.recovery.LockTableScan;
import io.dmtree.lock.recovery.RecoveryPreconditions;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Recovery of the CAS locks, whose word names its holder ({@link CasLockWord}): scan every lock
 * table, and CAS each word held by the departed compute node back to free. Only a holder clears
 * its word and the departed holder is fenced, so the CAS fails only if another recovery of the same
 * node cleared it first. Waiters need nothing else: their next CAS finds the word free.
 */
final class OwnerWordRecovery {
    private OwnerWordRecovery() {
    }

    static RecoveryReport recover(String design, LockContext context, RecoveryContext ctx, int lapsed) {
        RecoveryPreconditions.requireDeparted(context, lapsed, design);
        Verbs verbs = context.verbs();
        long start = System.nanoTime();
        List<long[]> held = new ArrayList<>();
        long scanned = LockTableScan.scan(verbs, ctx.lockTable(), ctx.memoryNodeCount(), 8, (lock, b, off) -> {
            long w = b.getLong(off, ByteOrder.nativeOrder());
            if (w != CasLockWord.FREE && CasLockWord.computeNode(w) == lapsed) {
                held.add(new long[]{lock, w});
            }
        });
        long released = 0;
        for (long[] h : held) {
            if (verbs.cas(h[0], h[1], CasLockWord.FREE) == h[1]) {
                released++;
            }
        }
        return new RecoveryReport(design, lapsed, scanned, released, 0, 0, 0, System.nanoTime() - start);
    }
}
