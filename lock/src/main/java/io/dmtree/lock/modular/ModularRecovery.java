package io.dmtree.lock.modular;

import io.dmtree.core.lock.LockMode;
import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.lock.RecoveryContext;
import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.lock.recovery.LockTableScan;
import io.dmtree.lock.recovery.WaitWatch;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

import static io.dmtree.lock.modular.ModularLockLayout.*;

/**
 * Recovery of the modular lock: removes a departed compute node's requests from every lock word
 * and ring, releasing each on its owner's behalf once it holds, so the next waiters proceed; and
 * passes on the grants a departed releaser never sent.
 *
 * <h2>What the memory node tells</h2>
 * The lock word names every compute node with a queued request and its mode
 * ({@link ModularLockLayout}), and a departed node is fenced, so its field changes only when
 * recovery clears it. Its request is a holder or a waiter. Waiters have exact positions; holders
 * are a count (shared holders are interchangeable: a shared release pops the head whoever it is, so
 * a shared holder's own position may already lie below the head, "passed"). A request wrote an entry
 * at its position iff it waited: holders granted at once, and a waiter that departed between its
 * FAA and its WRITE, left none.
 *
 * <h2>Algorithm, per lock holding a departed node's field</h2>
 * Read word and ring; with the word unchanged at the CAS below, this is one state of the queue.
 * Wait (and read again) while some <em>live</em> compute node the word names has no entry: it is
 * a holder granted at once (it will release) or a waiter whose WRITE is in flight (it will land);
 * until then no entry-less position can be attributed. Once every live request is accounted for,
 * every entry-less position is a unit of a passed shared holder (whose entry lies below the head)
 * or a departed request. Release departed request {@code d} when it provably holds:
 * <ol type="A">
 *   <li>its entry lies below the head: a passed shared holder;</li>
 *   <li>its entry is at the head;</li>
 *   <li>it is a shared waiter whose entry has no exclusive entry ahead of it, and no departed
 *   request without an entry is exclusive (so no unseen exclusive request is ahead);</li>
 *   <li>the head has no entry and no passed holder exists: the head is a departed request without
 *   an entry (if several departed requests without entries differ in mode, which one is at the head
 *   is unknown, and it does not matter: they never hold for real, and each is released only at the
 *   head; grants behind are re-derived after every step);</li>
 *   <li>every departed request without an entry is shared, and the entry-less positions before the
 *   first exclusive entry outnumber the passed holders: a departed shared request is in the shared
 *   prefix.</li>
 * </ol>
 * The release is a CAS of the word from the value read to H+1 with {@code d}'s field cleared
 * (several recoveries, or a departed node's recovery re-run, clear each field once), followed by
 * the waiter manager's selection and the grants, as the release of a live holder
 * ({@link MnLockQueue#select}), and by a re-grant of the lock's holders. A departed request that
 * does not hold yet waits for the live requests ahead of it: recovery polls the lock again.
 *
 * <p>Before that, one pass re-grants the holders of every lock with a queue (their head request
 * and the shared requests behind it whose entries show them holding): a releaser that departed
 * after its FAA but before its grants leaves waiters at the head that nobody tells. Grants carry
 * positions; a waiter's cohort takes a grant only for the position it waits on, once, so repeated
 * grants are harmless (grant counting).
 *
 * <p>Invariants kept: only requests that hold are released on a departed owner's behalf, so a
 * release never pops a waiter; the word's fields stay exact (a field is cleared once, by the CAS
 * that pops its request); every live waiter that the state shows holding is granted again.
 */
final class ModularRecovery {
    private static final int NONE = -1;
    private final ModularLockClient client;
    private final MnLockQueue queue;
    private final Verbs verbs;
    private final MemberLiveness liveness;
    private final GrantManager grants;
    private final MnLockQueue.Scratch s;
    private final int queueSlots;
    private final int lockBytes;
    private final UnsafeBuffer copy;
    private final WaitWatch watch;

    // one parse of word + ring
    private final boolean[] has = new boolean[MAX_COMPUTE_NODES];
    private final int[] rel = new int[MAX_COMPUTE_NODES];
    private final int[] byRel;
    private int passed;
    private int departedEntrylessShared;
    private int departedEntrylessExclusive;
    private boolean liveAccounted;

    private long holdsReleased;
    private long waitsRemoved;
    private long grantsResent;

    ModularRecovery(ModularLockClient client) {
        this.client = client;
        this.queue = client.queue();
        this.verbs = queue.verbs();
        this.liveness = queue.liveness();
        this.grants = client.grantManager();
        this.s = client.scratch();
        this.queueSlots = queue.queueSlots();
        this.lockBytes = ModularLockLayout.lockBytes(queueSlots);
        this.copy = new UnsafeBuffer(new byte[lockBytes]);
        this.byRel = new int[queueSlots];
        this.watch = client.newWatch();
    }

    RecoveryReport run(String design, RecoveryContext ctx, int lapsed) {
        long start = System.nanoTime();
        List<Long> pending = new ArrayList<>();
        List<Long> busy = new ArrayList<>();
        long scanned = LockTableScan.scan(verbs, ctx.lockTable(), ctx.memoryNodeCount(), lockBytes, (lock, b, off) -> {
            long w = b.getLong(off);
            if (size(w) > 0) {
                busy.add(lock);
            }
            if (field(w, lapsed) != FIELD_NONE) {
                pending.add(lock);
            }
        });
        for (long lock : busy) {
            read(lock);
            regrant(lock);
        }
        Set<Long> waited = new HashSet<>();
        watch.begin();
        long backoff = 50_000;
        while (!pending.isEmpty()) {
            boolean progress = false;
            for (Iterator<Long> it = pending.iterator(); it.hasNext(); ) {
                long lock = it.next();
                int r = step(lock, lapsed, waited.contains(lock));
                if (r == DONE) {
                    it.remove();
                } else if (r == WAITING) {
                    waited.add(lock);
                } else {
                    progress = true;
                }
            }
            if (!progress && !pending.isEmpty()) {
                watch.poll("recovering the modular locks of compute node " + lapsed);
                LockSupport.parkNanos(this, backoff);
                backoff = Math.min(backoff * 2, 2_000_000);
            } else {
                backoff = 50_000;
            }
        }
        return new RecoveryReport(design, lapsed, scanned, holdsReleased, waitsRemoved, 0, grantsResent,
                System.nanoTime() - start);
    }

    private static final int DONE = 0;
    private static final int WAITING = 1;
    private static final int ACTED = 2;

    /** One look at one lock: release a departed holder if one provably holds. */
    private int step(long lock, int lapsed, boolean waitedBefore) {
        read(lock);
        long w = copy.getLong(0);
        if (field(w, lapsed) == FIELD_NONE) {
            return DONE;
        }
        parse(w);
        int d = decide(w);
        if (d == NONE) {
            return WAITING;
        }
        boolean exclusive = field(w, d) == FIELD_EXCLUSIVE;
        if (verbs.cas(lock, w, w + releaseDelta(d, exclusive)) != w) {
            return ACTED; // the word moved on: look again at once
        }
        if (d == lapsed && waitedBefore) {
            waitsRemoved++;
        } else {
            holdsReleased++;
        }
        // the release's waiter manager, on a ring read after the CAS (as a live release's READ follows its FAA)
        verbs.read(GlobalAddress.plus(lock, QUEUE_OFFSET), s.ring, 0, queueSlots * ENTRY_BYTES);
        WaiterSelection sel = queue.select(lock, exclusive ? LockMode.EXCLUSIVE : LockMode.SHARED, w, d, s);
        if (sel.count() > 0) {
            grants.grant(lock, sel, s);
        }
        read(lock);
        regrant(lock);
        return ACTED;
    }

    private void read(long lock) {
        verbs.read(lock, copy, 0, lockBytes);
    }

    private long entryAt(int slot) {
        return copy.getLong(QUEUE_OFFSET + slot * ENTRY_BYTES, ByteOrder.LITTLE_ENDIAN);
    }

    /** Attributes the entries of {@code copy} to the compute nodes the word names. */
    private void parse(long w) {
        int h = head(w);
        int size = size(w);
        Arrays.fill(has, false);
        Arrays.fill(byRel, NONE);
        passed = 0;
        for (int i = 0; i < queueSlots; i++) {
            long e = entryAt(i);
            if (!isWritten(e)) {
                continue;
            }
            int cn = entryComputeNode(e);
            if (cn >= MAX_COMPUTE_NODES) {
                continue;
            }
            int f = field(w, cn);
            if (f == FIELD_NONE || has[cn] || entryExclusive(e) != (f == FIELD_EXCLUSIVE)) {
                continue; // not the request the word names (an entry of an earlier lap)
            }
            int r = (short) (entryPosition(e) - h);
            if (r < -queueSlots || r >= size) {
                continue;
            }
            has[cn] = true;
            rel[cn] = r;
            if (r >= 0) {
                byRel[r] = cn;
            } else {
                passed++;
            }
        }
        liveAccounted = true;
        departedEntrylessShared = 0;
        departedEntrylessExclusive = 0;
        for (int cn = 0; cn < MAX_COMPUTE_NODES; cn++) {
            int f = field(w, cn);
            if (f == FIELD_NONE || has[cn]) {
                continue;
            }
            if (liveness.isMember(cn)) {
                liveAccounted = false;
            } else if (f == FIELD_SHARED) {
                departedEntrylessShared++;
            } else {
                departedEntrylessExclusive++;
            }
        }
    }

    private boolean departed(long w, int cn) {
        return field(w, cn) != FIELD_NONE && !liveness.isMember(cn);
    }

    /** The departed compute node whose request provably holds (rules A to E), or NONE. */
    private int decide(long w) {
        if (!liveAccounted) {
            return NONE;
        }
        int size = size(w);
        for (int cn = 0; cn < MAX_COMPUTE_NODES; cn++) {
            if (has[cn] && departed(w, cn) && rel[cn] <= 0) {
                return cn; // A (below the head: a passed shared holder) or B (at the head)
            }
        }
        if (departedEntrylessExclusive == 0) {
            for (int cn = 0; cn < MAX_COMPUTE_NODES; cn++) {
                if (has[cn] && departed(w, cn) && field(w, cn) == FIELD_SHARED && !exclusiveEntryBefore(w, rel[cn])) {
                    return cn; // C
                }
            }
        }
        int entryless = NONE;
        for (int cn = 0; cn < MAX_COMPUTE_NODES; cn++) {
            if (!has[cn] && departed(w, cn)) {
                entryless = cn;
                break;
            }
        }
        if (entryless == NONE) {
            return NONE;
        }
        if (byRel[0] == NONE && passed == 0) {
            return entryless; // D
        }
        if (departedEntrylessExclusive == 0) {
            int q = 0;
            int gaps = 0;
            while (q < size && (byRel[q] == NONE || field(w, byRel[q]) != FIELD_EXCLUSIVE)) {
                if (byRel[q] == NONE) {
                    gaps++;
                }
                q++;
            }
            if (gaps > passed) {
                return entryless; // E
            }
        }
        return NONE;
    }

    private boolean exclusiveEntryBefore(long w, int r) {
        for (int i = 0; i < r; i++) {
            if (byRel[i] != NONE && field(w, byRel[i]) == FIELD_EXCLUSIVE) {
                return true;
            }
        }
        return false;
    }

    /**
     * Grants again the requests that the state in {@code copy} shows holding: the head, and the
     * shared requests behind a shared head. A position without an entry is taken for a shared holder
     * only when every live request is accounted for and no departed request without an entry is
     * exclusive; otherwise the walk stops there.
     */
    private void regrant(long lock) {
        long w = copy.getLong(0);
        int size = size(w);
        if (size == 0) {
            return;
        }
        parse(w);
        boolean gapsShared = liveAccounted && departedEntrylessExclusive == 0;
        WaiterSelection sel = s.selection;
        sel.clear();
        int h = head(w);
        for (int r = 0; r < size; r++) {
            int cn = byRel[r];
            if (cn == NONE) {
                if (!gapsShared) {
                    break;
                }
                continue;
            }
            boolean exclusive = field(w, cn) == FIELD_EXCLUSIVE;
            if (exclusive && r > 0) {
                break;
            }
            long e = entryAt((h + r) & (queueSlots - 1));
            if (liveness.isMember(cn) && !entryGranted(e)) {
                sel.add(e, h + r);
            }
            if (exclusive) {
                break;
            }
        }
        if (sel.count() > 0) {
            sel.waitersBehind(0);
            grantsResent += sel.count();
            grants.grant(lock, sel, s);
        }
    }
}
