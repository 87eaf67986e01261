package io.dmtree.core.wire;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;

/**
 * Length-prefixed frames over one blocking TCP connection. {@link #read()} reads one whole frame
 * into a receive buffer that grows up to the frame limit; one thread reads. {@link #write}
 * writes one whole frame; concurrent writers must hold the channel's {@link #writeLock()}.
 *
 * <p>A header with a length outside {@code [16, maxFrameBytes]} or a foreign version throws a
 * fatal {@link MalformedFrameException} before any body byte is read: the stream cannot be
 * resynchronised, the caller replies and closes. An end of stream between frames throws
 * {@link EOFException}; inside a frame, an {@link IOException} naming the truncation.
 *
 * <p>Opened with a secret that carries {@link ClusterTls} key material, the channel runs TLS
 * ({@link TlsSession}): the handshake comes first, then every frame is read and written through it;
 * writers still hold {@link #writeLock()}, and the reader's own TLS replies (a KeyUpdate) take the
 * session's lock.
 */
public final class FrameChannel implements AutoCloseable {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final SocketChannel channel;
    /** Null without TLS; set by {@link #open} before the first frame. */
    private TlsSession tls;
    private final int maxFrameBytes;
    private final Object writeLock = new Object();
    private ByteBuffer receive;
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[0]);
    private int frameLength;

    public FrameChannel(SocketChannel channel, int maxFrameBytes) throws IOException {
        if (maxFrameBytes < FrameHeader.LENGTH + 64) {
            throw new IllegalArgumentException("frame limit too small: " + maxFrameBytes);
        }
        this.channel = channel;
        this.maxFrameBytes = maxFrameBytes;
        channel.configureBlocking(true);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        this.receive = ByteBuffer.allocateDirect(Math.min(maxFrameBytes, 64 * 1024)).order(LE);
    }

    public static FrameChannel connect(InetSocketAddress address, int maxFrameBytes, int connectTimeoutMillis) throws IOException {
        SocketChannel ch = SocketChannel.open();
        try {
            ch.socket().connect(address, connectTimeoutMillis);
            return new FrameChannel(ch, maxFrameBytes);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** What the server said in its HELLO reply. */
    public record Peer(int nodeId, int maxFrameBytes) {
    }

    private Peer peer;

    /**
     * Connects, sends HELLO for {@code service} and checks the reply. An error reply (unknown
     * service, wrong version) or a non-dmtree peer becomes an IOException saying so; a peer that
     * wants a proof of the cluster secret refuses with an {@link AuthenticationException}.
     */
    public static FrameChannel open(InetSocketAddress address, int service, int maxFrameBytes, int timeoutMillis) throws IOException {
        return open(address, service, maxFrameBytes, timeoutMillis, null);
    }

    /**
     * ... proving {@code secret} (null: none) and checking the peer's proof ({@link ClusterSecret});
     * a failure either way is an {@link AuthenticationException}.
     */
    public static FrameChannel open(InetSocketAddress address, int service, int maxFrameBytes, int timeoutMillis,
                                    ClusterSecret secret) throws IOException {
        return open(address, service, maxFrameBytes, timeoutMillis, secret, HelloFrame.NO_COMPUTE_NODE, 0);
    }

    /** ... naming the incarnation {@code (computeNode, epoch)} in its HELLO. */
    public static FrameChannel open(InetSocketAddress address, int service, int maxFrameBytes, int timeoutMillis,
                                    ClusterSecret secret, int computeNode, long epoch) throws IOException {
        FrameChannel ch = connect(address, maxFrameBytes, timeoutMillis);
        String where = address.getHostString() + ":" + address.getPort();
        try {
            if (secret != null && secret.tls() != null) {
                ch.tls = TlsSession.client(ch.channel, secret.tls(), address.getHostString(), address.getPort());
                ch.tls.handshake(timeoutMillis);
            }
            ClientHandshake h = new ClientHandshake(secret, service, computeNode, epoch, where);
            FrameWriter w = new FrameWriter(128);
            ch.write(h.writeHello(w));
            ch.readWithTimeout(timeoutMillis);
            FrameReader r = new FrameReader().wrap(ch.frame(), 0, ch.frameLength());
            if (h.helloReply(r)) {
                ch.write(h.writeAuth(w));
                ch.readWithTimeout(timeoutMillis);
                h.authReply(r.wrap(ch.frame(), 0, ch.frameLength()));
            }
            ch.peer = new Peer(h.nodeId(), h.maxFrameBytes());
            return ch;
        } catch (MalformedFrameException e) {
            ch.close();
            throw new IOException(where + " answered HELLO with a bad frame: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The peer's HELLO reply, for a channel made by {@link #open}. */
    public Peer peer() {
        return peer;
    }

    /**
     * {@link #read()} that gives up after {@code timeoutMillis} with an IOException; used for
     * replies that must come at once (HELLO). Long waits use {@link #read()} from a receiver thread.
     */
    public void readWithTimeout(int timeoutMillis) throws IOException, MalformedFrameException {
        if (tls != null && tls.hasBufferedInput()) {
            read(); // at least part of the frame is here already, decrypted or not
            return;
        }
        java.nio.channels.Selector selector = java.nio.channels.Selector.open();
        try {
            channel.configureBlocking(false);
            channel.register(selector, java.nio.channels.SelectionKey.OP_READ);
            if (selector.select(timeoutMillis) == 0) {
                throw new java.net.SocketTimeoutException("no reply within " + timeoutMillis + " ms");
            }
        } finally {
            selector.close();
            channel.configureBlocking(true);
        }
        read();
    }

    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    public Object writeLock() {
        return writeLock;
    }

    /** This end's address (the interface the connection left by), or null once closed. */
    public InetSocketAddress localAddress() {
        try {
            return (InetSocketAddress) channel.getLocalAddress();
        } catch (IOException e) {
            return null;
        }
    }

    public SocketAddress remoteAddress() {
        try {
            return channel.getRemoteAddress();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Reads the next whole frame; {@link #frame()} and {@link #frameLength()} show it until the
     * next read.
     */
    public void read() throws IOException, MalformedFrameException {
        receive.clear().limit(FrameHeader.LENGTH);
        fill(true);
        int length = receive.getInt(FrameHeader.LENGTH_OFFSET);
        int version = receive.get(FrameHeader.VERSION_OFFSET) & 0xFF;
        if (version != FrameHeader.VERSION) {
            throw new MalformedFrameException(ErrorCode.VERSION, "frame version " + version
                    + " is not supported (this side speaks version " + FrameHeader.VERSION + ")", true);
        }
        if (length < FrameHeader.LENGTH || length > maxFrameBytes) {
            throw new MalformedFrameException(length < FrameHeader.LENGTH ? ErrorCode.MALFORMED : ErrorCode.TOO_LARGE,
                    "frame length " + Integer.toUnsignedString(length) + " outside [" + FrameHeader.LENGTH + ", "
                            + maxFrameBytes + "]", true);
        }
        if (length > receive.capacity()) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.min(maxFrameBytes, Math.max(length, 2 * receive.capacity()))).order(LE);
            receive.flip();
            bigger.put(receive);
            receive = bigger;
        }
        receive.limit(length);
        fill(false);
        frame.wrap(receive, 0, length);
        frameLength = length;
    }

    private void fill(boolean atFrameStart) throws IOException {
        boolean first = atFrameStart && receive.position() == 0;
        while (receive.hasRemaining()) {
            int n = tls == null ? channel.read(receive) : tls.read(receive);
            if (n < 0) {
                if (first && receive.position() == 0) {
                    throw new EOFException("connection closed by peer");
                }
                throw new IOException("connection closed in the middle of a frame (" + receive.position() + " of "
                        + receive.limit() + " bytes read)");
            }
        }
    }

    /** The last frame read, header included. */
    public UnsafeBuffer frame() {
        return frame;
    }

    public int frameLength() {
        return frameLength;
    }

    /** Writes a finished frame. Callers that share the channel hold {@link #writeLock()}. */
    public void write(FrameWriter w) throws IOException {
        ByteBuffer bb = w.byteBuffer();
        while (bb.hasRemaining()) {
            if (tls == null) {
                channel.write(bb);
            } else {
                tls.write(bb);
            }
        }
    }

    /** Writes raw bytes (tests: malformed frames). */
    public void writeRaw(ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            if (tls == null) {
                channel.write(bytes);
            } else {
                tls.write(bytes);
            }
        }
    }

    public boolean isOpen() {
        return channel.isOpen();
    }

    /** Whether frames go through TLS. */
    public boolean usesTls() {
        return tls != null;
    }

    @Override
    public void close() {
        if (tls != null) {
            tls.closeQuietly();
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
