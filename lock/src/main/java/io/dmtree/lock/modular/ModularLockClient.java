package io.dmtree.lock.modular;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockContext;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.Verbs;
import io.dmtree.lock.recovery.WaitWatch;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import static io.dmtree.lock.modular.CohortModeManager.*;

/**
 * One compute node's side of the modular lock: its cohorts (one per lock in use), the fused MN
 * managers it drives through verbs, and its part of the grant manager. See {@link Cohort} for the
 * CN-local algorithm and {@link MnLockQueue} for the MN protocol.
 */
public final class ModularLockClient implements LockClient {
    private final LockContext context;
    private final Verbs verbs;
    private final ModularLockConfig config;
    private final MnLockQueue queue;
    private final GrantManager grants;
    private final ConcurrentHashMap<Long, Cohort> cohorts = new ConcurrentHashMap<>();
    private final ThreadLocal<MnLockQueue.Scratch> scratch;
    private final boolean byMessage;
    private final LockAssignment assignment;
    private final TenureHook hook;

    private final LongAdder mnAcquires = new LongAdder();
    private final LongAdder localGrants = new LongAdder();
    private final LongAdder rereads = new LongAdder();

    ModularLockClient(LockContext context, LockAssignment assignment, ModularLockConfig config) {
        this(context, assignment, config, TenureHook.NONE);
    }

    ModularLockClient(LockContext context, LockAssignment assignment, ModularLockConfig config, TenureHook hook) {
        this.hook = hook;
        this.context = context;
        this.verbs = context.verbs();
        this.config = config;
        this.assignment = assignment;
        this.queue = new MnLockQueue(verbs, config.queueSlots(), context.computeNode(), context.liveness());
        this.scratch = ThreadLocal.withInitial(() -> queue.newScratch(newWatch()));
        this.byMessage = assignment.grantsByMessage();
        this.grants = assignment.grantsByMessage()
                ? new MessagingGrantManager(context.messaging(), queue, cohorts::get)
                : new MnPollingGrantManager(queue);
    }

    WaitWatch newWatch() {
        return new WaitWatch(context.liveness(), context.computeNode(), config.waitPolicy());
    }

    LockContext context() {
        return context;
    }

    LockAssignment assignment() {
        return assignment;
    }

    MnLockQueue queue() {
        return queue;
    }

    GrantManager grantManager() {
        return grants;
    }

    MnLockQueue.Scratch scratch() {
        return scratch.get();
    }

    private Cohort cohort(long lock) {
        Cohort c = cohorts.get(lock);
        if (c == null) {
            if ((GlobalAddress.offset(lock) & 7) != 0) {
                throw new IllegalArgumentException("lock address " + GlobalAddress.toString(lock) + " is not 8-byte aligned");
            }
            c = cohorts.computeIfAbsent(lock, Cohort::new);
        }
        return c;
    }

    private boolean remoteAgeExceeded(Cohort c) {
        return System.nanoTime() - c.tenureStartNanos > config.maxRemoteWaitNanos();
    }

    @Override
    public void acquire(long lock, LockMode mode) {
        context.threads().current(); // claims the thread's id now: a capacity error must not strand the cohort
        Cohort c = cohort(lock);
        if (mode == LockMode.SHARED && c.mode.tryJoinShared(config.maxLocalGrants(), remoteAgeExceeded(c))) {
            c.holders.add(1);
            localGrants.increment();
            return;
        }
        LocalWaiter w = null;
        synchronized (c) {
            if (mode == LockMode.SHARED && c.mode.tryJoinShared(config.maxLocalGrants(), remoteAgeExceeded(c))) {
                c.holders.add(1);
                localGrants.increment();
                return;
            }
            long m = c.mode.get();
            if (phase(m) == FREE && c.waiters.isEmpty()) {
                // no joiner CASes the word while FREE
                c.mode.compareAndSet(m, word(ACQUIRING, mode == LockMode.EXCLUSIVE, false, false, false, 0));
            } else {
                w = new LocalWaiter(mode);
                c.waiters.enqueue(w);
                c.mode.setQueued(true);
            }
        }
        if (w != null) {
            int s = w.await(scratch.get().watch);
            if (s == LocalWaiter.GRANTED) {
                localGrants.increment();
                return;
            }
        }
        lead(c, lock, mode);
    }

    /** The leader's MN acquire, then the start of the cohort's tenure. */
    private void lead(Cohort c, long lock, LockMode mode) {
        MnLockQueue.Scratch s = scratch.get();
        int thread = context.threads().current(); // before the FAA: nothing may fail between it and the entry
        mnAcquires.increment();
        MnLockQueue.Admission a = queue.admit(lock, mode);
        int behind = 0;
        long own = 0;
        if (!a.granted()) {
            c.expectGrant(a.position());
            own = queue.entryFor(a.position(), thread, mode);
            long word = queue.enqueue(lock, a.position(), own, mode, s);
            if (word != -1 && ModularLockLayout.atHead(word, a.position())) {
                c.deliverGrant(a.position(), ModularLockLayout.size(word) - 1); // nobody ahead: holds now
            }
            behind = grants.awaitGrant(c, a.position(), mode == LockMode.EXCLUSIVE, s);
        }
        hook.tenureStarting(lock, !a.granted() && c.mnHandedOn);
        List<LocalWaiter> granted;
        synchronized (c) {
            c.ownEntry = own;
            c.ownPosition = a.position();
            c.tenureWaitersBehind = behind;
            boolean exclusive = mode == LockMode.EXCLUSIVE;
            granted = exclusive ? List.of() : c.waiters.select(false, config.maxLocalGrants() - 1);
            int k = 1 + granted.size();
            c.holders.reset(k);
            c.tenureStartNanos = System.nanoTime();
            c.mode.compareAndSet(c.mode.get(),
                    word(HELD, exclusive, exclusive, !c.waiters.isEmpty(), behind > 0, k));
        }
        for (LocalWaiter g : granted) {
            g.wake(LocalWaiter.GRANTED);
        }
    }

    @Override
    public void release(long lock, LockMode mode, VerbBatch writeBack) {
        Cohort c = cohorts.get(lock);
        if (c == null) {
            throw new IllegalStateException("release of lock " + GlobalAddress.toString(lock) + " that this compute node never acquired");
        }
        MnLockQueue.Scratch s = scratch.get();
        VerbBatch batch = writeBack;
        if (batch == null || (mode == LockMode.SHARED && !batch.isEmpty())) {
            if (batch != null) {
                verbs.post(batch); // a shared holder's write-back goes first; the release uses its own batch
            }
            batch = s.batch;
            batch.clear();
        }
        if (mode == LockMode.SHARED && c.holders.removeIfNotLast()) {
            return;
        }
        long m;
        synchronized (c) {
            m = c.mode.get();
            if (phase(m) != HELD || localExclusive(m) != (mode == LockMode.EXCLUSIVE)) {
                throw new IllegalStateException("release of lock " + GlobalAddress.toString(lock) + " in mode " + mode
                        + " that this compute node does not hold in that mode");
            }
            int absorbed = c.holders.remove();
            if (absorbed < 0) {
                postIfPending(batch); // a join arrived: others still hold
                return;
            }
            m = c.mode.get();
            if (grants(m) != absorbed) {
                // grant counting: a join was granted after the holders we saw; it releases later
                postIfPending(batch);
                return;
            }
            int budget = handoverAllowed(c, m) ? config.maxLocalGrants() - grants(m) : 0;
            List<LocalWaiter> sel = c.waiters.select(mnExclusive(m), budget);
            if (!sel.isEmpty()) {
                boolean exclusive = sel.get(0).mode == LockMode.EXCLUSIVE;
                long n = word(HELD, mnExclusive(m), exclusive, !c.waiters.isEmpty(), remoteWaiting(m),
                        grants(m) + sel.size());
                if (!c.mode.compareAndSet(m, n)) {
                    c.waiters.restore(sel); // a join slipped in: it releases later and selects again
                    postIfPending(batch);
                    return;
                }
                postIfPending(batch); // the write-back lands before the next local holder runs
                c.holders.add(sel.size());
                for (LocalWaiter g : sel) {
                    g.wake(LocalWaiter.GRANTED);
                }
                return;
            }
            if (!c.mode.compareAndSet(m, word(RELEASING, mnExclusive(m), localExclusive(m), queued(m), remoteWaiting(m),
                    grants(m)))) {
                postIfPending(batch);
                return;
            }
        }
        LockMode mnMode = mnExclusive(m) ? LockMode.EXCLUSIVE : LockMode.SHARED;
        boolean handOn = hook.beforeMnRelease(lock, batch, c.tenureWaitersBehind, queued(m), grants(m));
        int faa = queue.appendRelease(batch, lock, mnMode, c.ownEntry, c.ownPosition, !byMessage, s);
        verbs.post(batch);
        long before = batch.result(faa);
        long rr = s.rereads;
        WaiterSelection sel = queue.select(lock, mnMode, before, context.computeNode(), s);
        rereads.add(s.rereads - rr);
        if (sel.count() > 0) {
            sel.handedOn(handOn);
            grants.grant(lock, sel, s);
        }
        LocalWaiter next;
        synchronized (c) {
            next = c.waiters.poll();
            if (next == null) {
                c.mode.compareAndSet(c.mode.get(), word(FREE, false, false, false, false, 0));
            } else {
                c.mode.compareAndSet(c.mode.get(), word(ACQUIRING, next.mode == LockMode.EXCLUSIVE, false,
                        !c.waiters.isEmpty(), false, 0));
            }
        }
        if (next != null) {
            next.wake(LocalWaiter.LEAD);
        }
    }

    private boolean handoverAllowed(Cohort c, long m) {
        return grants(m) < config.maxLocalGrants() && !(remoteWaiting(m) && remoteAgeExceeded(c));
    }

    private void postIfPending(VerbBatch batch) {
        if (!batch.isEmpty()) {
            verbs.post(batch);
        }
    }

    /**
     * Counters of this client: MN acquisitions (tenures), local grants, entry re-reads, stale
     * grants, and grants its waiters found in the MN state themselves.
     */
    public record Stats(long mnAcquires, long localGrants, long rereads, long staleGrants, long selfGrants) {
    }

    public Stats stats() {
        return new Stats(mnAcquires.sum(), localGrants.sum(), rereads.sum(), grants.staleGrants(), grants.selfGrants());
    }

    @Override
    public void close() {
        grants.close();
    }
}
