package io.dmtree.lock.adaptive;

import io.dmtree.core.lock.LockTable;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.lock.recovery.LockTableScan;
import io.dmtree.lock.recovery.RecoveryPreconditions;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Recovery of the adaptive lock for a departed (fenced) compute node, in two steps, in this order:
 * <ol>
 *   <li>every assignment word holding one of its tags is CASed to what that holder's release would
 *   leave ({@code tag} to FREE, {@code tag|Q} to QUEUED); a CAS that finds the word moved (a queue
 *   leader set Q beside the tag meanwhile) is retried on the value found, so a take-over waiting on
 *   a departed word holder always ends;</li>
 *   <li>the modular lock's recovery on the modular locks behind the words (the same lock table
 *   shifted by {@link AdaptiveLockLayout#QUEUE_LOCK_OFFSET}): the departed node's queued requests and
 *   tenures are released on its behalf and their grants passed on. Its grants carry no
 *   {@code handed-on} flag, so their leaders take the word over, whatever state it is in.</li>
 * </ol>
 * The word step comes first because the modular step may wait for live holders, and a live queue
 * leader may be waiting for a departed word holder. Both steps are idempotent.
 */
final class AdaptiveRecovery {
    private AdaptiveRecovery() {
    }

    static RecoveryReport recover(AdaptiveLockDesign design, AdaptiveLockClient client, RecoveryContext ctx, int lapsed) {
        RecoveryPreconditions.requireDeparted(client.context(), lapsed, AdaptiveLockDesign.NAME);
        long start = System.nanoTime();
        Verbs verbs = client.context().verbs();
        LockTable table = ctx.lockTable();
        List<long[]> held = new ArrayList<>();
        long scanned = LockTableScan.scan(verbs, table, ctx.memoryNodeCount(), Long.BYTES, (lock, b, off) -> {
            long w = b.getLong(off, ByteOrder.nativeOrder());
            if (AdaptiveLockLayout.holderComputeNode(w) == lapsed) {
                held.add(new long[]{lock, w});
            }
        });
        long released = 0;
        for (long[] h : held) {
            long w = h[1];
            for (int tries = 0; tries < 4 && AdaptiveLockLayout.holderComputeNode(w) == lapsed; tries++) {
                long found = verbs.cas(h[0], w, w & AdaptiveLockLayout.QUEUED);
                if (found == w) {
                    released++;
                    break;
                }
                w = found; // only Q can be added beside a fenced holder's tag: at most one retry does it
            }
        }
        LockTable queues = shifted(table, design.queueDesign().lockBytes());
        RecoveryReport q = design.queueDesign().recover(
                RecoveryContext.of(client.queueClient(), queues, ctx.memoryNodeCount()), lapsed);
        return new RecoveryReport(AdaptiveLockDesign.NAME, lapsed, scanned, released + q.holdsReleased(),
                q.waitsRemoved(), q.locksReset(), q.grantsResent(), System.nanoTime() - start);
    }

    /** The table of the modular locks behind the assignment words: same slots, same stride, 8 bytes on. */
    static LockTable shifted(LockTable table, int queueLockBytes) {
        long offset = GlobalAddress.offset(table.lockAt(0, 0)) + AdaptiveLockLayout.QUEUE_LOCK_OFFSET;
        LockTable q = new LockTable(offset, table.slots() * table.stride(), queueLockBytes);
        if (q.stride() != table.stride() || q.slots() != table.slots()) {
            throw new IllegalStateException("the modular locks behind the adaptive words do not line up with the lock"
                    + " table (stride " + q.stride() + " vs " + table.stride() + ")");
        }
        return q;
    }
}
