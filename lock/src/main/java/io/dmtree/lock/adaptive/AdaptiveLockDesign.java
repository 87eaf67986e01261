package io.dmtree.lock.adaptive;

import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.lock.modular.LockAssignment;
import io.dmtree.lock.modular.ModularLockDesign;

/**
 * {@code adaptive}: a lock whose module assignment follows contention at run time. Uncontended,
 * it is in the <em>word assignment</em>: mode, holder and waiter managers are one MN word taken by
 * CAS, as in {@code cas-spin} (acquire: one CAS; release: one FAA in the caller's write-back
 * batch; no queue entry, no message). When a word acquirer keeps finding the word held, the lock
 * moves to the <em>queued assignment</em>: the {@code modular} lock stored behind the word (FAA-queued at the
 * MN, granted by the releaser's compute node by message, with CN cohorts) decides who holds. When
 * a compute node's tenures stay quiet, it moves the lock back.
 *
 * <h2>State</h2>
 * The assignment word A ({@link AdaptiveLockLayout}): FREE, {@code tag} (a thread holds in the
 * word assignment), {@code tag|Q} (it still holds; the queue's head waits to take over) or QUEUED
 * (the holder of the modular lock holds). The modular lock's own state is as {@code modular}'s.
 *
 * <h2>Protocol</h2>
 * <ul>
 *   <li>Word acquire (a compute node's hint says word): CAS A FREE to {@code tag}. Success: holds.
 *   While A is a plain {@code tag}, CAS again for up to {@code wordSpinNanos}; once that bound
 *   passes, or at once when A is QUEUED or {@code tag|Q}, the hint turns to queued and the thread
 *   takes the queued path.</li>
 *   <li>Queued acquire: acquire the modular lock, exclusive. A thread that holds it by a local
 *   handover inside its cohort's tenure holds. A leader whose MN grant carries the
 *   {@code handed-on} flag holds (A is QUEUED, see below). Any other leader (granted at once, or
 *   by its own look at the MN state, or by a grant recovery sent) <em>takes over</em> A before its
 *   tenure starts: CAS FREE to QUEUED, or find QUEUED; if a word holder holds, CAS {@code tag} to
 *   {@code tag|Q} and READ A until its holder's release leaves QUEUED.</li>
 *   <li>Word release: FAA A by {@code -tag}, after the write-back in one batch: FREE again, or
 *   QUEUED when the queue waits (the hand-over costs the releaser nothing extra).</li>
 *   <li>Queued release: the modular release. Where a tenure ends at the MN, its last holder either
 *   leaves A QUEUED and flags its grants {@code handed-on}, or, once {@code quietTenures}
 *   consecutive tenures of its compute node were quiet (at most {@code quietWaiters} MN requests
 *   behind it at its grant, no local waiter, no local handover), switches back: WRITE A = FREE in the
 *   release batch, before the modular FAA (so while it still holds the modular lock), grants
 *   unflagged, hint back to word.</li>
 * </ul>
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>A thread runs a critical section only while it <em>owns</em> A: A is its {@code tag} or
 *   {@code tag|Q}, or A is QUEUED and it holds the modular lock (exclusive). A has one value and
 *   the modular lock has one exclusive holder, so at most one thread owns A: mutual exclusion.</li>
 *   <li>Only the owner of a {@code tag} removes it (one FAA; recovery does it for a fenced
 *   owner); only a modular holder sets Q (take-over) or clears QUEUED (switch back, while it
 *   still holds the modular lock); word acquirers change only FREE. Hence while a tenure owns A
 *   through QUEUED, A stays QUEUED until that tenure's own switch back.</li>
 *   <li>A grant carries {@code handed-on} only from a releaser that owned A through QUEUED and did
 *   not switch back; by 2 A is still QUEUED when the grantee's tenure starts, and nobody else holds
 *   the modular lock in between. Every other grant makes its leader take over, which is safe in
 *   any state of A.</li>
 *   <li>A take-over waits only for a word holder (one critical section), never for another
 *   queued request; once Q is set beside a tag, word acquirers fail and queue, so the take-over
 *   is not overtaken: no lost waiter.</li>
 * </ol>
 *
 * <h2>Fairness</h2>
 * In the word assignment: none (as {@code cas-spin}): the next CAS on a FREE word wins, and a
 * thread that retried for {@code wordSpinNanos} queues. In the queued assignment: as {@code modular}, MN-FIFO among
 * compute nodes with a cohort's local handover bounded by {@code maxLocalGrants} per tenure; a
 * word holder active at a switch finishes first; at a switch back, word acquirers that arrive
 * between the WRITE and the modular release may overtake the next queued waiter once each
 * (that waiter then takes over as above).
 *
 * <h2>Recovery of a departed compute node</h2>
 * {@link AdaptiveRecovery}: first every A holding its tag is CASed to what the word release would
 * leave (FREE, or QUEUED where the queue waits), so a take-over waiting on it ends; then the
 * modular lock's recovery ({@code ModularRecovery}) on the modular locks behind the words. A
 * departed tenure that owned A through QUEUED leaves A QUEUED; the next modular holder takes over
 * (finds QUEUED). A departed holder stopped between its switch-back WRITE and its FAA left A FREE;
 * the same take-over covers it.
 *
 * <p>Verb budget: word assignment, acquire one CAS, release one FAA in the write-back's round
 * trip (as {@code cas-spin}, whose release is a WRITE); queued assignment, as {@code modular} per
 * tenure, plus one CAS for a take-over (a leader without a handed-on grant) and one WRITE at a
 * switch back. Shared requests are taken as exclusive in both assignments.
 */
public final class AdaptiveLockDesign implements LockDesign {
    public static final String NAME = "adaptive";
    private final AdaptiveLockConfig config;
    private final ModularLockDesign queue;

    public AdaptiveLockDesign() {
        this(AdaptiveLockConfig.defaults());
    }

    public AdaptiveLockDesign(AdaptiveLockConfig config) {
        this.config = config;
        this.queue = new ModularLockDesign(LockAssignment.MODULAR, config.queue());
    }

    public AdaptiveLockConfig config() {
        return config;
    }

    /** The modular lock design behind the assignment words. */
    ModularLockDesign queueDesign() {
        return queue;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int lockBytes() {
        return AdaptiveLockLayout.lockBytes(config.queue().queueSlots());
    }

    @Override
    public AdaptiveLockClient newClient(LockContext context) {
        return new AdaptiveLockClient(context, config, queue);
    }

    @Override
    public RecoveryReport recover(RecoveryContext context, int lapsedComputeNode) {
        if (!(context.client() instanceof AdaptiveLockClient c)) {
            throw new IllegalArgumentException("recovery of " + NAME + " needs a client of " + NAME + ", got "
                    + context.client());
        }
        return AdaptiveRecovery.recover(this, c, context, lapsedComputeNode);
    }

    @Override
    public String toString() {
        return NAME + " " + config;
    }
}
