package io.dmtree.ycsb;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A YCSB record (field name to bytes) as one index value: of the fixed width (zero-padded) for an
 * index of fixed-width values, where records that do not fit are refused, or of its own length
 * for an index of variable-length values ({@link #encodeCompact}; see {@link DmTreeYcsbClient}).
 *
 * <pre>
 *   0               2       3
 *   +---------------+-------+------------------------------------------------------+
 *   | used bytes    | fields| per field: name bytes:8 | name | value bytes:16 | value |
 *   +---------------+-------+------------------------------------------------------+
 *   then zero padding to the value width
 * </pre>
 * All counts little-endian; names UTF-8 of at most 255 bytes, values at most 65535 bytes.
 */
public final class RecordCodec {
    private RecordCodec() {
    }

    /** Bytes {@code fields} needs, to say how much a refused record lacks. */
    public static int encodedBytes(Map<String, byte[]> fields) {
        int n = 3;
        for (Map.Entry<String, byte[]> e : fields.entrySet()) {
            n += 1 + e.getKey().getBytes(StandardCharsets.UTF_8).length + 2 + e.getValue().length;
        }
        return n;
    }

    /** The longest record the used-bytes count can state. */
    public static final int MAX_RECORD_BYTES = 0xFFFF;

    /** Encodes into {@code width} bytes, or returns null when the record does not fit. */
    public static byte[] encode(Map<String, byte[]> fields, int width) {
        return encode(fields, width, width);
    }

    /**
     * Encodes into exactly its own length (no padding), for an index of variable-length values; null
     * when it is longer than {@code limit} or than {@link #MAX_RECORD_BYTES}.
     */
    public static byte[] encodeCompact(Map<String, byte[]> fields, int limit) {
        int n = encodedBytes(fields);
        return n > Math.min(limit, MAX_RECORD_BYTES) ? null : encode(fields, n, n);
    }

    private static byte[] encode(Map<String, byte[]> fields, int width, int allocate) {
        int n = encodedBytes(fields);
        if (n > width || n > MAX_RECORD_BYTES || fields.size() > 255) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(allocate).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) n).put((byte) fields.size());
        for (Map.Entry<String, byte[]> e : fields.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            if (name.length > 255 || e.getValue().length > 65535) {
                return null;
            }
            b.put((byte) name.length).put(name).putShort((short) e.getValue().length).put(e.getValue());
        }
        return b.array();
    }

    /** Decodes the fields named in {@code wanted} (all when null). */
    public static Map<String, byte[]> decode(byte[] value, Set<String> wanted) {
        ByteBuffer b = ByteBuffer.wrap(value).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int used = b.getShort() & 0xFFFF;
        if (used < 3 || used > value.length) {
            throw new IllegalStateException("not a YCSB record (used bytes " + used + " of " + value.length + ")");
        }
        int count = b.get() & 0xFF;
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            byte[] name = new byte[b.get() & 0xFF];
            b.get(name);
            byte[] v = new byte[b.getShort() & 0xFFFF];
            b.get(v);
            String n = new String(name, StandardCharsets.UTF_8);
            if (wanted == null || wanted.contains(n)) {
                out.put(n, v);
            }
        }
        return out;
    }
}
