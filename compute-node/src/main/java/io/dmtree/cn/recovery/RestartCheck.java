package io.dmtree.cn.recovery;

import io.dmtree.cn.ComputeNode;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.membership.FenceBook;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.tree.TreeChecker;
import io.dmtree.core.tree.TreeReport;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The tree checker after memory nodes restarted from durable regions: run once per restart, by one
 * compute node, after every compute node of the earlier life is recovered and before any compute
 * node of the new life touches the index; its report is printed.
 *
 * <h2>Protocol</h2>
 * Every memory node counts the processes that served its region ({@link RegionLayout#LIVES_OFFSET});
 * their sum {@code L} exceeds the number of memory nodes exactly when one was restarted. Memory node
 * 0's word {@link RegionLayout#RESTART_CHECKED_OFFSET} holds the {@code L} last checked. A compute
 * node opening the index reads both:
 * <ol>
 *   <li>{@code checked == L} (or no restart): nothing to do.</li>
 *   <li>otherwise it CASes the word from what it read to {@code L | RUNNING}; the winner waits,
 *   bounded, until the fence book has no outstanding record (the memory nodes booked the earlier
 *   life's compute nodes before they served; live compute nodes, this one included, recover them),
 *   runs the checker, reports it, and stores {@code L}. A loser waits until the word is {@code L}.</li>
 * </ol>
 * Invariants: at most one compute node runs the check per {@code L} (the CAS); no compute node of
 * this life returns from opening the index while the check runs (each waits for the word), so the
 * checker sees a quiescent tree apart from recoveries of the earlier life, which it waits out. Both
 * waits are bounded by the timeout: a winner whose recoveries do not finish reports that and stores
 * {@code L} unchecked, and a loser whose winner died goes on after the timeout and says so.
 */
public final class RestartCheck {
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private RestartCheck() {
    }

    /** The sum of every memory node's lives. */
    static long lives(Verbs verbs) {
        UnsafeBuffer word = new UnsafeBuffer(new byte[Long.BYTES]);
        long sum = 0;
        for (int mn = 0; mn < verbs.memoryNodeCount(); mn++) {
            verbs.read(GlobalAddress.of(mn, RegionLayout.LIVES_OFFSET), word, 0, Long.BYTES);
            sum += word.getLong(0);
        }
        return sum;
    }

    /**
     * Runs the protocol of the class comment for {@code node}; {@code book} null: a cluster without
     * membership (nothing is recovered; the check runs at once). Returns the report if this compute
     * node ran the checker.
     */
    public static Optional<TreeReport> afterRestart(ComputeNode node, FenceBook book, long timeoutMillis, Consumer<String> out) {
        Verbs verbs = node.verbs();
        long lives = lives(verbs);
        if (lives <= verbs.memoryNodeCount()) {
            return Optional.empty(); // no memory node ever restarted
        }
        long word = GlobalAddress.of(0, RegionLayout.RESTART_CHECKED_OFFSET);
        long running = lives | RegionLayout.RESTART_CHECK_RUNNING;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
            long seen = verbs.cas(word, 0, 0); // a read that is atomic with the CASes of the others
            if ((seen & ~RegionLayout.RESTART_CHECK_RUNNING) >= lives && (seen & RegionLayout.RESTART_CHECK_RUNNING) == 0) {
                return Optional.empty(); // checked (or a later restart's check came first)
            }
            if (seen == running) {
                if (System.nanoTime() > deadline) {
                    out.accept("compute node " + node.id() + ": the tree check after the restart, run by another compute"
                            + " node, did not finish within " + timeoutMillis + " ms; going on without waiting for it");
                    return Optional.empty();
                }
                java.util.concurrent.locks.LockSupport.parkNanos(POLL_NANOS);
                continue;
            }
            if (verbs.cas(word, seen, running) != seen) {
                continue; // another compute node moved the word: look again
            }
            try {
                String pending = awaitRecoveries(book, deadline);
                if (pending != null) {
                    out.accept("compute node " + node.id() + ": index restored from durable regions (memory-node lives "
                            + lives + "); tree checker not run: recoveries still outstanding after " + timeoutMillis
                            + " ms: " + pending);
                    return Optional.empty();
                }
                TreeReport report = new TreeChecker(verbs, node.treeConfig()).check();
                out.accept("compute node " + node.id() + ": index restored from durable regions (memory-node lives " + lives
                        + "): tree checker " + (report.ok() ? "passed: " : "FAILED: ") + report);
                return Optional.of(report);
            } finally {
                verbs.cas(word, running, lives);
            }
        }
    }

    /** Null once the book has no outstanding record, else (at the deadline) what is outstanding. */
    private static String awaitRecoveries(FenceBook book, long deadline) {
        if (book == null) {
            return null;
        }
        while (true) {
            java.util.List<FenceBook.FenceRecord> outstanding = book.outstanding();
            if (outstanding.isEmpty()) {
                return null;
            }
            if (System.nanoTime() > deadline) {
                return outstanding.stream().map(r -> r.member() + " fenced by " + r.fencedBy()).toList().toString();
            }
            java.util.concurrent.locks.LockSupport.parkNanos(POLL_NANOS);
        }
    }
}
