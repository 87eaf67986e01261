package io.dmtree.cn.messaging;

import io.dmtree.core.messaging.MessageHandler;
import org.agrona.DirectBuffer;

/**
 * Hands received messages to a compute node's handler: one call at a time (a handler never runs
 * twice at once), and a message that arrives before any handler is set waits for one (the
 * receiving thread blocks, so the sender's order is kept), as {@code CnMessaging} promises.
 */
public final class MessageDispatcher {
    private MessageHandler handler;
    private boolean closed;
    private final Object callLock = new Object();

    public synchronized void setHandler(MessageHandler h) {
        handler = h;
        notifyAll();
    }

    public synchronized void close() {
        closed = true;
        notifyAll();
    }

    /** The handler, waiting for one; null once closed. */
    public synchronized MessageHandler awaitHandler() throws InterruptedException {
        while (handler == null && !closed) {
            wait();
        }
        return closed ? null : handler;
    }

    public synchronized boolean hasHandler() {
        return handler != null;
    }

    /** Delivers one message; returns false when the dispatcher closed before a handler was set. */
    public boolean deliver(int fromCn, DirectBuffer buffer, int offset, int length) throws InterruptedException {
        MessageHandler h = awaitHandler();
        if (h == null) {
            return false;
        }
        synchronized (callLock) {
            h.onMessage(fromCn, buffer, offset, length);
        }
        return true;
    }
}
