package io.dmtree.core.messaging;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * CN-to-CN messaging between logical compute nodes in one JVM. A send copies the message into a
 * per-receiver FIFO and, unless another thread is already draining it, drains it by calling the
 * receiver's handler; so a handler never runs twice at once for one receiver, messages from one
 * sender arrive in order, and a handler that sends does not recurse without bound.
 */
public final class InJvmMessageBus {
    private final List<Endpoint> endpoints = new ArrayList<>();

    /** Creates the endpoint of the next compute node id. */
    public synchronized CnMessaging join() {
        Endpoint e = new Endpoint(endpoints.size());
        endpoints.add(e);
        return e;
    }

    private synchronized Endpoint endpoint(int cn) {
        if (cn < 0 || cn >= endpoints.size()) {
            throw new IllegalArgumentException("no compute node " + cn + " on this bus");
        }
        return endpoints.get(cn);
    }

    private record Message(int from, byte[] bytes) {
    }

    private final class Endpoint implements CnMessaging {
        private final int id;
        private final java.util.ArrayDeque<Message> inbox = new java.util.ArrayDeque<>();
        private final AtomicLong sent = new AtomicLong();
        private volatile MessageHandler handler;
        private boolean draining;
        private volatile boolean closed;

        Endpoint(int id) {
            this.id = id;
        }

        @Override
        public int self() {
            return id;
        }

        @Override
        public void send(int toCn, DirectBuffer message, int offset, int length) {
            CnMessaging.checkSend(closed, id, length);
            byte[] copy = new byte[length];
            message.getBytes(offset, copy);
            sent.incrementAndGet();
            endpoint(toCn).deliver(new Message(id, copy));
        }

        void deliver(Message m) {
            synchronized (this) {
                inbox.addLast(m);
                if (draining || handler == null) {
                    return;
                }
                draining = true;
            }
            drain();
        }

        private void drain() {
            UnsafeBuffer view = new UnsafeBuffer(new byte[0]);
            while (true) {
                Message m;
                MessageHandler h;
                synchronized (this) {
                    h = handler;
                    m = h == null ? null : inbox.pollFirst();
                    if (m == null) {
                        draining = false;
                        return;
                    }
                }
                view.wrap(m.bytes());
                try {
                    h.onMessage(m.from(), view, 0, m.bytes().length);
                } catch (RuntimeException | Error e) {
                    synchronized (this) {
                        draining = false;
                    }
                    throw e;
                }
            }
        }

        @Override
        public void onMessage(MessageHandler h) {
            boolean drainNow;
            synchronized (this) {
                handler = h;
                drainNow = h != null && !draining && !inbox.isEmpty();
                if (drainNow) {
                    draining = true;
                }
            }
            if (drainNow) {
                drain();
            }
        }

        @Override
        public long messagesSent() {
            return sent.get();
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
