package io.dmtree.mn.carrier.tcp;

import io.dmtree.core.wire.ErrorCode;

import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.MalformedFrameException;
import io.dmtree.core.wire.VerbFrame;
import io.dmtree.core.memory.AccessRight;
import io.dmtree.mn.OffHeapRegion;
import io.dmtree.mn.carrier.ChunkTableRights;
import io.dmtree.mn.carrier.MemberRights;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The software RNIC of a tcp memory node: applies one verb request frame ({@link VerbFrame}) to
 * the region and builds the reply. Two passes: the first checks every request (kind, length,
 * bounds against the region, alignment of atomics, that the frame holds every operand and
 * nothing more, that the reply fits the frame limit, and, when it has them, the sender's
 * {@link MemberRights}, and on the chunk table its per-owner rules, {@link ChunkTableRights})
 * without changing the region; only a frame
 * that passes all checks is applied, in order, in the second. So a refused frame writes nothing and
 * no request reaches memory outside the region. Not thread-safe: one per connection.
 */
public final class VerbExecutor {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final OffHeapRegion region;
    private final int maxFrameBytes;
    /** Null: every access inside the region is allowed (a region served without rights). */
    private final MemberRights rights;
    /** Null: the chunk table is checked by range rights only. */
    private final ChunkTableRights table;
    /** Where the chunk table starts (no check below it); beyond the region when there are no table rules. */
    private final long tableStart;
    private final int memoryNode;

    public VerbExecutor(OffHeapRegion region, int maxFrameBytes) {
        this(region, maxFrameBytes, null, 0);
    }

    /**
     * An executor that also checks each request against the sender's {@code rights} in its first
     * pass (null: none), so a frame with one request outside them is refused whole
     * ({@link ErrorCode#ACCESS_DENIED}); {@code memoryNode} names this memory node in refusals.
     */
    public VerbExecutor(OffHeapRegion region, int maxFrameBytes, MemberRights rights, int memoryNode) {
        this(region, maxFrameBytes, rights, null, memoryNode);
    }

    /**
     * ... that also checks every WRITE, CAS and FAA on the chunk table against the sender's
     * per-owner rules {@code table} (null: none), refusing the frame whole as for a right.
     */
    public VerbExecutor(OffHeapRegion region, int maxFrameBytes, MemberRights rights, ChunkTableRights table,
                        int memoryNode) {
        this.region = region;
        this.maxFrameBytes = maxFrameBytes;
        this.rights = rights;
        this.table = table;
        this.tableStart = table == null ? Long.MAX_VALUE : table.tableStart();
        this.memoryNode = memoryNode;
    }

    /**
     * Executes the verb frame held by {@code request} and writes the finished reply into
     * {@code reply}; a refused frame throws (the caller sends the error reply).
     */
    public void execute(FrameReader request, FrameWriter reply) throws MalformedFrameException {
        int count = request.count();
        if (count == 0) {
            throw new MalformedFrameException(ErrorCode.MALFORMED, "verb frame with no request");
        }
        long replyBytes = FrameHeader.LENGTH;
        int bodyStart = request.position();
        for (int i = 0; i < count; i++) {
            int kind = request.u8("kind of request " + i);
            request.skip(3, "padding of request " + i);
            int length = request.i32("length of request " + i);
            long offset = request.i64("offset of request " + i);
            switch (kind) {
                case VerbFrame.KIND_READ, VerbFrame.KIND_WRITE -> {
                    if (length < 0 || length > maxFrameBytes) {
                        throw new MalformedFrameException(ErrorCode.TOO_LARGE, "request " + i + ": length " + length
                                + " outside [0, " + maxFrameBytes + "]");
                    }
                    checkRange(i, offset, length);
                    checkRight(i, kind == VerbFrame.KIND_READ ? AccessRight.READ : AccessRight.WRITE, offset, length);
                    if (kind == VerbFrame.KIND_WRITE) {
                        int data = request.position();
                        request.skip(VerbFrame.padded(length), "data of write request " + i);
                        if (offset + length > tableStart) {
                            checkTable(i, AccessRight.WRITE, offset, length,
                                    table.deniedWrite(offset, length, request.buffer(), data));
                        }
                    }
                }
                case VerbFrame.KIND_CAS, VerbFrame.KIND_FAA -> {
                    if (length != Long.BYTES) {
                        throw new MalformedFrameException(ErrorCode.MALFORMED, "request " + i
                                + ": an atomic has length 8, not " + length);
                    }
                    checkRange(i, offset, Long.BYTES);
                    if ((offset & 7) != 0) {
                        throw new MalformedFrameException(ErrorCode.MISALIGNED, "request " + i
                                + ": atomic at unaligned offset " + offset);
                    }
                    checkRight(i, AccessRight.ATOMIC, offset, Long.BYTES);
                    int operands = request.position();
                    request.skip(kind == VerbFrame.KIND_CAS ? 16 : 8, "operands of atomic request " + i);
                    if (offset >= tableStart) {
                        DirectBuffer in = request.buffer();
                        checkTable(i, AccessRight.ATOMIC, offset, Long.BYTES, kind == VerbFrame.KIND_FAA
                                ? table.deniedFaa(offset, in.getLong(operands, LE))
                                : table.deniedCas(offset, in.getLong(operands, LE), in.getLong(operands + 8, LE)));
                    }
                }
                default -> throw new MalformedFrameException(ErrorCode.MALFORMED, "request " + i
                        + ": unknown verb kind " + kind);
            }
            replyBytes += VerbFrame.replyBytes(kind, length);
            if (replyBytes > maxFrameBytes) {
                throw new MalformedFrameException(ErrorCode.TOO_LARGE, "the reply to this frame would exceed "
                        + maxFrameBytes + " bytes; split the batch");
            }
        }
        request.end();

        DirectBuffer in = request.buffer();
        reply.begin(FrameHeader.TYPE_VERB_REQUEST | FrameHeader.REPLY_BIT, count, request.correlationId());
        int p = bodyStart;
        for (int i = 0; i < count; i++) {
            int kind = in.getByte(p + VerbFrame.KIND_OFFSET) & 0xFF;
            int length = in.getInt(p + VerbFrame.LENGTH_OFFSET, LE);
            long offset = in.getLong(p + VerbFrame.REGION_OFFSET_OFFSET, LE);
            int operands = p + VerbFrame.REQUEST_HEADER_LENGTH;
            switch (kind) {
                case VerbFrame.KIND_READ -> {
                    int padded = VerbFrame.padded(length);
                    int at = reply.reserve(padded);
                    MutableDirectBuffer out = reply.buffer();
                    region.copyOut(offset, out.byteArray(), out.addressOffset() + at, length);
                    for (int z = length; z < padded; z++) {
                        out.putByte(at + z, (byte) 0);
                    }
                }
                case VerbFrame.KIND_WRITE -> region.copyIn(offset, in.byteArray(), in.addressOffset() + operands, length);
                case VerbFrame.KIND_CAS -> reply.i64(region.compareAndSwap(offset,
                        in.getLong(operands, LE),
                        in.getLong(operands + 8, LE)));
                case VerbFrame.KIND_FAA -> reply.i64(region.fetchAndAdd(offset,
                        in.getLong(operands, LE)));
                default -> throw new IllegalStateException("checked kind changed: " + kind);
            }
            p += VerbFrame.requestBytes(kind, length);
        }
        reply.finish();
    }

    private void checkRight(int i, AccessRight right, long offset, long length) throws MalformedFrameException {
        MemberRights r = rights;
        if (r == null) {
            return;
        }
        int range = r.denied(right, offset, length, region);
        if (range >= 0) {
            throw new MalformedFrameException(ErrorCode.ACCESS_DENIED, "request " + i + ": "
                    + r.refusal(range, right, offset, length, memoryNode));
        }
    }

    private void checkTable(int i, AccessRight right, long offset, long length, int refusal)
            throws MalformedFrameException {
        if (refusal >= 0) {
            throw new MalformedFrameException(ErrorCode.ACCESS_DENIED, "request " + i + ": "
                    + table.refusal(refusal, right, offset, length, memoryNode));
        }
    }

    private void checkRange(int i, long offset, long length) throws MalformedFrameException {
        long size = region.size();
        if (offset < 0 || offset > size - length) {
            throw new MalformedFrameException(ErrorCode.OUT_OF_RANGE, "request " + i + ": access [" + offset
                    + ", " + offset + "+" + length + ") outside the region of " + size + " bytes");
        }
    }
}
