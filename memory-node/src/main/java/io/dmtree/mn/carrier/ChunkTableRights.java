package io.dmtree.mn.carrier;

import io.dmtree.core.layout.ChunkTableLayout;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.AccessRight;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.mn.OffHeapRegion;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * The per-owner rules one member's verbs must keep on the chunk table ({@link ChunkTableLayout}) of
 * a memory node's region, checked by the memory node on every WRITE, CAS and FAA that touches the
 * table, after the member's range rights ({@link MemberRights}) allowed the access. Reads of the
 * table stay open. The member is compute node {@code m} at epoch {@code E} (its session's HELLO);
 * a tag {@code (X, e)} in a word is <em>takeable</em> by it when it is its own ({@code X = m},
 * {@code e <= E}) or fenced on this memory node ({@link FencedEpochs}: a lapsed or revoked
 * incarnation, whose memory a live member reclaims).
 *
 * <pre>
 *   word                 verb   allowed transition (x: expected, y: desired; o: the chunk's owner word now)
 *   owner word of c      CAS    free(0) or adopted(any) -> owned(m, E)   claim a chunk (an adopted one to return it)
 *                        CAS    owned(X, e) -> free(0) or adopted(X, e), (X, e) takeable
 *                                                                 free or adopt it (reclamation, clean leave)
 *                        WRITE, FAA                                               never (FAA of 0: a read)
 *   block word of c      WRITE  every word written reserve(0) -> node(m, E), meta(m, E), value(m, E) or
 *                               value tail(m, E), or spare(m, E) -> value(m, E) or value tail(m, E), or
 *                               meta(m, E) -> reserve(0), and o = owned(m, E)
 *                                                  the owner's bump allocation, a value run from its spares,
 *                                                  the reserve again in a chunk it returns whole
 *                        CAS    free(any) -> node(m, E)                           claim from the pool
 *                        CAS    node(any) -> free(*)                              free a removed node (*)
 *                        CAS    meta(X, e) -> free(*), (X, e) takeable            free a redo block
 *                        CAS    free(any) -> meta(m, E), o = adopted(any)          take a block of an adopted chunk
 *                        CAS    value(any) or value tail(any) -> free(*)           free a value run (as a node)
 *                        CAS    value(m, E) or value tail(m, E) -> spare(m, E)     keep its own run for later values
 *                        CAS    spare(X, e) -> free(*), (X, e) takeable            give a kept run to the pool
 *                        CAS    free(any) -> reserve(0), o = owned(X, e) takeable   free a chunk whole
 *                        CAS    reserve(0) -> free(*), o = owned(X, e) takeable     adopt a chunk
 *                        FAA                                                      never (but of 0: a read)
 *   padding, tail        WRITE, CAS, FAA                                          never
 * </pre>
 *
 * (*) A tree node's block is returned to the pool by whoever removed the node (a merge or a root
 * shrink, by any member), or by the reclaimer of a lapsed remover, so the word of anyone's node may
 * go to free. Checking the node's removal mark here would protect nothing: tree nodes are written
 * by every member (one-sided B-link writes), so a member that means harm could set the mark first.
 * A free word's member and epoch fields name who freed the block or whose memory it was
 * ({@code free(*)}); they grant nothing, so any value is taken. What the rules protect is the
 * allocation metadata itself: no member claims, frees, adopts or
 * records blocks in a live member's chunk, and no member takes a live member's redo block. A
 * replicated region's mirror is changed by the same CASes as its primary, so it keeps the same
 * rules; a repair CAS that brings a diverged mirror word to the primary's value in one step is
 * refused unless it is one of these transitions.
 *
 * <h2>Invariants</h2>
 * <ul>
 *   <li>Every rule is decided from the verb's own operands and from words only their owner (or,
 *   once it is fenced, its reclaimer) changes: an owner word naming {@code (m, E)} changes only by
 *   {@code m} or after {@code m} was fenced, when {@code m}'s verbs are refused before this check
 *   ({@code VerbService}); fences only grow. A CAS whose expected value is not the word's value
 *   changes nothing, so a rule on {@code (x, y)} holds whatever the word is when the CAS runs.</li>
 *   <li>A frame is checked whole before its first request is applied ({@code VerbExecutor}), so a
 *   refused request leaves the table as it was.</li>
 * </ul>
 * A check allocates nothing and reads at most one owner word and the block words written; verbs
 * below the table's offset cost one comparison. Only a refusal builds its message
 * ({@link #refusal}). One instance per session (it remembers the last refusal for its message);
 * not thread-safe.
 */
public final class ChunkTableRights {
    private static final ByteOrder DATA_ORDER = ByteOrder.nativeOrder();

    private static final int OK = -1;
    private static final int OWNER_NOT_CAS = 0;
    private static final int OWNER_TRANSITION = 1;
    private static final int BLOCK_WRITE_NOT_OWNER = 2;
    private static final int BLOCK_WRITE_NOT_RESERVE = 3;
    private static final int BLOCK_WRITE_VALUE = 4;
    private static final int BLOCK_TRANSITION = 5;
    private static final int BLOCK_NOT_TAKEABLE = 6;
    private static final int BLOCK_FAA = 7;
    private static final int NOBODYS = 8;
    private static final int UNALIGNED = 9;
    private static final int CROSSES = 10;

    private final OffHeapRegion region;
    private final ChunkTableLayout table;
    private final FencedEpochs fenced;
    private final int member;
    private final long epoch;
    private final long tableStart;
    private final long blockStart;
    private final long blockEnd;
    private final long perChunk;
    private final long ownedWord;
    private final long nodeWord;
    private final long metaWord;
    private final long valueWord;
    private final long valueTailWord;
    private final long spareWord;
    /** The word the last refusal was about, and what it held. */
    private long refusedAt;
    private long refusedWord;

    private ChunkTableRights(OffHeapRegion region, ChunkTableLayout table, FencedEpochs fenced, int member, long epoch) {
        this.region = region;
        this.table = table;
        this.fenced = fenced;
        this.member = member;
        this.epoch = epoch & ChunkTableLayout.EPOCH_MASK;
        this.tableStart = table.tableOffset();
        this.blockStart = table.blockWords(0);
        this.perChunk = ChunkTableLayout.blockWordBytesPerChunk(table.chunkBytes());
        this.blockEnd = blockStart + table.chunkCount() * perChunk;
        this.ownedWord = ChunkTableLayout.word(ChunkTableLayout.CHUNK_OWNED, member, epoch);
        this.nodeWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_NODE, member, epoch);
        this.metaWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_META, member, epoch);
        this.valueWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_VALUE, member, epoch);
        this.valueTailWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_VALUE_TAIL, member, epoch);
        this.spareWord = ChunkTableLayout.word(ChunkTableLayout.BLOCK_VALUE_SPARE, member, epoch);
    }

    /**
     * The rules for compute node {@code member} at {@code epoch} on {@code region} (formatted), or
     * null when they do not apply: a member without an id, a cluster without membership (epoch 0:
     * nobody is ever fenced, so nobody's memory could be told reclaimable), or a region without a
     * chunk table (format 1).
     */
    public static ChunkTableRights of(OffHeapRegion region, int member, long epoch, FencedEpochs fenced) {
        if (member < 0 || member > ChunkTableLayout.MEMBER_MASK || epoch <= 0) {
            return null;
        }
        int format = (int) (region.getLongVolatile(RegionLayout.NODE_ID_AND_FORMAT_OFFSET) >>> 32);
        if (region.getLongVolatile(RegionLayout.MAGIC_OFFSET) != RegionLayout.MAGIC || format < 2) {
            return null;
        }
        long chunkBytes = region.getLongVolatile(RegionLayout.CHUNK_BYTES_OFFSET);
        long area = region.getLongVolatile(RegionLayout.CHUNK_AREA_OFFSET_OFFSET);
        long tableAt = region.getLongVolatile(RegionLayout.CHUNK_TABLE_OFFSET_OFFSET);
        if (chunkBytes <= 0 || tableAt < area || (tableAt - area) % chunkBytes != 0 || tableAt > region.size()) {
            throw new IllegalStateException("the region's chunk table geometry is not dmtree's (chunks of " + chunkBytes
                    + " bytes from " + area + ", table at " + tableAt + ")");
        }
        return new ChunkTableRights(region, new ChunkTableLayout(area, chunkBytes, (tableAt - area) / chunkBytes), fenced,
                member, epoch);
    }

    /** Region offset where the table starts: verbs wholly below it need no check. */
    public long tableStart() {
        return tableStart;
    }

    /**
     * Whether the WRITE of {@code length} bytes at {@code offset}, whose data is at {@code dataAt}
     * of {@code data}, keeps the rules: -1 when it does, else a refusal code for {@link #refusal}.
     */
    public int deniedWrite(long offset, int length, DirectBuffer data, int dataAt) {
        if (length == 0 || offset + length <= tableStart) {
            return OK;
        }
        if (offset < tableStart) {
            return refuse(CROSSES, tableStart);
        }
        if ((offset & 7) != 0 || (length & 7) != 0) {
            return refuse(UNALIGNED, offset);
        }
        if (offset < blockStart) {
            return refuse(offset < table.ownerWord(table.chunkCount()) ? OWNER_NOT_CAS : NOBODYS, offset);
        }
        if (offset + length > blockEnd) {
            return refuse(NOBODYS, Math.max(offset, blockEnd));
        }
        long chunk = -1;
        for (int k = 0; k < length; k += Long.BYTES) {
            long at = offset + k;
            long c = (at - blockStart) / perChunk;
            if (c != chunk) {
                chunk = c;
                long owner = region.getLongVolatile(table.ownerWord(c));
                if (owner != ownedWord) {
                    refusedWord = owner;
                    refusedAt = table.ownerWord(c);
                    return BLOCK_WRITE_NOT_OWNER;
                }
            }
            long now = region.getLongVolatile(at);
            long value = data.getLong(dataAt + k, DATA_ORDER);
            boolean fromReserve = now == ChunkTableLayout.BLOCK_RESERVE;
            boolean valueRun = value == valueWord || value == valueTailWord;
            if (!fromReserve && !(now == spareWord && valueRun) && !(now == metaWord && value == ChunkTableLayout.BLOCK_RESERVE)) {
                return refuse(BLOCK_WRITE_NOT_RESERVE, at, now);
            }
            if (fromReserve && value != nodeWord && value != metaWord && !valueRun) {
                return refuse(BLOCK_WRITE_VALUE, at, value);
            }
        }
        return OK;
    }

    /** Whether the CAS at {@code offset} (8-byte aligned) from {@code expected} to {@code desired} keeps the rules. */
    public int deniedCas(long offset, long expected, long desired) {
        if (offset < tableStart) {
            return OK;
        }
        if (offset >= blockEnd || (offset >= table.ownerWord(table.chunkCount()) && offset < blockStart)) {
            return refuse(NOBODYS, offset);
        }
        if (offset < blockStart) {
            boolean claim = (expected == ChunkTableLayout.CHUNK_FREE
                    || ChunkTableLayout.state(expected) == ChunkTableLayout.CHUNK_ADOPTED) && desired == ownedWord;
            boolean release = ChunkTableLayout.state(expected) == ChunkTableLayout.CHUNK_OWNED && takeable(expected)
                    && (desired == ChunkTableLayout.CHUNK_FREE || desired == ChunkTableLayout.word(ChunkTableLayout.CHUNK_ADOPTED,
                    ChunkTableLayout.member(expected), ChunkTableLayout.epoch(expected)));
            return claim || release ? OK : refuse(OWNER_TRANSITION, offset, region.getLongVolatile(offset));
        }
        int from = ChunkTableLayout.state(expected);
        int to = ChunkTableLayout.state(desired);
        // a free word's member field names who freed it or whose memory it was: it carries no right
        boolean toFree = to == ChunkTableLayout.BLOCK_FREE;
        if (from == ChunkTableLayout.BLOCK_FREE && desired == nodeWord) {
            return OK; // a claim from the pool, in anyone's chunk
        }
        if (from == ChunkTableLayout.BLOCK_NODE && toFree) {
            return OK; // a removed node back to the pool (see the class comment)
        }
        if ((from == ChunkTableLayout.BLOCK_VALUE || from == ChunkTableLayout.BLOCK_VALUE_TAIL) && toFree) {
            return OK; // a value run no leaf names any more, freed by the writer that dropped it (as a node)
        }
        if ((expected == valueWord || expected == valueTailWord) && desired == spareWord) {
            return OK; // its own run kept for its own later values
        }
        if ((from == ChunkTableLayout.BLOCK_META || from == ChunkTableLayout.BLOCK_VALUE_SPARE) && toFree) {
            return takeable(expected) ? OK : refuse(BLOCK_NOT_TAKEABLE, offset, expected);
        }
        if (from == ChunkTableLayout.BLOCK_FREE && desired == metaWord) {
            // the first step of returning an adopted chunk whole: its free blocks taken one by one
            long ownerAt = table.ownerWord((offset - blockStart) / perChunk);
            long owner = region.getLongVolatile(ownerAt);
            return ChunkTableLayout.state(owner) == ChunkTableLayout.CHUNK_ADOPTED ? OK
                    : refuse(BLOCK_NOT_TAKEABLE, ownerAt, owner);
        }
        boolean unreserve = expected == ChunkTableLayout.BLOCK_RESERVE && toFree;
        boolean reserve = from == ChunkTableLayout.BLOCK_FREE && desired == ChunkTableLayout.BLOCK_RESERVE;
        if (unreserve || reserve) {
            long ownerAt = table.ownerWord((offset - blockStart) / perChunk);
            long owner = region.getLongVolatile(ownerAt);
            if (ChunkTableLayout.state(owner) == ChunkTableLayout.CHUNK_OWNED && takeable(owner)) {
                return OK;
            }
            return refuse(BLOCK_NOT_TAKEABLE, ownerAt, owner);
        }
        return refuse(BLOCK_TRANSITION, offset, region.getLongVolatile(offset));
    }

    /**
     * Whether an FAA of {@code delta} at {@code offset} keeps the rules: no table word is a counter,
     * but an FAA of 0 is an atomic read (replication compares a mirror's word with it) and is taken.
     */
    public int deniedFaa(long offset, long delta) {
        return offset < tableStart || delta == 0 ? OK : refuse(offset < blockStart ? OWNER_NOT_CAS : BLOCK_FAA, offset);
    }

    /** Whether tag {@code (member, epoch)} of {@code word} is this member's own or a fenced incarnation's. */
    private boolean takeable(long word) {
        int x = ChunkTableLayout.member(word);
        long e = ChunkTableLayout.epoch(word);
        return (x == member && e <= epoch) || fenced.isFenced(x, e);
    }

    private int refuse(int code, long at) {
        return refuse(code, at, at + Long.BYTES <= region.size() ? region.getLongVolatile(at & ~7L) : 0);
    }

    private int refuse(int code, long at, long word) {
        refusedAt = at;
        refusedWord = word;
        return code;
    }

    /** The message of refusal {@code code} of {@code right} on {@code [offset, offset + length)} of memory node {@code memoryNode}. */
    public String refusal(int code, AccessRight right, long offset, long length, int memoryNode) {
        String who = "compute node " + member + " epoch " + epoch;
        String where = right.name() + " of " + length + " bytes at 0x" + Long.toHexString(GlobalAddress.of(memoryNode, offset))
                + " (memory node " + memoryNode + ", offset " + offset + ", chunk table [" + tableStart + ", " + blockEnd
                + ")): ";
        String word = describe(refusedAt);
        String why = switch (code) {
            case OWNER_NOT_CAS -> word + " changes by CAS only, from free or adopted to the claimer's own tag or from a takeable"
                    + " owned tag to free or adopted";
            case OWNER_TRANSITION -> word + " is " + ChunkTableLayout.describe(refusedWord, false) + "; " + who
                    + " may CAS an owner word only from free or adopted to owned by itself at its epoch, or from owned by itself"
                    + " or by a fenced incarnation to free or adopted";
            case BLOCK_WRITE_NOT_OWNER -> "the chunk of these block words is " + ChunkTableLayout.describe(refusedWord, false)
                    + " (" + word + "); only the chunk's owner (owned by " + who + ") writes its block words";
            case BLOCK_WRITE_NOT_RESERVE -> word + " is " + ChunkTableLayout.describe(refusedWord, true)
                    + "; the chunk's owner writes only reserve block words, its own spare value blocks and, returning a"
                    + " chunk, its own metadata words back to reserve (others are changed by CAS)";
            case BLOCK_WRITE_VALUE -> "the value written to " + word + " is " + ChunkTableLayout.describe(refusedWord, true)
                    + "; a written block word records a node, metadata or a value run of " + who;
            case BLOCK_TRANSITION -> word + " is " + ChunkTableLayout.describe(refusedWord, true) + "; " + who
                    + " may CAS a block word only from free to its own node, from a node or a value run to free, from its"
                    + " own value run to spare, from its own or a fenced member's metadata or spare to free, from free to"
                    + " its own metadata in an adopted chunk, or between reserve and free in a chunk of its own or of a"
                    + " fenced member";
            case BLOCK_NOT_TAKEABLE -> word + " is " + ChunkTableLayout.describe(refusedWord, refusedAt < blockStart ? false : true)
                    + ", held by a live member that is not " + who + "; only it, or a reclaimer once it is fenced, releases it";
            case BLOCK_FAA -> word + " is no counter: block words change by WRITE of their owner or CAS";
            case NOBODYS -> word + " is padding of the chunk table: nobody writes it";
            case UNALIGNED -> "chunk table words are written whole (8-byte aligned, a multiple of 8 bytes)";
            case CROSSES -> "the access runs from the chunk area into the chunk table";
            default -> "refusal " + code;
        };
        return where + why;
    }

    private String describe(long at) {
        if (at >= tableStart && at < blockStart && at < table.ownerWord(table.chunkCount())) {
            return "the owner word of chunk " + (at - tableStart) / Long.BYTES;
        }
        if (at >= blockStart && at < blockEnd) {
            long c = (at - blockStart) / perChunk;
            return "block word " + (at - blockStart - c * perChunk) / Long.BYTES + " of chunk " + c;
        }
        return "offset " + at;
    }
}
