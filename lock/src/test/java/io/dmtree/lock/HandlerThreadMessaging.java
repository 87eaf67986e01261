package io.dmtree.lock;

import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.MessageHandler;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Messaging whose handler runs on a thread of the receiver's own, one message at a time in
 * arrival order, as over a network carrier: a sender never runs the receiver's handler itself
 * (the in-JVM bus does, which hides a handler that blocks behind the sending thread's monitors).
 */
final class HandlerThreadMessaging implements CnMessaging {
    private final CnMessaging delegate;
    private final ExecutorService handlerThread;

    HandlerThreadMessaging(CnMessaging delegate) {
        this.delegate = delegate;
        this.handlerThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "messages-to-cn" + delegate.self());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public int self() {
        return delegate.self();
    }

    @Override
    public void send(int toCn, DirectBuffer message, int offset, int length) {
        delegate.send(toCn, message, offset, length);
    }

    @Override
    public void onMessage(MessageHandler handler) {
        if (handler == null) {
            delegate.onMessage(null);
            return;
        }
        delegate.onMessage((from, buffer, offset, length) -> {
            byte[] copy = new byte[length];
            buffer.getBytes(offset, copy);
            handlerThread.execute(() -> handler.onMessage(from, new UnsafeBuffer(copy), 0, length));
        });
    }

    @Override
    public long messagesSent() {
        return delegate.messagesSent();
    }

    @Override
    public void close() {
        handlerThread.shutdownNow();
        delegate.close();
    }
}
