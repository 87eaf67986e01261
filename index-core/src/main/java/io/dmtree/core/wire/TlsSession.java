package io.dmtree.core.wire;

import org.agrona.BufferUtil;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * TLS ({@link ClusterTls}) over one {@link SocketChannel}, blocking or not, through the JDK's
 * {@link SSLEngine}: the frame code reads and writes plaintext through {@link #read} and
 * {@link #write} where it would call the channel.
 *
 * <pre>
 *   netIn  (write mode)  [0, position): ciphertext received, not yet unwrapped
 *   appIn  (read mode)   [position, limit): plaintext unwrapped that the last reader had no room for
 *   netOut (write mode)  [0, position): ciphertext wrapped, not yet on the socket
 * </pre>
 *
 * <p><b>Reading</b> ({@link #read}): leftover plaintext first, then records are unwrapped straight
 * into the caller's buffer; a record larger than the room there (BUFFER_OVERFLOW) is unwrapped into
 * {@code appIn} and copied out as room comes; a partial record (BUFFER_UNDERFLOW) reads the socket:
 * non-blocking, until it has nothing more; blocking, only while nothing was delivered yet. Because
 * ciphertext or plaintext may stay buffered here after the socket is drained, a selector no longer
 * tells the whole truth: a non-blocking caller checks {@link #hasBufferedInput()} before it waits
 * for readability.
 *
 * <p><b>Writing</b> ({@link #write}): pending ciphertext goes out first; then the caller's buffers
 * are wrapped (one record gathers up to 16 KiB of several frames, like a gathering write) and sent
 * while the socket takes them. The call returns the plaintext bytes it consumed; they may still be
 * ciphertext in {@code netOut}, so a non-blocking caller that wants its bytes on the wire keeps
 * watching writability while {@link #wantsWrite()} (blocking: the call returns only once they left).
 *
 * <p><b>Threads.</b> One reader at a time and any number of writers: every wrap and every use of
 * {@code netOut} holds {@code outbound}, also a wrap the reader must make (a TLS 1.3 KeyUpdate or
 * a post-handshake reply), which a non-blocking write never holds for long. The handshake runs
 * before either, on one thread ({@link #handshake} for clients, or driven from {@link #read} on a
 * server's event loop). Delegated tasks (certificate checks, key agreement) run on the calling
 * thread: CPU work of the handshake, no wait.
 *
 * <p><b>Refusals.</b> A failed handshake is a {@link TlsException} that says why: the peer speaks
 * dmtree without TLS (its first bytes are a frame header; a plaintext node's error reply is quoted),
 * its certificate is not trusted, or it refused ours. The alert the engine owes the peer is sent,
 * best effort, before the exception.
 */
public final class TlsSession implements ReadableByteChannel {
    /** {@link #advanceHandshake()}: done, or waiting for the socket. */
    public static final int DONE = 0;
    public static final int WANT_READ = 1;
    public static final int WANT_WRITE = 2;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    private static final int TLS_HANDSHAKE_RECORD = 0x16;
    private static final int FIRST_BYTES = 512;

    private final SocketChannel channel;
    private final SSLEngine engine;
    private final String peer;
    private final Object outbound = new Object();
    private ByteBuffer netIn;
    private ByteBuffer appIn;
    private ByteBuffer netOut;
    /** The first bytes the peer sent, kept to explain a handshake that failed on them. */
    private final byte[] first = new byte[FIRST_BYTES];
    private int firstLength;
    private volatile boolean handshaking = true;
    /** The last unwrap wanted more ciphertext than {@code netIn} holds. */
    private boolean starved = true;
    private boolean inboundClosed;

    private TlsSession(SocketChannel channel, SSLEngine engine, String peer) {
        this.channel = channel;
        this.engine = engine;
        this.peer = peer;
        int packet = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocateDirect(packet);
        this.netOut = ByteBuffer.allocateDirect(packet);
        this.appIn = ByteBuffer.allocateDirect(engine.getSession().getApplicationBufferSize());
        appIn.limit(0);
        try {
            engine.beginHandshake(); // else the engine reports NOT_HANDSHAKING until its first wrap or unwrap
        } catch (SSLException e) {
            throw new IllegalStateException("cannot begin a TLS handshake: " + e.getMessage(), e);
        }
    }

    /** The client side of a connection to {@code host:port} (named {@code peer} in messages). */
    public static TlsSession client(SocketChannel channel, ClusterTls tls, String host, int port) {
        return new TlsSession(channel, tls.clientEngine(host, port), host + ":" + port);
    }

    /** The server side of an accepted connection from {@code peer}. */
    public static TlsSession server(SocketChannel channel, ClusterTls tls, String peer) {
        return new TlsSession(channel, tls.serverEngine(), peer);
    }

    public boolean handshaking() {
        return handshaking;
    }

    /**
     * Completes the handshake within {@code timeoutMillis}, whatever the channel's blocking mode
     * (restored afterwards); a client calls this before its first frame.
     */
    public void handshake(int timeoutMillis) throws IOException {
        boolean wasBlocking = channel.isBlocking();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        channel.configureBlocking(false);
        try (Selector selector = Selector.open()) {
            SelectionKey key = channel.register(selector, 0);
            int state;
            while ((state = advanceHandshake()) != DONE) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SocketTimeoutException("no TLS handshake with " + peer + " within " + timeoutMillis + " ms");
                }
                key.interestOps(state == WANT_READ ? SelectionKey.OP_READ : SelectionKey.OP_WRITE);
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
            key.cancel();
            selector.selectNow(); // deregisters the key, so the channel may become blocking again
        } finally {
            if (wasBlocking && channel.isOpen()) {
                channel.configureBlocking(true);
            }
        }
    }

    /**
     * Takes the handshake as far as the socket allows without waiting; returns {@link #DONE} or
     * what it waits for. Throws {@link TlsException} when it failed, {@link EOFException} when the
     * peer closed the connection during it.
     */
    public int advanceHandshake() throws IOException {
        try {
            while (true) {
                SSLEngineResult.HandshakeStatus hs = engine.getHandshakeStatus();
                switch (hs) {
                    case NEED_TASK -> runTasks();
                    case NEED_WRAP -> {
                        synchronized (outbound) {
                            if (!flushHeld()) {
                                return WANT_WRITE;
                            }
                            SSLEngineResult r = engine.wrap(EMPTY, netOut);
                            if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                                netOut = grow(netOut, engine.getSession().getPacketBufferSize());
                            } else if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                                flushHeld();
                                throw new EOFException("the TLS session with " + peer + " closed during its handshake");
                            }
                            if (!flushHeld()) {
                                return WANT_WRITE;
                            }
                        }
                    }
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                        SSLEngineResult r = unwrapIntoAppIn();
                        switch (r.getStatus()) {
                            case BUFFER_UNDERFLOW -> {
                                int n = readSocket();
                                if (n < 0) {
                                    throw closedDuringHandshake(null);
                                }
                                if (n == 0) {
                                    return WANT_READ;
                                }
                            }
                            case BUFFER_OVERFLOW -> appIn = growApp(appIn);
                            case CLOSED -> throw closedDuringHandshake(null);
                            default -> {
                                // a handshake record consumed: go on
                            }
                        }
                    }
                    default -> {
                        handshaking = false;
                        return DONE;
                    }
                }
            }
        } catch (SSLException e) {
            if (!peerSpokePlaintext()) {
                sendAlertQuietly(); // a plaintext peer could not read it: it gets a plaintext error reply instead
            }
            throw refusal(e);
        }
    }

    // ---------------------------------------------------------------- reading

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (handshaking && advanceHandshake() != DONE) {
            return 0;
        }
        int total = drainAppIn(dst);
        boolean eof = false;
        boolean blocking = channel.isBlocking();
        try {
            while (dst.hasRemaining() && !inboundClosed) {
                if (netIn.position() == 0 || starved) {
                    if (total > 0 && blocking) {
                        break; // a blocking reader has something: do not wait for more
                    }
                    int n = readSocket();
                    if (n < 0) {
                        eof = true;
                        break;
                    }
                    if (n == 0) {
                        break;
                    }
                }
                netIn.flip();
                SSLEngineResult r;
                try {
                    r = engine.unwrap(netIn, dst);
                } finally {
                    netIn.compact();
                }
                switch (r.getStatus()) {
                    case OK -> total += r.bytesProduced();
                    case BUFFER_UNDERFLOW -> starved = true;
                    case BUFFER_OVERFLOW -> {
                        r = unwrapIntoAppIn();
                        if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                            appIn = growApp(appIn);
                        } else if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                            starved = true;
                        } else if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                            inboundClosed = true;
                        }
                        total += drainAppIn(dst);
                    }
                    case CLOSED -> inboundClosed = true;
                }
                postHandshake(r);
            }
        } catch (SSLException e) {
            throw new IOException("the TLS stream from " + peer + " is broken: " + e.getMessage(), e);
        }
        if (total == 0 && (eof || inboundClosed)) {
            return -1;
        }
        return total;
    }

    /**
     * Whether plaintext can be delivered without the socket: leftover plaintext, or ciphertext
     * not yet found to be a partial record.
     */
    public boolean hasBufferedInput() {
        return appIn.hasRemaining() || (netIn.position() > 0 && !starved);
    }

    private int readSocket() throws IOException {
        if (!netIn.hasRemaining()) {
            netIn = grow(netIn, engine.getSession().getPacketBufferSize());
        }
        int before = netIn.position();
        int n = channel.read(netIn);
        if (n > 0) {
            starved = false;
            if (firstLength < FIRST_BYTES) {
                int k = Math.min(FIRST_BYTES - firstLength, n);
                for (int i = 0; i < k; i++) {
                    first[firstLength + i] = netIn.get(before + i);
                }
                firstLength += k;
            }
        }
        return n;
    }

    /** Unwraps one record of {@code netIn} into {@code appIn}, keeping the plaintext already there. */
    private SSLEngineResult unwrapIntoAppIn() throws SSLException {
        appIn.compact();
        netIn.flip();
        try {
            return engine.unwrap(netIn, appIn);
        } finally {
            netIn.compact();
            appIn.flip();
        }
    }

    private int drainAppIn(ByteBuffer dst) {
        int n = Math.min(appIn.remaining(), dst.remaining());
        if (n == 0) {
            return 0;
        }
        int limit = appIn.limit();
        appIn.limit(appIn.position() + n);
        dst.put(appIn);
        appIn.limit(limit);
        return n;
    }

    /** After a data-phase unwrap: the engine's own work (tasks, a KeyUpdate or post-handshake reply to wrap). */
    private void postHandshake(SSLEngineResult r) throws IOException {
        SSLEngineResult.HandshakeStatus hs = r.getHandshakeStatus();
        while (hs == SSLEngineResult.HandshakeStatus.NEED_TASK || hs == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
            if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                runTasks();
            } else {
                synchronized (outbound) {
                    if (netOut.remaining() < engine.getSession().getPacketBufferSize() && !flushHeld()) {
                        netOut = grow(netOut, engine.getSession().getPacketBufferSize());
                    }
                    engine.wrap(EMPTY, netOut);
                    flushHeld(); // the rest, if any, leaves with the next write (wantsWrite says so)
                }
            }
            hs = engine.getHandshakeStatus();
        }
    }

    // ---------------------------------------------------------------- writing

    /** {@link #write(ByteBuffer[], int, int)} of one buffer. */
    public int write(ByteBuffer src) throws IOException {
        synchronized (outbound) {
            long n = 0;
            ByteBuffer[] one = single;
            one[0] = src;
            try {
                n = write(one, 0, 1);
            } finally {
                one[0] = null;
            }
            return (int) n;
        }
    }

    private final ByteBuffer[] single = new ByteBuffer[1];

    /**
     * Wraps and sends what the socket takes of {@code srcs[offset, offset + length)}; returns the
     * plaintext bytes consumed (see the class comment: they may still wait in this session).
     */
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        long left = 0;
        for (int i = offset; i < offset + length; i++) {
            left += srcs[i].remaining();
        }
        long consumed = 0;
        synchronized (outbound) {
            if (!flushHeld() || handshaking) {
                return 0; // no application data before the handshake is done
            }
            while (left > 0) {
                SSLEngineResult r = engine.wrap(srcs, offset, length, netOut);
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                    if (netOut.position() == 0) {
                        netOut = grow(netOut, engine.getSession().getPacketBufferSize());
                    } else if (!flushHeld()) {
                        break;
                    }
                    continue;
                }
                if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                    throw new IOException("the TLS session with " + peer + " is closed");
                }
                if (r.bytesConsumed() == 0) {
                    break; // nothing taken: the engine has handshake work first (it resumes with the next call)
                }
                consumed += r.bytesConsumed();
                left -= r.bytesConsumed();
                if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                    runTasks();
                }
            }
            flushHeld();
        }
        return consumed;
    }

    /** Sends pending ciphertext; true when none is left. */
    public boolean flush() throws IOException {
        synchronized (outbound) {
            return flushHeld();
        }
    }

    /** Whether ciphertext waits for the socket. */
    public boolean wantsWrite() {
        return netOut.position() > 0;
    }

    /** Holding {@code outbound}: writes {@code netOut} (blocking: all of it); true when it is empty. */
    private boolean flushHeld() throws IOException {
        if (netOut.position() == 0) {
            return true;
        }
        netOut.flip();
        try {
            while (netOut.hasRemaining()) {
                if (channel.write(netOut) == 0 && !channel.isBlocking()) {
                    break;
                }
            }
        } finally {
            netOut.compact();
        }
        return netOut.position() == 0;
    }

    // ---------------------------------------------------------------- closing and failures

    /** Sends close_notify, best effort and without waiting; the caller closes the channel. */
    public void closeQuietly() {
        try {
            synchronized (outbound) {
                engine.closeOutbound();
                if (netOut.remaining() >= engine.getSession().getPacketBufferSize() || flushHeld()) {
                    engine.wrap(EMPTY, netOut);
                }
                if (!channel.isBlocking()) {
                    flushHeld();
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // closing anyway
        }
    }

    /** Frees the direct buffers; after the channel is closed, by the last user. */
    public void free() {
        synchronized (outbound) {
            BufferUtil.free(netIn);
            BufferUtil.free(netOut);
            BufferUtil.free(appIn);
        }
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close() throws IOException {
        closeQuietly();
        channel.close();
    }

    private void sendAlertQuietly() {
        try {
            synchronized (outbound) {
                for (int i = 0; i < 4 && engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP; i++) {
                    if (netOut.remaining() < engine.getSession().getPacketBufferSize()) {
                        flushHeld();
                        netOut.clear();
                    }
                    engine.wrap(EMPTY, netOut);
                }
                flushHeld();
            }
        } catch (IOException | RuntimeException ignored) {
            // the refusal is what counts
        }
    }

    /** Whether the peer's first bytes are a dmtree frame header: it speaks dmtree without TLS. */
    public boolean peerSpokePlaintext() {
        if (firstLength < FrameHeader.LENGTH || (first[0] & 0xFF) == TLS_HANDSHAKE_RECORD) {
            return false;
        }
        int length = ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getInt(FrameHeader.LENGTH_OFFSET);
        return (first[FrameHeader.VERSION_OFFSET] & 0xFF) == FrameHeader.VERSION && length >= FrameHeader.LENGTH;
    }

    private TlsException refusal(SSLException e) {
        if (peerSpokePlaintext()) {
            String said = "";
            ByteBuffer b = ByteBuffer.wrap(first, 0, firstLength).order(ByteOrder.LITTLE_ENDIAN);
            int length = b.getInt(FrameHeader.LENGTH_OFFSET);
            if ((first[FrameHeader.TYPE_OFFSET] & 0xFF) == FrameHeader.TYPE_ERROR && length <= firstLength) {
                try {
                    FrameReader r = new FrameReader().wrap(new org.agrona.concurrent.UnsafeBuffer(first), 0, length);
                    said = " (it said: " + ErrorReply.of(r).message() + ")";
                } catch (RuntimeException ignored) {
                    // quoted when readable only
                }
            }
            return new TlsException(peer + " does not use TLS, and this side does (--tls): start every member with the "
                    + "same TLS setting" + said, true, e);
        }
        String m = String.valueOf(e.getMessage());
        String why;
        if (m.contains("PKIX") || m.contains("certification path") || m.contains("Empty client certificate")
                || m.contains("certificate_required")) {
            why = "its certificate is not one this side trusts, or it presented none (another cluster's key material?)";
        } else if (m.contains("bad_certificate") || m.contains("certificate_unknown") || m.contains("unknown_ca")) {
            why = "it does not trust this side's certificate (another cluster's key material?)";
        } else if (m.contains("protocol_version") || m.contains("No appropriate protocol")) {
            why = "it does not speak " + ClusterTls.PROTOCOL;
        } else if (m.contains("Unsupported or unrecognized SSL message")) {
            why = "it does not speak TLS";
        } else {
            why = "the handshake failed";
        }
        return new TlsException("TLS with " + peer + " refused: " + why + " [" + m + "]", false, e);
    }

    private IOException closedDuringHandshake(Throwable cause) {
        if (peerSpokePlaintext()) {
            return refusal(new SSLException("plaintext peer", cause));
        }
        return new TlsException("TLS with " + peer + " refused: it closed the connection during the handshake (it may not "
                + "trust this side's certificate, or it refused the connection)", false, cause);
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    private static ByteBuffer grow(ByteBuffer b, int atLeast) {
        ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(atLeast, b.position()) + b.capacity());
        b.flip();
        bigger.put(b);
        BufferUtil.free(b);
        return bigger;
    }

    private ByteBuffer growApp(ByteBuffer read) {
        ByteBuffer bigger = ByteBuffer.allocateDirect(read.remaining() + engine.getSession().getApplicationBufferSize());
        bigger.put(read);
        bigger.flip();
        BufferUtil.free(read);
        return bigger;
    }
}
