package io.dmtree.mn.control;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.core.wire.ConnectionLimits;
import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.ErrorReply;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameServerStats;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.mn.MemoryNodeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Control-plane waits over the wire hold no thread of the memory node and outlive the idle timer:
 * a barrier of many compute nodes releases with a single blocking worker; a parked WATCH and a
 * joined (silent) control connection survive many idle timeouts while an unjoined silent one is
 * closed; a WATCH learns of the shutdown; a lookup that waits is answered by the registration, and
 * one whose connection closes is forgotten.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlWaitsTest {
    private static final int IDLE_MILLIS = 300;

    @TempDir
    Path dir;

    private MemoryNodeServer start(ConnectionLimits limits) {
        return MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0),
                new MemoryNodeConfig(8L << 20, 64L << 10, 64L << 10), "tcp", dir).withMaxFrameBytes(1 << 20).withLimits(limits));
    }

    @Test
    void aBarrierOfManyComputeNodesReleasesWithOneBlockingWorker() throws Exception {
        int parties = 40;
        try (MemoryNodeServer mn = start(ConnectionLimits.MEMORY_NODE.toBuilder().blockingWorkers(1).build())) {
            List<FrameChannel> cns = new ArrayList<>();
            Set<Integer> ids = new HashSet<>();
            for (int i = 0; i < parties; i++) {
                FrameChannel ch = open(mn);
                cns.add(ch);
                ids.add(join(ch));
            }
            FrameWriter w = new FrameWriter();
            for (int i = 0; i < parties; i++) {
                byte[] payload = {(byte) i};
                cns.get(i).write(w.begin(FrameHeader.TYPE_BARRIER, 0, 100 + i).string("all", 64).u16(parties).i32(30_000)
                        .i32(payload.length).bytes(payload).u16(0).finish());
            }
            for (int i = 0; i < parties; i++) {
                FrameChannel ch = cns.get(i);
                ch.readWithTimeout(20_000);
                FrameReader r = new FrameReader().wrap(ch.frame(), 0, ch.frameLength());
                assertEquals(FrameHeader.TYPE_BARRIER | FrameHeader.REPLY_BIT, r.type(), describe(r));
                assertEquals(100 + i, r.correlationId());
                assertEquals(parties, r.u16("arrivals"));
            }
            FrameServerStats s = mn.frameServer().stats();
            assertTrue(s.peakWorkerThreads() <= 1, s.toString());
            assertEquals(0, mn.controlPlane().waiting());
            assertEquals(parties, ids.size());
            cns.forEach(FrameChannel::close);
            assertEquals(0, s.internalErrors());
        }
    }

    @Test
    void watchesAndJoinedConnectionsOutliveTheIdleTimerAndWatchersHearTheShutdown() throws Exception {
        MemoryNodeServer mn = start(ConnectionLimits.MEMORY_NODE.toBuilder().idleTimeoutMillis(IDLE_MILLIS).build());
        FrameChannel watch = open(mn);
        FrameChannel member = open(mn);
        FrameChannel stranger = open(mn);
        FrameChannel lookup = open(mn);
        try {
            FrameWriter w = new FrameWriter();
            watch.write(w.begin(FrameHeader.TYPE_WATCH, 0, 7).finish());
            int cn = join(member);
            // a lookup that waits, answered by a registration; one that waits on a connection that closes
            lookup.write(w.begin(FrameHeader.TYPE_LOOKUP_ENDPOINT, 0, 8).u16(cn).u16(0).i32(30_000).finish());
            FrameChannel dropped = open(mn);
            dropped.write(w.begin(FrameHeader.TYPE_LOOKUP_ENDPOINT, 0, 9).u16(77).u16(0).i32(30_000).finish());
            assertTrue(eventually(() -> mn.controlPlane().waiting() == 3), "watch and two lookups wait: "
                    + mn.controlPlane().waiting());
            dropped.close();
            assertTrue(eventually(() -> mn.controlPlane().waiting() == 2), "the closed connection's lookup is forgotten");
            member.write(w.begin(FrameHeader.TYPE_REGISTER_ENDPOINT, 0, 10).string("tcp:127.0.0.1:1", ControlFrame.MAX_ENDPOINT_BYTES)
                    .finish());
            member.readWithTimeout(10_000);
            assertEquals(FrameHeader.TYPE_REGISTER_ENDPOINT | FrameHeader.REPLY_BIT, type(member));
            lookup.readWithTimeout(10_000);
            FrameReader r = new FrameReader().wrap(lookup.frame(), 0, lookup.frameLength());
            assertEquals(FrameHeader.TYPE_LOOKUP_ENDPOINT | FrameHeader.REPLY_BIT, r.type(), describe(r));
            assertEquals(1, r.u8("found"));
            assertEquals("tcp:127.0.0.1:1", r.string(ControlFrame.MAX_ENDPOINT_BYTES, "endpoint"));

            assertTrue(closedByServer(stranger), "a silent connection that never joined is closed");
            Thread.sleep(5L * IDLE_MILLIS); // five idle timeouts: the watch and the joined connection must outlive them
            long idleClosed = mn.frameServer().stats().idleTimeouts();
            assertTrue(idleClosed >= 1 && idleClosed <= 2, "only the stranger (and the answered lookup) were idle: "
                    + mn.frameServer().stats());
            assertTrue(mn.controlPlane().computeNodes().contains(cn), "the joined compute node is still a member");
            member.write(w.begin(FrameHeader.TYPE_ALLOCATE_CHUNK, 0, 11).finish());
            member.readWithTimeout(10_000);
            assertEquals(FrameHeader.TYPE_ALLOCATE_CHUNK | FrameHeader.REPLY_BIT, type(member));
            assertEquals(1, mn.controlPlane().waiting(), "the watch still waits");
        } finally {
            mn.close();
        }
        watch.readWithTimeout(10_000);
        FrameReader r = new FrameReader().wrap(watch.frame(), 0, watch.frameLength());
        assertEquals(FrameHeader.TYPE_ERROR, r.type());
        assertEquals(7, r.correlationId());
        assertEquals(ErrorCode.SHUTTING_DOWN, ErrorReply.of(r).code());
        assertEquals(0, mn.frameServer().internalErrors());
        for (FrameChannel ch : List.of(watch, member, stranger, lookup)) {
            ch.close();
        }
    }

    private static FrameChannel open(MemoryNodeServer mn) throws IOException {
        return FrameChannel.open(mn.address(), HelloFrame.SERVICE_CONTROL, 1 << 20, 10_000);
    }

    private static int join(FrameChannel ch) throws IOException, MalformedFrameException {
        FrameWriter w = new FrameWriter();
        ch.write(w.begin(FrameHeader.TYPE_JOIN, 0, 1).u16(ControlFrame.ANY_COMPUTE_NODE).u16(0).i32(0).finish());
        ch.readWithTimeout(10_000);
        FrameReader r = new FrameReader().wrap(ch.frame(), 0, ch.frameLength());
        assertEquals(FrameHeader.TYPE_JOIN | FrameHeader.REPLY_BIT, r.type(), describe(r));
        return r.u16("compute node id");
    }

    private static int type(FrameChannel ch) {
        return ch.frame().getByte(FrameHeader.TYPE_OFFSET) & 0xFF;
    }

    private static String describe(FrameReader r) {
        return r.type() == FrameHeader.TYPE_ERROR ? ErrorReply.of(r).getMessage() : FrameHeader.typeName(r.type());
    }

    private static boolean closedByServer(FrameChannel ch) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try {
                ch.readWithTimeout(10_000);
            } catch (EOFException e) {
                return true;
            } catch (IOException e) {
                return !(e instanceof java.net.SocketTimeoutException);
            } catch (MalformedFrameException e) {
                return false;
            }
        }
        return false;
    }

    private static boolean eventually(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(10);
        }
        return condition.getAsBoolean();
    }
}
