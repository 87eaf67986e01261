package io.dmtree.workloads.mnload;

import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.HelloFrame;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The connections {@code dmtree mnload} loads a memory node with, all from this process: idle
 * ones that said HELLO, ones that announce a maximal frame before HELLO, and ones that say HELLO,
 * announce a maximal verb frame and push as much of its body as the memory node takes (never the
 * last byte, so every frame stays pending). Non-blocking, so a memory node that stops reading
 * never stalls this side.
 */
final class LoadConnections implements AutoCloseable {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final List<SocketChannel> channels = new ArrayList<>();
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(64 << 10);

    int size() {
        return channels.size();
    }

    /** {@code n} connections that complete HELLO on the verbs service, then say nothing. */
    void openIdle(InetSocketAddress mn, int n, int timeoutMillis) throws IOException {
        for (int i = 0; i < n; i++) {
            SocketChannel ch = connect(mn);
            hello(ch, timeoutMillis);
        }
    }

    /** {@code n} connections whose first frame announces {@code frameBytes} (before HELLO). */
    void openAnnouncingBeforeHello(InetSocketAddress mn, int n, int frameBytes) throws IOException {
        for (int i = 0; i < n; i++) {
            SocketChannel ch = connect(mn);
            writeFully(ch, header(frameBytes, FrameHeader.TYPE_HELLO));
        }
    }

    /** {@code n} connections that say HELLO on the verbs service, then announce a verb frame of {@code frameBytes}. */
    void openAnnouncingAfterHello(InetSocketAddress mn, int n, int frameBytes, int timeoutMillis) throws IOException {
        for (int i = 0; i < n; i++) {
            SocketChannel ch = connect(mn);
            hello(ch, timeoutMillis);
            writeFully(ch, header(frameBytes, FrameHeader.TYPE_VERB_REQUEST));
        }
    }

    /**
     * Pushes body bytes into every connection, round-robin and non-blocking, up to one byte short
     * of {@code frameBytes} each, until all are that full, none took a byte for {@code stallMillis},
     * or {@code maxMillis} passed. Returns the bytes pushed.
     */
    long pushBodies(int frameBytes, int stallMillis, int maxMillis) throws IOException {
        int body = frameBytes - FrameHeader.LENGTH - 1;
        long[] sent = new long[channels.size()];
        ByteBuffer zeros = ByteBuffer.allocateDirect(256 << 10);
        long total = 0;
        long start = System.nanoTime();
        long lastProgress = start;
        while (true) {
            boolean any = false;
            boolean allFull = true;
            for (int i = 0; i < channels.size(); i++) {
                SocketChannel ch = channels.get(i);
                if (!ch.isOpen() || sent[i] >= body) {
                    continue;
                }
                allFull = false;
                zeros.clear().limit((int) Math.min(zeros.capacity(), body - sent[i]));
                int n;
                try {
                    n = ch.write(zeros);
                } catch (IOException e) {
                    ch.close(); // the memory node closed it
                    continue;
                }
                if (n > 0) {
                    sent[i] += n;
                    total += n;
                    any = true;
                }
            }
            long now = System.nanoTime();
            if (any) {
                lastProgress = now;
            }
            if (allFull || now - lastProgress > TimeUnit.MILLISECONDS.toNanos(stallMillis)
                    || now - start > TimeUnit.MILLISECONDS.toNanos(maxMillis)) {
                return total;
            }
            if (!any) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return total;
                }
            }
        }
    }

    /** Connections the memory node has not closed (whatever it sent is read and dropped). */
    int stillOpen() {
        int open = 0;
        for (SocketChannel ch : channels) {
            if (!ch.isOpen()) {
                continue;
            }
            try {
                int n;
                do {
                    scratch.clear();
                    n = ch.read(scratch);
                } while (n > 0);
                if (n == 0) {
                    open++;
                } else {
                    ch.close();
                }
            } catch (IOException e) {
                closeQuietly(ch);
            }
        }
        return open;
    }

    private SocketChannel connect(InetSocketAddress mn) throws IOException {
        SocketChannel ch = SocketChannel.open(mn);
        channels.add(ch);
        ch.configureBlocking(false);
        return ch;
    }

    private void hello(SocketChannel ch, int timeoutMillis) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(HelloFrame.REQUEST_LENGTH).order(LE);
        b.putInt(HelloFrame.REQUEST_LENGTH).put((byte) FrameHeader.VERSION).put((byte) FrameHeader.TYPE_HELLO).putShort((short) 0)
                .putLong(0).putInt(HelloFrame.MAGIC).put((byte) HelloFrame.SERVICE_VERBS).put((byte) 0).putShort((short) 0);
        writeFully(ch, b.array());
        ByteBuffer reply = ByteBuffer.allocate(HelloFrame.REPLY_LENGTH).order(LE);
        try (Selector s = Selector.open()) {
            ch.register(s, SelectionKey.OP_READ);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            while (reply.hasRemaining()) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || s.select(left) == 0 && System.nanoTime() > deadline) {
                    throw new IOException("no HELLO reply within " + timeoutMillis + " ms (connection " + channels.size() + ")");
                }
                s.selectedKeys().clear();
                if (ch.read(reply) < 0) {
                    throw new IOException("the memory node closed connection " + channels.size() + " at HELLO");
                }
            }
        }
        int type = reply.get(FrameHeader.TYPE_OFFSET) & 0xFF;
        if (type != (FrameHeader.TYPE_HELLO | FrameHeader.REPLY_BIT)) {
            throw new IOException("the memory node answered HELLO of connection " + channels.size() + " with "
                    + FrameHeader.typeName(type));
        }
    }

    private static void writeFully(SocketChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (b.hasRemaining()) {
            if (ch.write(b) == 0) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("the memory node takes no bytes");
                }
                Thread.onSpinWait();
            }
        }
    }

    private static byte[] header(int length, int type) {
        ByteBuffer b = ByteBuffer.allocate(FrameHeader.LENGTH).order(LE);
        b.putInt(length).put((byte) FrameHeader.VERSION).put((byte) type).putShort((short) 1).putLong(1);
        return b.array();
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        for (SocketChannel ch : channels) {
            closeQuietly(ch);
        }
        channels.clear();
    }
}
