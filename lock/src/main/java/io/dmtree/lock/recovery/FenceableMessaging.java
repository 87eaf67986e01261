package io.dmtree.lock.recovery;

import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.MessageHandler;
import org.agrona.DirectBuffer;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A compute node's messaging that can be cut from outside, as a stopped process's would be (tests
 * and benchmarks of lock recovery): once
 * {@link #fence()}d, its sends fail and messages to it are lost (counted).
 */
public final class FenceableMessaging implements CnMessaging {
    private final CnMessaging inner;
    private final AtomicLong lost = new AtomicLong();
    private volatile boolean fenced;

    public FenceableMessaging(CnMessaging inner) {
        this.inner = inner;
    }

    public void fence() {
        fenced = true;
    }

    /** Messages that reached this node after its fence. */
    public long lost() {
        return lost.get();
    }

    @Override
    public int self() {
        return inner.self();
    }

    @Override
    public void send(int toCn, DirectBuffer message, int offset, int length) {
        if (fenced) {
            throw new IllegalStateException("compute node " + inner.self() + " is stopped: it sends nothing");
        }
        inner.send(toCn, message, offset, length);
    }

    @Override
    public void onMessage(MessageHandler handler) {
        if (handler == null) {
            inner.onMessage(null);
            return;
        }
        inner.onMessage((from, buffer, offset, length) -> {
            if (fenced) {
                lost.incrementAndGet();
                return;
            }
            handler.onMessage(from, buffer, offset, length);
        });
    }

    @Override
    public long messagesSent() {
        return inner.messagesSent();
    }

    @Override
    public void close() {
        inner.close();
    }
}
