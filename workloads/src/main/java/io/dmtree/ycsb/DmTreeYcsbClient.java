package io.dmtree.ycsb;

import io.dmtree.cn.DmIndex;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.cn.control.IndexShape;
import io.dmtree.cn.control.RemoteComputeNode;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.HostPort;
import io.dmtree.workloads.cn.ReconnectingIndex;
import site.ycsb.ByteArrayByteIterator;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.DBException;
import site.ycsb.Status;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.Vector;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The binding of the official YCSB client ({@code site.ycsb:core}): every YCSB client process is
 * one dmtree compute node that joins running memory nodes; its client threads share it.
 *
 * <p>Properties: {@code dmtree.mn} (required) {@code HOST:PORT,...} of memory nodes 0..n-1;
 * {@code dmtree.keybytes} and {@code dmtree.valuebytes} (at most 256) the index's fixed widths, and
 * {@code dmtree.lock} its lock design: each, when not given, is what the index the cluster holds
 * already has (so the binding joins a cluster started by {@code dmtree cn}), and for a new index
 * 32-byte keys, 256-byte values (YCSB's keys and records need room) and the project's default lock;
 * {@code dmtree.timeout} ms (default 30000); {@code dmtree.secret} the cluster secret's file (memory
 * node 0's ready line names it as {@code secret=PATH}; absent or {@code none}: no secret); {@code dmtree.tls}, {@code dmtree.tls.password} and
 * {@code dmtree.tls.trust} as {@code --tls}, {@code --tls-password}, {@code --tls-trust} of {@code dmtree cn};
 * {@code dmtree.rejoin.attempts} (default 10, 0: never) and {@code dmtree.rejoin.backoff} ms
 * (default 250): when a memory node is lost the client process rejoins the cluster as
 * {@code dmtree cn --serve} does ({@link ReconnectingIndex}); operations made while it rejoins throw.
 *
 * <p>Mapping: the YCSB table is ignored (one index). A key is its UTF-8 bytes zero-padded to the
 * key width, so keys keep their string order for scans; a longer key is refused. A record is its
 * fields encoded by {@link RecordCodec} into one value. An index this binding creates stores
 * variable-length values ({@code dmtree.values=variable}, the default; {@code dmtree.valuebytes}
 * is then the leaf's value slot, 32 bytes unless given), so records of any field count and size up
 * to {@link io.dmtree.core.tree.ValueLayout#MAX_VALUE_BYTES} bytes encoded are taken, YCSB's
 * default 10 fields of 100 bytes included. With {@code dmtree.values=fixed}, or joined to an index
 * of fixed-width values, <b>a record larger than the value width is refused with an error</b>. {@code update} merges the fields into the
 * record atomically, under the lock of the record's leaf ({@link DmIndex#compute}), so concurrent
 * updates of different fields of one key all land; a merged record too large for the value width
 * is refused and the record left as it was.
 */
public final class DmTreeYcsbClient extends DB {
    private static final Object SHARED_LOCK = new Object();
    private static ReconnectingIndex shared;
    private static int users;
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    /** Widths of an index of fixed-width values this binding creates ({@code dmtree.values=fixed}): room for YCSB's keys and a small record. */
    static final TreeConfig FRESH_FIXED_INDEX = TreeConfig.defaults().withKeyBytes(32).withValueBytes(TreeConfig.MAX_VALUE_BYTES);
    /** An index this binding creates by default: YCSB's keys, records of any size (variable-length values). */
    static final TreeConfig FRESH_INDEX = TreeConfig.defaults().withKeyBytes(32).withValueBytes(32)
            .withValueFormat(io.dmtree.core.tree.ValueFormat.VARIABLE);

    private DmIndex index;
    private int keyBytes;
    private int valueBytes;
    /** The index stores variable-length values: records of any size go through {@link DmIndex#values()}. */
    private boolean variable;
    /** The largest encoded record the index takes. */
    private int recordLimit;

    @Override
    public void init() throws DBException {
        Properties p = getProperties();
        String mns = p.getProperty("dmtree.mn");
        if (mns == null || mns.isBlank()) {
            throw new DBException("set -p dmtree.mn=HOST:PORT[,HOST:PORT...] to the memory nodes, memory node 0 first");
        }
        try {
            Integer wantKeys = intProperty(p, "dmtree.keybytes");
            Integer wantValues = intProperty(p, "dmtree.valuebytes");
            int timeout = Integer.parseInt(p.getProperty("dmtree.timeout", "30000"));
            String valuesMode = p.getProperty("dmtree.values", "variable").trim();
            if (!valuesMode.equals("variable") && !valuesMode.equals("fixed")) {
                throw new IllegalArgumentException("dmtree.values must be variable or fixed, not '" + valuesMode + "'");
            }
            TreeConfig fresh = valuesMode.equals("fixed") ? FRESH_FIXED_INDEX
                    : wantValues == null ? FRESH_INDEX : FRESH_INDEX.withValueBytes(wantValues);
            synchronized (SHARED_LOCK) {
                if (shared == null) {
                    List<InetSocketAddress> addresses = new ArrayList<>();
                    for (String s : mns.split(",")) {
                        addresses.add(HostPort.parse("dmtree.mn", s.trim()));
                    }
                    IndexShape wanted = new IndexShape(wantKeys, wantValues, null, p.getProperty("dmtree.lock"));
                    Integer attempts = intProperty(p, "dmtree.rejoin.attempts");
                    Integer backoff = intProperty(p, "dmtree.rejoin.backoff");
                    ReconnectingIndex.Policy policy = new ReconnectingIndex.Policy(attempts == null ? 10 : attempts,
                            backoff == null ? 250 : backoff, Math.max(5_000, backoff == null ? 250 : backoff));
                    String secretFile = p.getProperty("dmtree.secret", "none").trim();
                    ClusterSecret secret = secretFile.isEmpty() || secretFile.equalsIgnoreCase("none") ? null
                            : ClusterSecret.load(java.nio.file.Path.of(secretFile));
                    io.dmtree.core.wire.ClusterTls tls = io.dmtree.core.wire.ClusterTls.fromFlags(p.getProperty("dmtree.tls"),
                            p.getProperty("dmtree.tls.password"), p.getProperty("dmtree.tls.trust"), secret != null);
                    if (tls != null) {
                        secret = secret.withTls(tls);
                    }
                    ClusterClient.Options options = ClusterClient.Options.of(addresses).withTimeoutMillis(timeout)
                            .withSecret(secret);
                    IndexShape[] shape = {wanted};
                    shared = ReconnectingIndex.open(
                            () -> RemoteComputeNode.join(options, shape[0], fresh, RemoteComputeNode.DEFAULT_MAX_COMPUTE_NODES,
                                    1024),
                            policy, line -> System.err.println("dmtree: " + line), node -> {
                                // a rejoin opens (or, on restarted memory nodes, creates) the index this one had
                                TreeConfig t = node.computeNode().treeConfig();
                                shape[0] = new IndexShape(t.keyBytes(), t.valueBytes(), t.nodeBytes(),
                                        node.computeNode().lockDesign().name());
                            });
                }
                users++;
                index = shared;
                keyBytes = shared.keyBytes();
                valueBytes = shared.valueBytes();
                variable = variableValues(shared);
                recordLimit = variable ? io.dmtree.core.tree.ValueLayout.MAX_VALUE_BYTES : valueBytes;
            }
        } catch (RuntimeException e) {
            throw new DBException("dmtree: " + e.getMessage(), e);
        }
    }

    private static boolean variableValues(DmIndex index) {
        try {
            index.values();
            return true;
        } catch (IllegalArgumentException fixed) {
            return false;
        }
    }

    private static Integer intProperty(Properties p, String name) {
        String v = p.getProperty(name);
        if (v == null || v.isBlank()) {
            return null;
        }
        try {
            return Integer.valueOf(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, not '" + v + "'");
        }
    }

    @Override
    public void cleanup() throws DBException {
        synchronized (SHARED_LOCK) {
            if (--users == 0 && shared != null) {
                shared.close();
                shared = null;
            }
        }
    }

    private byte[] key(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        if (k.length > keyBytes) {
            return null;
        }
        return Arrays.copyOf(k, keyBytes);
    }

    private static String keyString(byte[] k) {
        int n = k.length;
        while (n > 0 && k[n - 1] == 0) {
            n--;
        }
        return new String(k, 0, n, StandardCharsets.UTF_8);
    }

    private Status refuse(String why) {
        if (WARNED.compareAndSet(false, true)) {
            System.err.println("dmtree: " + why);
        }
        return new Status("REFUSED", why);
    }

    @Override
    public Status read(String table, String key, Set<String> fields, Map<String, ByteIterator> result) {
        byte[] k = key(key);
        if (k == null) {
            return refuse("key '" + key + "' is longer than the key width of " + keyBytes + " bytes (dmtree.keybytes)");
        }
        byte[] v = variable ? index.values().get(k) : index.get(k);
        if (v == null) {
            return Status.NOT_FOUND;
        }
        RecordCodec.decode(v, fields).forEach((f, b) -> result.put(f, new ByteArrayByteIterator(b)));
        return Status.OK;
    }

    @Override
    public Status scan(String table, String startkey, int recordcount, Set<String> fields,
                       Vector<HashMap<String, ByteIterator>> result) {
        byte[] k = key(startkey);
        if (k == null) {
            return refuse("key '" + startkey + "' is longer than the key width of " + keyBytes + " bytes (dmtree.keybytes)");
        }
        if (variable) {
            for (io.dmtree.core.tree.VariableValues.Entry e : index.values().scan(k, null, recordcount)) {
                result.add(row(e.key(), e.value(), fields));
            }
            return Status.OK;
        }
        for (DmIndex.Entry e : index.scan(k, recordcount)) {
            result.add(row(e.key(), e.value(), fields));
        }
        return Status.OK;
    }

    /** The requested fields of one record (every field when {@code fields} is null). */
    private static HashMap<String, ByteIterator> row(byte[] key, byte[] value, Set<String> fields) {
        HashMap<String, ByteIterator> row = new HashMap<>();
        RecordCodec.decode(value, fields).forEach((f, b) -> row.put(f, new ByteArrayByteIterator(b)));
        row.putIfAbsent("_key", new ByteArrayByteIterator(keyString(key).getBytes(StandardCharsets.UTF_8)));
        return row;
    }

    @Override
    public Status update(String table, String key, Map<String, ByteIterator> values) {
        byte[] k = key(key);
        if (k == null) {
            return refuse("key '" + key + "' is longer than the key width of " + keyBytes + " bytes (dmtree.keybytes)");
        }
        Map<String, byte[]> changes = new java.util.LinkedHashMap<>();
        values.forEach((f, it) -> changes.put(f, it.toArray()));
        boolean[] found = {false};
        try {
            // the merge runs under the leaf's lock: no other update of the record comes between read and write
            java.util.function.UnaryOperator<byte[]> merge = old -> {
                if (old == null) {
                    return null;
                }
                found[0] = true;
                Map<String, byte[]> fields = RecordCodec.decode(old, null);
                fields.putAll(changes);
                byte[] merged = (variable ? RecordCodec.encodeCompact(fields, recordLimit) : RecordCodec.encode(fields, recordLimit));
                if (merged == null) {
                    throw new RecordTooLarge(RecordCodec.encodedBytes(fields));
                }
                return merged;
            };
            if (variable) {
                index.values().compute(k, merge);
            } else {
                index.compute(k, merge);
            }
        } catch (RecordTooLarge e) {
            return tooLarge(e.bytes);
        }
        return found[0] ? Status.OK : Status.NOT_FOUND;
    }

    /** A merged record that does not fit: thrown from the merge, so the leaf is released with nothing written. */
    private static final class RecordTooLarge extends RuntimeException {
        final int bytes;

        RecordTooLarge(int bytes) {
            super(null, null, false, false);
            this.bytes = bytes;
        }
    }

    private Status tooLarge(int recordBytes) {
        if (variable) {
            return refuse("a record of " + recordBytes + " bytes is longer than the index's longest value of "
                    + recordLimit + " bytes");
        }
        return refuse("a record of " + recordBytes + " bytes does not fit the index's inline value width of "
                + valueBytes + " bytes; run YCSB with smaller records, e.g. -p fieldcount=1 -p fieldlength="
                + Math.max(1, valueBytes - 16));
    }

    @Override
    public Status insert(String table, String key, Map<String, ByteIterator> values) {
        byte[] k = key(key);
        if (k == null) {
            return refuse("key '" + key + "' is longer than the key width of " + keyBytes + " bytes (dmtree.keybytes)");
        }
        Map<String, byte[]> fields = new java.util.LinkedHashMap<>();
        values.forEach((f, it) -> fields.put(f, it.toArray()));
        return write(k, fields);
    }

    private Status write(byte[] k, Map<String, byte[]> fields) {
        byte[] v = (variable ? RecordCodec.encodeCompact(fields, recordLimit) : RecordCodec.encode(fields, recordLimit));
        if (v == null) {
            return tooLarge(RecordCodec.encodedBytes(fields));
        }
        if (variable) {
            index.values().put(k, v);
        } else {
            index.put(k, v);
        }
        return Status.OK;
    }

    @Override
    public Status delete(String table, String key) {
        byte[] k = key(key);
        if (k == null) {
            return refuse("key '" + key + "' is longer than the key width of " + keyBytes + " bytes (dmtree.keybytes)");
        }
        return (variable ? index.values().delete(k) : index.delete(k)) ? Status.OK : Status.NOT_FOUND;
    }
}
