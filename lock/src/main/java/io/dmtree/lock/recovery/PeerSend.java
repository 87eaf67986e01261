package io.dmtree.lock.recovery;

import io.dmtree.core.lock.MemberLiveness;
import io.dmtree.core.memory.FencedException;
import io.dmtree.core.messaging.CnMessaging;
import org.agrona.DirectBuffer;

import java.util.concurrent.locks.LockSupport;

/**
 * Sends a lock message (a grant, a link) to another compute node on a path that must not fail
 * once memory-node state has changed, such as a release after its FAA: a message to a departed
 * member is dropped (its recovery passes the grant on), a failed send to a live member is retried
 * for a bounded time and only then reported. A sender that is itself fenced learns it at once
 * ({@link FencedException}, not retried): nothing it sends counts any more.
 */
public final class PeerSend {
    /** Tries of a send to a live member before it is reported. */
    public static final int TRIES = 50;

    private PeerSend() {
    }

    /** Returns true when sent, false when {@code toCn} has departed (dropped). */
    public static boolean send(CnMessaging messaging, MemberLiveness liveness, int toCn, DirectBuffer message,
                               int offset, int length) {
        RuntimeException last = null;
        for (int i = 0; i < TRIES; i++) {
            if (toCn != messaging.self() && !liveness.isMember(toCn)) {
                return false;
            }
            try {
                messaging.send(toCn, message, offset, length);
                return true;
            } catch (FencedException e) {
                throw e;
            } catch (RuntimeException e) {
                last = e;
                LockSupport.parkNanos(1_000_000L * Math.min(i + 1, 10));
            }
        }
        throw new IllegalStateException("lock message to live compute node " + toCn + " failed " + TRIES + " times",
                last);
    }
}
