package io.dmtree.cn.auth;

import io.dmtree.cn.carrier.tcp.TcpMessaging;
import io.dmtree.cn.control.AuthenticationFailedException;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.wire.AuthenticationException;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.ErrorCode;
import io.dmtree.core.wire.ErrorReply;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.HostPort;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clients that do not hold the cluster secret, as a hostile process would try them, against a
 * memory node and a compute node's messaging endpoint that hold one: no secret, a wrong secret (the
 * memory node's proof is then refused by the client, and a client that ignores that and sends its
 * own proof is refused by the memory node), a client proof replayed from another connection, many
 * foreign JOIN attempts (none takes a compute-node id: the real compute node still gets id 0), a
 * forged grant message to a compute node. A memory node without a secret ({@code --secret none})
 * is shown to be open: foreign JOINs take ids there.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HostileClientTest {
    private static final MemoryNodeConfig REGION = new MemoryNodeConfig(8L << 20, 256L << 10, 64L << 10);
    private static final int FOREIGN_ATTEMPTS = 100;

    @TempDir
    Path dir;

    private MemoryNodeServer start(ClusterSecret secret) {
        return MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0), REGION, "tcp", dir)
                .withMaxFrameBytes(1 << 20).withSecret(secret));
    }

    private static ClusterClient.Options options(MemoryNodeServer mn, ClusterSecret secret) {
        return ClusterClient.Options.of(List.of(mn.address())).withTimeoutMillis(5_000)
                .withMessaging(new InetSocketAddress("127.0.0.1", 0), null).withSecret(secret);
    }

    @Test
    void aJoinWithoutTheSecretOrWithAnotherIsRefusedClearly() {
        ClusterSecret secret = ClusterSecret.generate();
        try (MemoryNodeServer mn = start(secret)) {
            AuthenticationFailedException none = assertThrows(AuthenticationFailedException.class,
                    () -> ClusterClient.join(options(mn, null)));
            assertTrue(none.getMessage().contains("prove the cluster secret"), none.getMessage());
            assertTrue(none.getMessage().contains("--secret FILE"), none.getMessage());
            assertTrue(none.refusedWith(ErrorCode.AUTHENTICATION));

            AuthenticationFailedException wrong = assertThrows(AuthenticationFailedException.class,
                    () -> ClusterClient.join(options(mn, ClusterSecret.generate())));
            assertTrue(wrong.getMessage().contains("failed to prove the cluster secret"), wrong.getMessage());

            // mutual: a compute node that holds a secret refuses a memory node that proves none
            try (MemoryNodeServer open = startOpen()) {
                AuthenticationFailedException unproven = assertThrows(AuthenticationFailedException.class,
                        () -> ClusterClient.join(options(open, secret)));
                assertTrue(unproven.getMessage().contains("did not prove the cluster secret"), unproven.getMessage());
            }
            assertEquals(List.of(), mn.controlPlane().computeNodes());

            // the verbs service refuses the same way
            AuthenticationException verbs = assertThrows(AuthenticationException.class,
                    () -> FrameChannel.open(mn.address(), HelloFrame.SERVICE_VERBS, 1 << 20, 5_000).close());
            assertTrue(verbs.getMessage().contains("verbs"), verbs.getMessage());

            try (ClusterClient member = ClusterClient.join(options(mn, secret))) {
                assertEquals(0, member.computeNodeId());
                UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
                long chunk = member.chunkSource().allocateChunk(0);
                b.putLong(0, 42);
                member.verbs().write(chunk, b, 0, 8);
                b.putLong(0, 0);
                member.verbs().read(chunk, b, 0, 8);
                assertEquals(42, b.getLong(0));
            }
            // refused there: the JOIN without a secret and the verbs HELLO (the wrong secret was refused by the client)
            assertEquals(2, mn.frameServer().authenticationRefusals());
        }
    }

    private MemoryNodeServer startOpen() {
        return MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0), REGION, "tcp",
                dir.resolve("open")).withMaxFrameBytes(1 << 20));
    }

    @Test
    void aWrongProofAndAReplayedProofAreRefusedByTheMemoryNode() throws Exception {
        ClusterSecret secret = ClusterSecret.generate();
        try (MemoryNodeServer mn = start(secret)) {
            // a client with another secret that ignores the memory node's proof and sends its own
            RawHandshake wrong = RawHandshake.hello(mn.address(), HelloFrame.SERVICE_CONTROL, ClusterSecret.nonce());
            ErrorReply refused = wrong.auth(ClusterSecret.generate().clientProof(HelloFrame.SERVICE_CONTROL, wrong.serverNonce,
                    wrong.clientNonce, HelloFrame.NO_COMPUTE_NODE, 0));
            assertEquals(ErrorCode.AUTHENTICATION, refused.code(), refused.getMessage());
            assertTrue(wrong.closedByPeer(), "the connection stays open after a wrong proof");
            wrong.close();

            // a member's exchange, recorded by an eavesdropper ...
            RawHandshake recorded = RawHandshake.hello(mn.address(), HelloFrame.SERVICE_CONTROL, ClusterSecret.nonce());
            byte[] proof = secret.clientProof(HelloFrame.SERVICE_CONTROL, recorded.serverNonce, recorded.clientNonce,
                    HelloFrame.NO_COMPUTE_NODE, 0);
            assertEquals(null, recorded.auth(proof), "the member's own proof is accepted");
            recorded.close();
            // ... and replayed on a new connection, with the same client nonce: the server's nonce is new
            RawHandshake replay = RawHandshake.hello(mn.address(), HelloFrame.SERVICE_CONTROL, recorded.clientNonce);
            assertTrue(!java.util.Arrays.equals(recorded.serverNonce, replay.serverNonce), "the server nonce repeats");
            ErrorReply replayed = replay.auth(proof);
            assertEquals(ErrorCode.AUTHENTICATION, replayed.code(), replayed.getMessage());
            assertTrue(replay.closedByPeer());
            replay.close();

            // a proof made for another service or incarnation is no proof for this one
            RawHandshake other = RawHandshake.hello(mn.address(), HelloFrame.SERVICE_CONTROL, ClusterSecret.nonce());
            ErrorReply otherService = other.auth(secret.clientProof(HelloFrame.SERVICE_VERBS, other.serverNonce,
                    other.clientNonce, HelloFrame.NO_COMPUTE_NODE, 0));
            assertEquals(ErrorCode.AUTHENTICATION, otherService.code());
            other.close();

            // a frame other than AUTH after the proving HELLO reply
            RawHandshake skipper = RawHandshake.hello(mn.address(), HelloFrame.SERVICE_CONTROL, ClusterSecret.nonce());
            ErrorReply skipped = skipper.send(new FrameWriter().begin(FrameHeader.TYPE_JOIN, 0, 7)
                    .u16(ControlFrame.ANY_COMPUTE_NODE).u16(0).i32(0).finish());
            assertEquals(ErrorCode.AUTHENTICATION, skipped.code());
            skipper.close();
            assertEquals(List.of(), mn.controlPlane().computeNodes());
            assertEquals(0, mn.frameServer().internalErrors());
        }
    }

    @Test
    void foreignJoinsLeaveEveryComputeNodeIdFree() throws Exception {
        ClusterSecret secret = ClusterSecret.generate();
        try (MemoryNodeServer mn = start(secret)) {
            int refused = 0;
            for (int i = 0; i < FOREIGN_ATTEMPTS; i++) {
                switch (i % 3) {
                    case 0 -> { // no secret: HELLO refused
                        IOException e = assertThrows(IOException.class, () -> foreignJoin(mn.address()));
                        assertInstanceOf(AuthenticationException.class, e);
                    }
                    case 1 -> { // another secret, proving it anyway
                        try (RawHandshake h = RawHandshake.hello(mn.address(), HelloFrame.SERVICE_CONTROL, ClusterSecret.nonce())) {
                            assertEquals(ErrorCode.AUTHENTICATION, h.auth(ClusterSecret.generate().clientProof(
                                    HelloFrame.SERVICE_CONTROL, h.serverNonce, h.clientNonce, -1, 0)).code());
                        }
                    }
                    default -> { // a JOIN without any proof after the challenge
                        try (RawHandshake h = RawHandshake.hello(mn.address(), HelloFrame.SERVICE_CONTROL, ClusterSecret.nonce())) {
                            assertEquals(ErrorCode.AUTHENTICATION, h.send(new FrameWriter().begin(FrameHeader.TYPE_JOIN, 0, 1)
                                    .u16(ControlFrame.ANY_COMPUTE_NODE).u16(0).i32(0).finish()).code());
                        }
                    }
                }
                refused++;
            }
            assertEquals(FOREIGN_ATTEMPTS, refused);
            assertEquals(List.of(), mn.controlPlane().computeNodes());
            assertEquals(FOREIGN_ATTEMPTS, mn.frameServer().authenticationRefusals());
            try (ClusterClient member = ClusterClient.join(options(mn, secret))) {
                assertEquals(0, member.computeNodeId(), "a foreign JOIN took an id");
            }
        }
    }

    /** Without a secret the memory node admits anyone: the same JOINs take ids (why the secret exists). */
    @Test
    void anOpenMemoryNodeHandsIdsToForeignJoins() throws Exception {
        try (MemoryNodeServer mn = startOpen()) {
            List<FrameChannel> foreign = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    foreign.add(foreignJoin(mn.address()));
                }
                assertEquals(20, mn.controlPlane().computeNodes().size());
                assertEquals(19, (int) mn.controlPlane().computeNodes().get(19));
            } finally {
                foreign.forEach(FrameChannel::close);
            }
        }
    }

    /** HELLO without a secret, then JOIN for any id: what a process that is not a member would try. */
    private static FrameChannel foreignJoin(InetSocketAddress at) throws Exception {
        FrameChannel ch = FrameChannel.open(at, HelloFrame.SERVICE_CONTROL, 1 << 20, 5_000);
        ch.write(new FrameWriter().begin(FrameHeader.TYPE_JOIN, 0, 1).u16(ControlFrame.ANY_COMPUTE_NODE).u16(0).i32(0).finish());
        ch.readWithTimeout(5_000);
        FrameReader r = new FrameReader().wrap(ch.frame(), 0, ch.frameLength());
        assertEquals(FrameHeader.TYPE_JOIN | FrameHeader.REPLY_BIT, r.type());
        return ch;
    }

    @Test
    void aForgedGrantMessageNeverReachesTheComputeNode() throws Exception {
        ClusterSecret secret = ClusterSecret.generate();
        List<Integer> from = new CopyOnWriteArrayList<>();
        String[] endpoints = new String[2];
        io.dmtree.cn.messaging.PeerDirectory directory = (cn, wait) -> Optional.ofNullable(endpoints[cn]);
        try (TcpMessaging target = TcpMessaging.start(0, new InetSocketAddress("127.0.0.1", 0), null, directory, 5_000, secret);
             TcpMessaging member = TcpMessaging.start(1, new InetSocketAddress("127.0.0.1", 0), null, directory, 5_000, secret)) {
            endpoints[0] = target.endpoint();
            endpoints[1] = member.endpoint();
            target.onMessage((sender, buf, off, len) -> from.add(sender));
            InetSocketAddress at = HostPort.parse("endpoint", target.endpoint().substring(TcpMessaging.SCHEME.length()));

            // no secret: refused at HELLO, the grant frame never read
            assertThrows(AuthenticationException.class, () -> FrameChannel.open(at, HelloFrame.SERVICE_MESSAGING, 4096, 5_000));
            // another secret: this side refuses the endpoint's proof; proving anyway is refused there
            assertThrows(AuthenticationException.class, () -> FrameChannel.open(at, HelloFrame.SERVICE_MESSAGING, 4096, 5_000,
                    ClusterSecret.generate(), 1, 0));
            RawHandshake forger = RawHandshake.hello(at, HelloFrame.SERVICE_MESSAGING, ClusterSecret.nonce());
            ErrorReply r = forger.auth(ClusterSecret.generate().clientProof(HelloFrame.SERVICE_MESSAGING, forger.serverNonce,
                    forger.clientNonce, -1, 0));
            assertEquals(ErrorCode.AUTHENTICATION, r.code());
            forger.close();
            // a compute node of another cluster cannot send at all
            String[] foreignEndpoints = {target.endpoint(), null, null};
            try (TcpMessaging stranger = TcpMessaging.start(2, new InetSocketAddress("127.0.0.1", 0), null,
                    (cn, wait) -> Optional.ofNullable(foreignEndpoints[cn]), 5_000, ClusterSecret.generate())) {
                UnsafeBuffer grant = new UnsafeBuffer(new byte[16]);
                assertThrows(RemoteAccessException.class, () -> stranger.send(0, grant, 0, 16));
            }
            // a member's message arrives
            member.send(0, new UnsafeBuffer(new byte[16]), 0, 16);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (from.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Thread.sleep(100); // anything forged would have arrived by now as well
            assertEquals(List.of(1), from);
        }
    }

    /**
     * With membership, compute-node ids are ZooKeeper slots: a process without the secret can
     * neither read membership nor take a slot there, so ids still go only to members.
     */
    @Test
    void withMembershipAForeignProcessCannotTakeASlotInZooKeeper() throws Exception {
        ClusterSecret secret = ClusterSecret.generate();
        MemoryNodeOptions o = MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0), REGION, "tcp", dir)
                .withMaxFrameBytes(1 << 20).withSecret(secret)
                .withCoordination(io.dmtree.mn.control.Coordination.embedded(new InetSocketAddress("127.0.0.1", 0),
                        java.time.Duration.ofSeconds(2)));
        try (MemoryNodeServer mn = MemoryNodeServer.start(o)) {
            String zk = mn.membership().connectString();
            io.dmtree.mn.membership.ZooKeeperMembershipOptions foreign = io.dmtree.mn.membership.ZooKeeperMembershipOptions
                    .of(zk).withMembership(io.dmtree.core.membership.MembershipOptions.DEFAULTS
                            .withOperationTimeout(java.time.Duration.ofSeconds(3)));
            for (io.dmtree.mn.membership.ZooKeeperMembershipOptions attempt : List.of(foreign,
                    foreign.withSecret(ClusterSecret.generate()))) {
                Exception e = assertThrows(Exception.class, () -> {
                    try (io.dmtree.mn.membership.ZooKeeperMembership m = io.dmtree.mn.membership.ZooKeeperMembership
                            .connect(attempt)) {
                        m.join(io.dmtree.core.membership.MemberKind.COMPUTE_NODE, 0, "foreign",
                                java.time.Duration.ofSeconds(3)).close();
                    }
                });
                assertTrue(String.valueOf(e.getMessage()).toLowerCase().contains("auth")
                        || String.valueOf(e.getCause()).toLowerCase().contains("auth"), e.toString());
            }
            try (ClusterClient member = ClusterClient.join(options(mn, secret))) {
                assertEquals(0, member.computeNodeId());
                assertTrue(member.epoch() > 0);
            }
        }
    }
}
