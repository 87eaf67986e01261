package io.dmtree.workloads.cn;

import io.dmtree.cn.DmIndex;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.workloads.ycsb.MemoryNodeCost;
import io.dmtree.workloads.ycsb.OperationType;
import io.dmtree.workloads.ycsb.SystemResult;
import org.HdrHistogram.Histogram;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.zip.DataFormatException;

/**
 * What one compute-node process reports at the results barrier: its {@link SystemResult} for its
 * share of the run. Little-endian; latency histograms in HdrHistogram's compressed encoding (a few
 * hundred bytes each).
 *
 * <pre>
 *   0 | magic "DMSR":32             | version:16 | histograms:16      |
 *   8 | loaded records:64                                            |
 *  16 | load nanos:64                                                |
 *  24 | operations:64                                                |
 *  32 | run nanos:64                                                 |
 *  40 | read misses:64                                               |
 *  48 | scanned entries:64                                           |
 *  56 | digest:64                                                    |
 *  64 | MN READs:64 | WRITEs:64 | CAS:64 | FAA:64                    |  run-phase memory node
 *  96 | read bytes:64 | write bytes:64 | round trips:64             |  traffic of this process
 * 120 | cache hits:64 | cache misses:64 | cache bytes:64 | capacity:64 |
 * 152 | setup bytes:16 | lock bytes:16 | 0:32                        |
 * 160 | setup (UTF-8) | lock (UTF-8)                                  |
 *     | histograms x ( operation type:8 | 0:24 | length:32 | compressed histogram ) |
 * </pre>
 * Every length is checked against the payload before use; a malformed report is an
 * {@link IllegalArgumentException} naming what is wrong.
 */
public final class ShareReport {
    public static final int MAGIC = 0x52534D44; // "DMSR" little-endian
    public static final int VERSION = 1;
    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int HISTOGRAMS_OFFSET = 6;
    public static final int LOADED_RECORDS_OFFSET = 8;
    public static final int LOAD_NANOS_OFFSET = 16;
    public static final int OPERATIONS_OFFSET = 24;
    public static final int RUN_NANOS_OFFSET = 32;
    public static final int READ_MISSES_OFFSET = 40;
    public static final int SCANNED_OFFSET = 48;
    public static final int DIGEST_OFFSET = 56;
    public static final int READS_OFFSET = 64;
    public static final int WRITES_OFFSET = 72;
    public static final int CAS_OFFSET = 80;
    public static final int FAA_OFFSET = 88;
    public static final int READ_BYTES_OFFSET = 96;
    public static final int WRITE_BYTES_OFFSET = 104;
    public static final int ROUND_TRIPS_OFFSET = 112;
    public static final int CACHE_HITS_OFFSET = 120;
    public static final int CACHE_MISSES_OFFSET = 128;
    public static final int CACHE_BYTES_OFFSET = 136;
    public static final int CACHE_CAPACITY_OFFSET = 144;
    public static final int SETUP_LENGTH_OFFSET = 152;
    public static final int LOCK_LENGTH_OFFSET = 154;
    public static final int HEADER_BYTES = 160;
    /** Per histogram: type, padding, length. */
    public static final int HISTOGRAM_HEADER_BYTES = 8;
    /** Longest setup or lock text carried. */
    public static final int MAX_TEXT_BYTES = 4096;

    private ShareReport() {
    }

    /** Encodes a dmtree result (it must carry memory node traffic and cache statistics). */
    public static byte[] encode(SystemResult r) {
        if (r.memoryNodes() == null || r.cache() == null) {
            throw new IllegalArgumentException("a compute node's result carries memory node traffic and cache statistics");
        }
        byte[] setup = truncated(r.setup());
        byte[] lock = truncated(r.lock() == null ? "" : r.lock());
        byte[][] histograms = new byte[OperationType.values().length][];
        int size = HEADER_BYTES + setup.length + lock.length;
        int count = 0;
        for (Map.Entry<OperationType, Histogram> e : r.latencies().entrySet()) {
            Histogram h = e.getValue();
            ByteBuffer b = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
            int n = h.encodeIntoCompressedByteBuffer(b); // from position 0 of the array
            byte[] bytes = java.util.Arrays.copyOf(b.array(), n);
            histograms[e.getKey().ordinal()] = bytes;
            size += HISTOGRAM_HEADER_BYTES + n;
            count++;
        }
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        VerbCounts t = r.memoryNodes().traffic();
        out.putInt(MAGIC_OFFSET, MAGIC).putShort(VERSION_OFFSET, (short) VERSION).putShort(HISTOGRAMS_OFFSET, (short) count)
                .putLong(LOADED_RECORDS_OFFSET, r.loadedRecords()).putLong(LOAD_NANOS_OFFSET, r.loadNanos())
                .putLong(OPERATIONS_OFFSET, r.operations()).putLong(RUN_NANOS_OFFSET, r.runNanos())
                .putLong(READ_MISSES_OFFSET, r.readMisses()).putLong(SCANNED_OFFSET, r.scannedEntries())
                .putLong(DIGEST_OFFSET, r.digest())
                .putLong(READS_OFFSET, t.reads()).putLong(WRITES_OFFSET, t.writes()).putLong(CAS_OFFSET, t.cas())
                .putLong(FAA_OFFSET, t.faa()).putLong(READ_BYTES_OFFSET, t.readBytes())
                .putLong(WRITE_BYTES_OFFSET, t.writeBytes()).putLong(ROUND_TRIPS_OFFSET, t.roundTrips())
                .putLong(CACHE_HITS_OFFSET, r.cache().hits()).putLong(CACHE_MISSES_OFFSET, r.cache().misses())
                .putLong(CACHE_BYTES_OFFSET, r.cache().bytes()).putLong(CACHE_CAPACITY_OFFSET, r.cache().capacityBytes())
                .putShort(SETUP_LENGTH_OFFSET, (short) setup.length).putShort(LOCK_LENGTH_OFFSET, (short) lock.length);
        out.position(HEADER_BYTES);
        out.put(setup).put(lock);
        for (OperationType type : OperationType.values()) {
            byte[] h = histograms[type.ordinal()];
            if (h != null) {
                out.put(type.code()).put((byte) 0).putShort((short) 0).putInt(h.length).put(h);
            }
        }
        return out.array();
    }

    /** UTF-8 of {@code s}, cut to at most {@link #MAX_TEXT_BYTES} (a UTF-8 char takes at most 4 bytes). */
    private static byte[] truncated(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return b.length <= MAX_TEXT_BYTES ? b : s.substring(0, MAX_TEXT_BYTES / 4).getBytes(StandardCharsets.UTF_8);
    }

    /** Decodes a report written by {@link #encode}; {@code name} is the system's name. */
    public static SystemResult decode(byte[] payload, String name) {
        ByteBuffer in = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        require(payload.length >= HEADER_BYTES, "report of " + payload.length + " bytes is shorter than its "
                + HEADER_BYTES + "-byte header");
        require(in.getInt(MAGIC_OFFSET) == MAGIC, "not a compute node report (bad magic)");
        require(in.getShort(VERSION_OFFSET) == VERSION, "report version " + in.getShort(VERSION_OFFSET) + ", expected "
                + VERSION);
        int histograms = Short.toUnsignedInt(in.getShort(HISTOGRAMS_OFFSET));
        require(histograms <= OperationType.values().length, histograms + " histograms");
        int setupLength = Short.toUnsignedInt(in.getShort(SETUP_LENGTH_OFFSET));
        int lockLength = Short.toUnsignedInt(in.getShort(LOCK_LENGTH_OFFSET));
        require(setupLength <= MAX_TEXT_BYTES && lockLength <= MAX_TEXT_BYTES
                && HEADER_BYTES + setupLength + lockLength <= payload.length, "setup or lock text runs past the report");
        String setup = new String(payload, HEADER_BYTES, setupLength, StandardCharsets.UTF_8);
        String lock = new String(payload, HEADER_BYTES + setupLength, lockLength, StandardCharsets.UTF_8);
        in.position(HEADER_BYTES + setupLength + lockLength);
        Map<OperationType, Histogram> latencies = new EnumMap<>(OperationType.class);
        for (int i = 0; i < histograms; i++) {
            require(in.remaining() >= HISTOGRAM_HEADER_BYTES, "histogram " + i + " header runs past the report");
            int type = Byte.toUnsignedInt(in.get());
            in.get();
            in.getShort();
            int length = in.getInt();
            require(type < OperationType.values().length, "unknown operation type " + type);
            require(length >= 0 && length <= in.remaining(), "histogram of " + length + " bytes runs past the report");
            byte[] hb = new byte[length]; // the decoder reads the backing array from offset 0: no slices
            in.get(hb);
            ByteBuffer h = ByteBuffer.wrap(hb);
            try {
                latencies.put(OperationType.ofCode(type), Histogram.decodeFromCompressedByteBuffer(h, 0));
            } catch (DataFormatException | RuntimeException e) {
                throw new IllegalArgumentException("histogram of " + OperationType.ofCode(type) + " is corrupt: " + e.getMessage(), e);
            }
        }
        require(!in.hasRemaining(), in.remaining() + " bytes after the last histogram");
        long operations = in.getLong(OPERATIONS_OFFSET);
        VerbCounts traffic = new VerbCounts(in.getLong(READS_OFFSET), in.getLong(WRITES_OFFSET), in.getLong(CAS_OFFSET),
                in.getLong(FAA_OFFSET), in.getLong(READ_BYTES_OFFSET), in.getLong(WRITE_BYTES_OFFSET),
                in.getLong(ROUND_TRIPS_OFFSET));
        DmIndex.CacheStats cache = new DmIndex.CacheStats(in.getLong(CACHE_HITS_OFFSET), in.getLong(CACHE_MISSES_OFFSET),
                in.getLong(CACHE_BYTES_OFFSET), in.getLong(CACHE_CAPACITY_OFFSET));
        return new SystemResult(name, lock.isEmpty() ? null : lock, setup, in.getLong(LOADED_RECORDS_OFFSET),
                in.getLong(LOAD_NANOS_OFFSET), operations, in.getLong(RUN_NANOS_OFFSET), latencies, in.getLong(READ_MISSES_OFFSET),
                in.getLong(SCANNED_OFFSET), in.getLong(DIGEST_OFFSET), new MemoryNodeCost(traffic, operations), cache);
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalArgumentException("malformed compute node report: " + what);
        }
    }
}
