package io.dmtree.cn.carrier.shm;

import io.dmtree.cn.messaging.MessageDispatcher;
import io.dmtree.cn.messaging.PeerConnections;
import io.dmtree.cn.messaging.PeerDirectory;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.MessageHandler;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * CN-to-CN messaging through shared memory on one host: each compute node owns an inbox, an Agrona
 * many-to-one ring buffer in a mapped file (registered in memory node 0's directory as
 * {@code shm:PATH}); senders map the receiver's inbox and write records into it directly, with the
 * sender's compute-node id + 1 as the record type. One poller thread per receiver reads its inbox
 * and calls the handler, so a handler never runs twice at once, and records of one sender stay in
 * order. The poller does not start reading before a handler is set: messages wait in the ring.
 * A full ring makes the sender back off and retry, up to the timeout.
 */
public final class ShmMessaging implements CnMessaging {
    public static final String SCHEME = "shm:";
    public static final int DEFAULT_CAPACITY = 1 << 20;

    private final int self;
    private final Path inboxFile;
    private final ManyToOneRingBuffer inbox;
    private final MappedByteBuffer inboxMapping;
    private final int timeoutMillis;
    private final MessageDispatcher dispatcher = new MessageDispatcher();
    private final PeerConnections<ManyToOneRingBuffer> outboxes;
    private final Map<Integer, MappedByteBuffer> outboxMappings = new ConcurrentHashMap<>();
    private final AtomicLong sent = new AtomicLong();
    private final Thread poller;
    private volatile boolean closed;

    private ShmMessaging(int self, Path inboxFile, MappedByteBuffer mapping, PeerDirectory directory, int timeoutMillis) {
        this.self = self;
        this.inboxFile = inboxFile;
        this.inboxMapping = mapping;
        this.inbox = new ManyToOneRingBuffer(new UnsafeBuffer(mapping));
        this.timeoutMillis = timeoutMillis;
        this.outboxes = new PeerConnections<>(directory, SCHEME, "shared-memory inbox", timeoutMillis, this::connect);
        this.poller = new Thread(this::poll, "dmtree-cn" + self + "-inbox");
        poller.setDaemon(true);
        poller.start();
    }

    /**
     * Creates compute node {@code self}'s inbox of {@code capacity} bytes (a power of two) in
     * {@code dir}. The file is made under a temporary name and renamed into place, so a sender
     * never maps a half-made inbox.
     */
    public static ShmMessaging create(int self, Path dir, int capacity, PeerDirectory directory, int timeoutMillis) {
        if (Integer.bitCount(capacity) != 1 || capacity < 4096) {
            throw new IllegalArgumentException("inbox capacity must be a power of two of at least 4096: " + capacity);
        }
        Path file = dir.resolve("dmtree-cn" + self + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".inbox");
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try {
            long length = capacity + RingBufferDescriptor.TRAILER_LENGTH;
            try (FileChannel ch = FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(new byte[1]), length - 1);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            MappedByteBuffer mapping = IoUtil.mapExistingFile(file.toFile(), "inbox of compute node " + self);
            return new ShmMessaging(self, file, mapping, directory, timeoutMillis);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // reporting the first failure
            }
            throw new IllegalStateException("compute node " + self + " cannot create its inbox in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** This endpoint as registered in the directory. */
    public String endpoint() {
        return SCHEME + inboxFile.toAbsolutePath();
    }

    public Path inboxFile() {
        return inboxFile;
    }

    private void poll() {
        IdleStrategy idle = new BackoffIdleStrategy(64, 16, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MICROSECONDS.toNanos(50));
        try {
            MessageHandler handler = dispatcher.awaitHandler();
            if (handler == null) {
                return;
            }
            while (!closed) {
                int n = inbox.read((type, buffer, index, length) -> {
                    try {
                        dispatcher.deliver(type - 1, buffer, index, length);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, 64);
                idle.idle(n);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            if (!closed) {
                System.err.println("dmtree: the message handler of compute node " + self + " failed; its inbox stops: " + e);
            }
        }
    }

    @Override
    public int self() {
        return self;
    }

    @Override
    public void send(int toCn, DirectBuffer message, int offset, int length) {
        CnMessaging.checkSend(closed, self, length);
        ManyToOneRingBuffer ring = outbox(toCn);
        if (!ring.write(self + 1, message, offset, length)) {
            IdleStrategy idle = new BackoffIdleStrategy(16, 16, 1_000, 1_000_000);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            while (!ring.write(self + 1, message, offset, length)) {
                if (System.nanoTime() > deadline) {
                    throw new RemoteAccessException("the inbox of compute node " + toCn + " stayed full for " + timeoutMillis
                            + " ms: is it still running?");
                }
                idle.idle();
            }
        }
        sent.incrementAndGet();
    }

    private ManyToOneRingBuffer outbox(int cn) {
        return cn == self ? inbox : outboxes.get(cn);
    }

    private ManyToOneRingBuffer connect(int cn, String path) {
        java.io.File f = new java.io.File(path);
        if (!f.isFile()) {
            throw new RemoteAccessException("the inbox " + f + " of compute node " + cn + " is missing (is it on this host?)");
        }
        MappedByteBuffer m = IoUtil.mapExistingFile(f, "inbox of compute node " + cn);
        outboxMappings.put(cn, m);
        return new ManyToOneRingBuffer(new UnsafeBuffer(m));
    }

    @Override
    public void onMessage(MessageHandler handler) {
        dispatcher.setHandler(handler);
    }

    @Override
    public long messagesSent() {
        return sent.get();
    }

    @Override
    public void close() {
        closed = true;
        dispatcher.close();
        try {
            poller.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(inboxFile);
        } catch (IOException e) {
            System.err.println("dmtree: could not delete " + inboxFile + ": " + e.getMessage());
        }
    }
}
