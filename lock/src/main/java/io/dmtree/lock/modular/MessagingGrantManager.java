package io.dmtree.lock.modular;

import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.lock.recovery.PeerSend;
import io.dmtree.lock.recovery.WaitWatch;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;

import static io.dmtree.lock.modular.GrantMessageLayout.*;

/**
 * The grant manager on the compute nodes: the releaser's CN sends a {@link GrantMessageLayout}
 * message straight to each selected waiter's CN, whose handler wakes the waiting leader. Waiters
 * do not touch the MN while grants arrive: only when membership changed, or nothing came for the
 * look interval of the {@link io.dmtree.lock.recovery.WaitPolicy}, does a waiter READ the lock
 * to see whether it already holds (a grant lost with a departed releaser, or a failed send). A
 * grant for a departed member is dropped; recovery passes it on.
 */
final class MessagingGrantManager implements GrantManager {
    private final CnMessaging messaging;
    private final MemberLiveness liveness;
    private final MnLockQueue queue;
    private final LongFunction<Cohort> cohorts;
    private final ThreadLocal<UnsafeBuffer> out = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[LENGTH]));
    private final AtomicLong stale = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong self = new AtomicLong();

    MessagingGrantManager(CnMessaging messaging, MnLockQueue queue, LongFunction<Cohort> cohorts) {
        this.messaging = messaging;
        this.queue = queue;
        this.liveness = queue.liveness();
        this.cohorts = cohorts;
        messaging.onMessage(this::onMessage);
    }

    @Override
    public void grant(long lock, WaiterSelection sel, MnLockQueue.Scratch scratch) {
        grant(lock, sel, 0, sel.count());
    }

    /** Sends the grants of selected requests {@code from .. to-1}. */
    void grant(long lock, WaiterSelection sel, int from, int to) {
        UnsafeBuffer b = out.get();
        for (int i = from; i < to; i++) {
            long e = sel.entry(i);
            b.putByte(TYPE_OFFSET, TYPE_GRANT);
            b.putByte(MODE_OFFSET, (byte) ((ModularLockLayout.entryExclusive(e) ? FLAG_EXCLUSIVE : 0)
                    | (sel.handedOn() ? FLAG_HANDED_ON : 0)));
            int behind = sel.waitersBehind() + (sel.count() - 1 - i);
            b.putShort(BEHIND_OFFSET, (short) Math.min(behind, Short.MAX_VALUE), ByteOrder.LITTLE_ENDIAN);
            b.putInt(POSITION_OFFSET, sel.position(i), ByteOrder.LITTLE_ENDIAN);
            b.putLong(LOCK_OFFSET, lock, ByteOrder.LITTLE_ENDIAN);
            PeerSend.send(messaging, liveness, ModularLockLayout.entryComputeNode(e), b, 0, LENGTH);
        }
    }

    private void onMessage(int fromCn, DirectBuffer buffer, int offset, int length) {
        if (length != LENGTH || buffer.getByte(offset + TYPE_OFFSET) != TYPE_GRANT) {
            malformed.incrementAndGet();
            return;
        }
        long lock = buffer.getLong(offset + LOCK_OFFSET, ByteOrder.LITTLE_ENDIAN);
        int position = buffer.getInt(offset + POSITION_OFFSET, ByteOrder.LITTLE_ENDIAN);
        int behind = buffer.getShort(offset + BEHIND_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        boolean handedOn = (buffer.getByte(offset + MODE_OFFSET) & FLAG_HANDED_ON) != 0;
        Cohort c = cohorts.apply(lock);
        if (c == null || !c.deliverGrant(position, behind, handedOn)) {
            stale.incrementAndGet();
        }
    }

    @Override
    public int awaitGrant(Cohort cohort, int position, boolean exclusive, MnLockQueue.Scratch scratch) {
        int spins = 0;
        WaitWatch watch = scratch.watch;
        watch.begin();
        while (!cohort.mnGranted) {
            if (spins < 200) {
                spins++;
                Thread.onSpinWait();
                continue;
            }
            if (watch.poll("waiting for a modular lock grant") == WaitWatch.LOOK) {
                int behind = queue.holdsByState(cohort.lock, position, exclusive, scratch);
                if (behind >= 0 && cohort.deliverGrant(position, behind)) {
                    self.incrementAndGet();
                }
                continue;
            }
            LockSupport.parkNanos(cohort, watch.parkNanos());
        }
        return cohort.takeGrant();
    }

    @Override
    public long staleGrants() {
        return stale.get() + malformed.get();
    }

    @Override
    public long selfGrants() {
        return self.get();
    }

    @Override
    public void close() {
        messaging.onMessage(null);
    }
}
