package io.dmtree.mn.carrier.tcp;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameServer;
import io.dmtree.core.wire.FrameService;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.core.wire.SessionContext;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.ChunkTableRights;
import io.dmtree.mn.carrier.FencedEpochs;
import io.dmtree.mn.carrier.MemberRights;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The tcp verb service of a memory node: each connection gets its own {@link VerbExecutor}. Its
 * sessions never block (a verb frame is checked and applied to the region in one pass of plain
 * memory operations), so the front door runs them on the event loop that read the frame.
 *
 * <p>A verb connection that said HELLO stays open when idle: a compute node keeps connections per
 * memory node for its threads' lanes, and a lane may stay unused for hours (an idle {@code dmtree cn --serve}); the
 * client treats a closed connection as a lost memory node. A peer that vanished without closing is
 * found by TCP keepalive; silent connections are bounded by the connection cap and hold only the
 * small post-HELLO buffer.
 *
 * <h2>Fencing</h2>
 * A connection's HELLO names the compute node and epoch of the incarnation that opened it
 * ({@link HelloFrame}); the session is bound to them for its life. Invariants:
 * <ul>
 *   <li>Every verb frame of a session is checked against {@link FencedEpochs} on the event loop,
 *   immediately before it is applied, in the same uninterrupted run of that loop; a fenced one is
 *   refused with {@link ErrorCode#FENCED} and applies nothing (the connection goes on, refusing).</li>
 *   <li>{@link #fence} raises the slot's bound, then waits until every event loop passed a frame
 *   boundary ({@link FrameServer#awaitLoops}). A frame checked before the raise finished before its
 *   loop ran that boundary; a frame checked after it reads the raised bound (the raise
 *   happens-before the loop's boundary task, which happens-before its later frames). So once
 *   {@code fence} returns, no verb of a fenced incarnation can take effect any more.</li>
 *   <li>A HELLO of an incarnation already fenced is refused with {@link ErrorCode#FENCED} and its
 *   connection closed; one that slips in during a raise is refused frame by frame as above.</li>
 * </ul>
 * The check is one volatile read of a preallocated array per frame; nothing is allocated on the
 * verb path. Connections of a cluster without membership (epoch 0) are never fenced.
 *
 * <h2>Rights</h2>
 * With rights enforced, each session holds its compute node's {@link MemberRights}, made when the
 * session opens (after HELLO, and so after the peer proved the cluster secret); its executor
 * checks every request of a frame against them before the first takes effect. A request outside
 * them refuses the frame with {@link ErrorCode#ACCESS_DENIED} (naming the address, the right and
 * what is held there); the connection goes on, and so does every other. The rights end with the
 * incarnation's lease: once fenced, nothing of it is served. On the chunk table, WRITE, CAS and FAA
 * keep per-owner rules besides ({@link ChunkTableRights}: a member claims, records, frees and
 * adopts only its own chunks and blocks, or a fenced member's when it reclaims them), refused the
 * same way.
 */
public final class VerbService implements FrameService {
    /** How long {@link #fence} waits for the event loops before it reports them stuck. */
    private static final long FENCE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private final OffHeapRegion region;
    private final int maxFrameBytes;
    private final FencedEpochs fenced = new FencedEpochs();
    private final boolean enforceRights;
    private final boolean enforceChunkOwners;
    private final int memoryNode;
    private volatile FrameServer server;

    /** A verb service that checks bounds but no rights (a region without a dmtree header, tests). */
    public VerbService(OffHeapRegion region, int maxFrameBytes) {
        this(region, maxFrameBytes, 0, false);
    }

    /**
     * A verb service of memory node {@code memoryNode}; with {@code enforceRights}, every verb is
     * checked against its sender's {@link MemberRights} as well.
     */
    public VerbService(OffHeapRegion region, int maxFrameBytes, int memoryNode, boolean enforceRights) {
        this(region, maxFrameBytes, memoryNode, enforceRights, enforceRights);
    }

    /**
     * ... and with {@code enforceChunkOwners} (only with rights), every WRITE, CAS and FAA on the
     * chunk table against its sender's per-owner rules ({@link ChunkTableRights}) too.
     */
    public VerbService(OffHeapRegion region, int maxFrameBytes, int memoryNode, boolean enforceRights,
                       boolean enforceChunkOwners) {
        if (enforceChunkOwners && !enforceRights) {
            throw new IllegalArgumentException("the chunk table's per-owner rules need the members' rights on");
        }
        this.region = region;
        this.maxFrameBytes = maxFrameBytes;
        this.memoryNode = memoryNode;
        this.enforceRights = enforceRights;
        this.enforceChunkOwners = enforceChunkOwners;
    }

    /** Whether WRITE, CAS and FAA on the chunk table are checked against per-owner rules. */
    public boolean enforcesChunkOwners() {
        return enforceChunkOwners;
    }

    /** Whether verbs are checked against their sender's rights. */
    public boolean enforcesRights() {
        return enforceRights;
    }

    @Override
    public int serviceId() {
        return HelloFrame.SERVICE_VERBS;
    }

    @Override
    public boolean sessionsMayBlock() {
        return false;
    }

    @Override
    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    @Override
    public void servedBy(FrameServer s) {
        server = s;
    }

    @Override
    public void admit(SessionContext context) throws MalformedFrameException {
        int cn = context.computeNode();
        if (cn >= FencedEpochs.SLOTS) {
            throw new MalformedFrameException(ErrorCode.MALFORMED, "compute node " + cn + " outside [0, "
                    + FencedEpochs.SLOTS + ")", true);
        }
        if (fenced.isFenced(cn, context.epoch())) {
            throw new MalformedFrameException(ErrorCode.FENCED, refusal(cn, context.epoch()), true);
        }
    }

    private String refusal(int cn, long epoch) {
        return "compute node " + cn + " epoch " + epoch + " is fenced on this memory node (epochs up to "
                + fenced.upTo(cn) + ")";
    }

    /**
     * Fences {@code computeNode}'s incarnations up to {@code epochUpTo}; returns once no verb frame
     * of theirs can be applied any more (see the class comment).
     */
    public void fence(int computeNode, long epochUpTo) throws IOException, InterruptedException {
        fenced.fence(computeNode, epochUpTo);
        FrameServer s = server;
        if (s == null) {
            return; // not served yet: no frame has run or can run before the server exists
        }
        try {
            s.awaitLoops(FENCE_TIMEOUT_NANOS);
        } catch (TimeoutException e) {
            throw new IOException("cannot fence compute node " + computeNode + ": " + e.getMessage(), e);
        }
    }

    /** What this service fenced. */
    public FencedEpochs fenced() {
        return fenced;
    }

    @Override
    public Session open(SessionContext context) {
        int cn = context.computeNode();
        long epoch = context.epoch();
        VerbExecutor executor = new VerbExecutor(region, maxFrameBytes, enforceRights ? MemberRights.of(region, cn) : null,
                enforceChunkOwners ? ChunkTableRights.of(region, cn, epoch, fenced) : null, memoryNode);
        return new Session() {
            @Override
            public void handle(FrameReader request, FrameWriter reply) throws MalformedFrameException {
                if (request.type() != FrameHeader.TYPE_VERB_REQUEST) {
                    throw new MalformedFrameException(ErrorCode.UNKNOWN_TYPE, "the verbs service takes VERBS frames, not "
                            + FrameHeader.typeName(request.type()));
                }
                if (fenced.isFenced(cn, epoch)) {
                    throw new MalformedFrameException(ErrorCode.FENCED, refusal(cn, epoch));
                }
                executor.execute(request, reply);
            }

            @Override
            public boolean staysOpenWhenIdle() {
                return true;
            }
        };
    }
}
