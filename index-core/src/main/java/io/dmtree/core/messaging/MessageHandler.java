package io.dmtree.core.messaging;

import org.agrona.DirectBuffer;

/**
 * Receives CN-to-CN messages. Called on a carrier thread (or, in-JVM, on the sender's thread):
 * must be short and must not block. The buffer is valid only during the call.
 */
@FunctionalInterface
public interface MessageHandler {
    void onMessage(int fromCn, DirectBuffer buffer, int offset, int length);
}
