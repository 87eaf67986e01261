package io.dmtree.lock.modular;

import io.dmtree.core.messaging.CnMessaging;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

import static io.dmtree.lock.modular.GrantMessageLayout.*;

/**
 * The grant manager on the compute nodes: the releaser's CN sends a {@link GrantMessageLayout}
 * message straight to each selected waiter's CN, whose handler wakes the waiting leader. Waiters
 * never touch the MN while they wait.
 */
final class MessagingGrantManager implements GrantManager {
    private final CnMessaging messaging;
    private final LongFunction<Cohort> cohorts;
    private final ThreadLocal<UnsafeBuffer> out = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[LENGTH]));
    private final AtomicLong stale = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();

    MessagingGrantManager(CnMessaging messaging, LongFunction<Cohort> cohorts) {
        this.messaging = messaging;
        this.cohorts = cohorts;
        messaging.onMessage(this::onMessage);
    }

    @Override
    public void grant(long lock, WaiterSelection sel, MnLockQueue.Scratch scratch) {
        UnsafeBuffer b = out.get();
        for (int i = 0; i < sel.count(); i++) {
            long e = sel.entry(i);
            b.putByte(TYPE_OFFSET, TYPE_GRANT);
            b.putByte(MODE_OFFSET, (byte) (ModularLockLayout.entryExclusive(e) ? 1 : 0));
            int behind = sel.waitersBehind() + (sel.count() - 1 - i);
            b.putShort(BEHIND_OFFSET, (short) Math.min(behind, Short.MAX_VALUE), ByteOrder.LITTLE_ENDIAN);
            b.putInt(POSITION_OFFSET, sel.position(i), ByteOrder.LITTLE_ENDIAN);
            b.putLong(LOCK_OFFSET, lock, ByteOrder.LITTLE_ENDIAN);
            messaging.send(ModularLockLayout.entryComputeNode(e), b, 0, LENGTH);
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
        Cohort c = cohorts.apply(lock);
        if (c == null || !c.deliverGrant(position, behind)) {
            stale.incrementAndGet();
        }
    }

    @Override
    public int awaitGrant(Cohort cohort, int position, MnLockQueue.Scratch scratch) {
        return cohort.awaitGrant();
    }

    @Override
    public long staleGrants() {
        return stale.get() + malformed.get();
    }

    @Override
    public void close() {
        messaging.onMessage(null);
    }
}
