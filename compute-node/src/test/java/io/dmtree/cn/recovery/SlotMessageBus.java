package io.dmtree.cn.recovery;

import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.MessageHandler;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * CN-to-CN messaging in one JVM whose endpoints are compute-node slots: a new incarnation of a
 * slot takes the slot's address over (messages go to the latest endpoint of a slot), as a
 * restarted process registers its new endpoint. Delivery is on the sender's thread, one message
 * at a time per endpoint, in order.
 */
final class SlotMessageBus {
    private final ConcurrentHashMap<Integer, Endpoint> current = new ConcurrentHashMap<>();

    CnMessaging join(int slot) {
        Endpoint e = new Endpoint(slot);
        Endpoint old = current.put(slot, e);
        if (old != null) {
            old.close();
        }
        return e;
    }

    private record Message(int from, byte[] bytes) {
    }

    private final class Endpoint implements CnMessaging {
        private final int id;
        private final ArrayDeque<Message> inbox = new ArrayDeque<>();
        private final AtomicLong sent = new AtomicLong();
        private MessageHandler handler;
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
            Endpoint to = current.get(toCn);
            if (to == null) {
                throw new IllegalStateException("no compute node " + toCn + " on this bus");
            }
            byte[] copy = new byte[length];
            message.getBytes(offset, copy);
            sent.incrementAndGet();
            to.deliver(new Message(id, copy));
        }

        void deliver(Message m) {
            synchronized (this) {
                if (closed) {
                    return; // a closed incarnation's mail is lost, as a dead process's
                }
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
