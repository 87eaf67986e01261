package io.dmtree.core.messaging;

import org.agrona.DirectBuffer;

/**
 * One compute node's endpoint for messages to other compute nodes: how the CN-side grant manager
 * tells a waiter on another CN that it holds a lock, without touching a memory node. Messages are
 * delivered at most once, in send order per sender-receiver pair, and never to a CN that has no
 * handler yet (they wait for it). Thread-safe.
 */
public interface CnMessaging extends AutoCloseable {
    /** The largest message {@link #send} accepts. */
    int MAX_MESSAGE_BYTES = 256;

    /** This compute node's id. */
    int self();

    /** Sends {@code length} bytes to compute node {@code toCn} (which may be {@link #self()}). */
    void send(int toCn, DirectBuffer message, int offset, int length);

    /** Sets the handler for messages to this compute node; it replaces any earlier handler. */
    void onMessage(MessageHandler handler);

    /** Messages sent by this endpoint so far. */
    long messagesSent();

    @Override
    void close();

    /** The checks every endpoint makes before sending: open, and a length within bounds. */
    static void checkSend(boolean closed, int self, int length) {
        if (closed) {
            throw new IllegalStateException("messaging endpoint of compute node " + self + " is closed");
        }
        if (length < 0 || length > MAX_MESSAGE_BYTES) {
            throw new IllegalArgumentException("message length " + length + " outside [0, " + MAX_MESSAGE_BYTES + "]");
        }
    }
}
