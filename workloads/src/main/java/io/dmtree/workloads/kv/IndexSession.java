package io.dmtree.workloads.kv;

import io.dmtree.cn.DmIndex;

import java.util.OptionalLong;

/**
 * A worker's session on one compute node's {@link DmIndex}: the runner's operations mapped to the
 * index's {@code long} or {@code byte[]} path, with what it reads folded into the digest. Used for
 * the embedded cluster and for a compute-node process alike.
 */
public final class IndexSession implements KvSession, DmIndex.EntryVisitor {
    private final DmIndex index;
    private long digest;

    public IndexSession(DmIndex index) {
        this.index = index;
    }

    @Override
    public boolean read(long key) {
        OptionalLong v = index.get(key);
        if (v.isEmpty()) {
            return false;
        }
        digest += ResultDigest.of(v.getAsLong());
        return true;
    }

    @Override
    public void write(long key, long value) {
        index.put(key, value);
    }

    @Override
    public int scan(long from, int limit) {
        if (limit <= 0) {
            return 0;
        }
        return index.scan(from, limit, this::visitLong);
    }

    @Override
    public boolean read(byte[] key) {
        byte[] v = index.get(key);
        if (v == null) {
            return false;
        }
        digest += ResultDigest.of(v);
        return true;
    }

    @Override
    public void write(byte[] key, byte[] value) {
        index.put(key, value);
    }

    @Override
    public int scan(byte[] from, int limit) {
        if (limit <= 0) {
            return 0;
        }
        return index.scan(from, limit, this);
    }

    private boolean visitLong(long key, long value) {
        digest += ResultDigest.of(key, value);
        return true;
    }

    @Override
    public boolean visit(byte[] key, byte[] value) {
        digest += ResultDigest.of(key, value);
        return true;
    }

    @Override
    public long digest() {
        return digest;
    }

    @Override
    public void close() {
    }
}
