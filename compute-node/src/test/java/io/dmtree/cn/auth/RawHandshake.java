package io.dmtree.cn.auth;

import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ErrorReply;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A client that speaks the authenticating handshake frame by frame, so a test can send what a
 * hostile client would: any proof, a recorded one, or no AUTH at all.
 */
final class RawHandshake implements AutoCloseable {
    final FrameChannel channel;
    final byte[] clientNonce;
    final byte[] serverNonce;
    private final FrameReader reader = new FrameReader();

    private RawHandshake(FrameChannel channel, byte[] clientNonce, byte[] serverNonce) {
        this.channel = channel;
        this.clientNonce = clientNonce;
        this.serverNonce = serverNonce;
    }

    /** Connects and says HELLO with {@code clientNonce}; reads the server's nonce (its proof is not checked). */
    static RawHandshake hello(InetSocketAddress at, int service, byte[] clientNonce) throws Exception {
        FrameChannel ch = FrameChannel.connect(at, 1 << 20, 5_000);
        ch.write(new FrameWriter().begin(FrameHeader.TYPE_HELLO, 0, 0).i32(HelloFrame.MAGIC).u8(service).u8(0).u16(0)
                .i32(HelloFrame.NO_COMPUTE_NODE).i32(0).i64(0).bytes(clientNonce).finish());
        ch.readWithTimeout(5_000);
        FrameReader r = new FrameReader().wrap(ch.frame(), 0, ch.frameLength());
        assertEquals(FrameHeader.TYPE_HELLO | FrameHeader.REPLY_BIT, r.type());
        assertEquals(HelloFrame.PROVING_REPLY_LENGTH, r.frameLength());
        r.skip(12, "magic, node id, max frame");
        assertEquals(HelloFrame.FLAG_PROOF, r.i32("flags"));
        return new RawHandshake(ch, clientNonce, r.bytes(ClusterSecret.NONCE_BYTES, "server nonce"));
    }

    /** Sends AUTH with {@code proof}; null when accepted, else the error reply. */
    ErrorReply auth(byte[] proof) throws Exception {
        return send(new FrameWriter().begin(FrameHeader.TYPE_AUTH, 0, 3).bytes(proof).finish());
    }

    /** Sends {@code frame}; null when it was answered as AUTH, else the error reply. */
    ErrorReply send(FrameWriter frame) throws Exception {
        channel.write(frame);
        channel.readWithTimeout(5_000);
        FrameReader r = reader.wrap(channel.frame(), 0, channel.frameLength());
        if (r.type() == FrameHeader.TYPE_ERROR) {
            return ErrorReply.of(r);
        }
        assertEquals(FrameHeader.TYPE_AUTH | FrameHeader.REPLY_BIT, r.type());
        return null;
    }

    /** Whether the peer closed the connection (after its error reply). */
    boolean closedByPeer() throws Exception {
        try {
            channel.readWithTimeout(5_000);
            return false;
        } catch (EOFException e) {
            return true;
        } catch (IOException e) {
            return !(e instanceof java.net.SocketTimeoutException);
        } finally {
            channel.close();
        }
    }

    @Override
    public void close() {
        channel.close();
    }
}
