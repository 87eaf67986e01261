package io.dmtree.core.wire;

import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One event-loop thread of a {@link FrameServer}: a selector over its share of the connections
 * (loop 0 also accepts), a queue of tasks other threads hand it (accepted connections, finished
 * blocking frames, completed parked replies), and a coarse timer tick for the HELLO and idle
 * timeouts.
 *
 * <p>Invariants: every {@link FrameConnection} of this loop is touched only by this thread, except
 * for the session call and reply building that a blocking worker does while the connection has
 * that frame {@code inProgress} (and then this thread leaves the connection's buffers alone). A
 * task {@linkplain #post posted} is run exactly once: by this thread, or, when the loop has
 * terminated, refused (post returns false) so the poster runs its fallback. Wake-ups are coalesced:
 * at most one {@link Selector#wakeup()} per batch of posts.
 */
final class FrameLoop implements Runnable {
    private final FrameServer server;
    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final ArrayList<FrameConnection> connections = new ArrayList<>();
    private final long tickNanos;
    private final java.util.function.Consumer<SelectionKey> onReady = this::ready;
    private ServerSocketChannel acceptChannel;
    private volatile boolean stopping;
    private volatile boolean terminated;

    FrameLoop(FrameServer server, int index, String threadPrefix, long tickNanos) throws IOException {
        this.server = server;
        this.selector = Selector.open();
        this.tickNanos = tickNanos;
        this.thread = new Thread(this, threadPrefix + "-loop-" + index);
        thread.setDaemon(true);
    }

    /** Registers the listening channel; before {@link #start()} only. */
    void acceptOn(ServerSocketChannel channel) throws IOException {
        this.acceptChannel = channel;
        channel.register(selector, SelectionKey.OP_ACCEPT, channel);
    }

    void start() {
        thread.start();
    }

    boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Runs {@code task} on this loop; false when the loop has terminated (the task will not run). */
    boolean post(Runnable task) {
        tasks.add(task);
        if (terminated && tasks.remove(task)) {
            return false;
        }
        if (wakeupPending.compareAndSet(false, true)) {
            selector.wakeup();
        }
        return true;
    }

    void stop() {
        stopping = true;
        selector.wakeup();
    }

    void join(long millis) throws InterruptedException {
        thread.join(millis);
    }

    @Override
    public void run() {
        long nextTick = System.nanoTime() + tickNanos;
        try {
            while (!stopping) {
                long now = System.nanoTime();
                long wait = Math.max(1, (nextTick - now) / 1_000_000);
                if (tasks.isEmpty()) {
                    selector.select(onReady, wait);
                } else {
                    selector.selectNow(onReady);
                }
                wakeupPending.set(false);
                runTasks();
                now = System.nanoTime();
                if (now - nextTick >= 0) {
                    tick(now);
                    nextTick = now + tickNanos;
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            if (!stopping) {
                server.internalError("event loop " + thread.getName() + " failed", e);
            }
        } finally {
            for (int i = connections.size() - 1; i >= 0; i--) {
                connections.get(i).shutdown();
            }
            terminated = true;
            runTasks();
            try {
                selector.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private void runTasks() {
        Runnable r;
        while ((r = tasks.poll()) != null) {
            try {
                r.run();
            } catch (RuntimeException e) {
                server.internalError("a task of " + thread.getName() + " failed", e);
            }
        }
    }

    private void ready(SelectionKey key) {
        Object a = key.attachment();
        if (a == acceptChannel) {
            accept();
            return;
        }
        FrameConnection c = (FrameConnection) a;
        try {
            int ops = key.readyOps();
            if ((ops & SelectionKey.OP_WRITE) != 0) {
                c.onWritable();
            }
            if ((ops & SelectionKey.OP_READ) != 0 && key.isValid()) {
                c.onReadable();
            }
        } catch (IOException | CancelledKeyException e) {
            c.close(); // reset, broken pipe: the peer is gone
        } catch (RuntimeException | Error e) {
            c.internalError(e);
        }
    }

    private void accept() {
        for (int i = 0; i < 256; i++) {
            SocketChannel ch;
            try {
                ch = acceptChannel.accept();
            } catch (IOException e) {
                if (!stopping && acceptChannel.isOpen()) {
                    server.acceptFailed(e);
                }
                return;
            }
            if (ch == null) {
                return;
            }
            server.accepted(ch);
        }
    }

    /** Takes over a freshly accepted connection; on this loop's thread. */
    void adopt(SocketChannel ch) {
        FrameConnection c = new FrameConnection(server, this, ch);
        if (stopping) {
            c.shutdown();
            return;
        }
        try {
            c.register(ch.register(selector, SelectionKey.OP_READ, c));
        } catch (IOException | RuntimeException e) {
            c.close();
            return;
        }
        c.slot = connections.size();
        connections.add(c);
    }

    void remove(FrameConnection c) {
        int i = c.slot;
        if (i < 0 || i >= connections.size() || connections.get(i) != c) {
            return;
        }
        FrameConnection last = connections.remove(connections.size() - 1);
        if (last != c) {
            connections.set(i, last);
            last.slot = i;
        }
        c.slot = -1;
    }

    private void tick(long now) {
        for (int i = connections.size() - 1; i >= 0; i--) {
            if (i < connections.size()) {
                connections.get(i).tick(now);
            }
        }
    }

    String name() {
        return thread.getName();
    }
}
