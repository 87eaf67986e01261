package io.dmtree.lock.baseline;

import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.Verbs;
import io.dmtree.lock.recovery.DrainProtocol;
import io.dmtree.lock.recovery.LockTableScan;
import io.dmtree.lock.recovery.RecoveryPreconditions;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;

/**
 * The reset step of a drain ({@link DrainProtocol}) for locks whose memory-node state is a few
 * words that start as zero: after every live member has drained, each lock with a non-zero word
 * is written back to all zeros. Nobody else touches a lock during the reset (live members are
 * frozen, departed ones fenced), so plain WRITEs suffice.
 */
final class McsDrainReset {
    private McsDrainReset() {
    }

    static RecoveryReport recover(String design, DrainProtocol drain, LockContext context, RecoveryContext ctx,
                                  int lapsed, int lockBytes) {
        RecoveryPreconditions.requireDeparted(context, lapsed, design);
        Verbs verbs = context.verbs();
        long start = System.nanoTime();
        long[] counts = new long[2];
        UnsafeBuffer zeros = new UnsafeBuffer(new byte[lockBytes]);
        drain.drainAndReset(() -> {
            List<Long> dirty = new ArrayList<>();
            counts[0] = LockTableScan.scan(verbs, ctx.lockTable(), ctx.memoryNodeCount(), lockBytes, (lock, b, off) -> {
                for (int i = 0; i < lockBytes; i += 8) {
                    if (b.getLong(off + i) != 0) {
                        dirty.add(lock);
                        return;
                    }
                }
            });
            for (long lock : dirty) {
                verbs.write(lock, zeros, 0, lockBytes);
            }
            counts[1] = dirty.size();
        });
        return new RecoveryReport(design, lapsed, counts[0], 0, 0, counts[1], 0, System.nanoTime() - start);
    }
}
