package io.dmtree.workloads.kv;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.DirectBufferProxy;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.GetOp;
import org.lmdbjava.Txn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The {@code lmdb} peer: LMDB through lmdbjava, one environment in a fresh temporary directory that
 * is deleted on {@link #close()}. It runs in its fastest in-memory setting: durability off
 * ({@code MDB_NOSYNC}, {@code MDB_NOMETASYNC}) and a writable memory map ({@code MDB_WRITEMAP}), so
 * a write costs a copy-on-write B+-tree update and a commit in memory, not a disk flush.
 *
 * <p>Buffers go through lmdbjava's Agrona {@link DirectBufferProxy}: its {@code ByteBuffer}
 * proxies reflect into {@code java.nio.Buffer} and fail on JDK 17 without {@code --add-opens},
 * while the Agrona proxy runs on a stock JDK 17 with no flags.
 *
 * <p>LMDB orders keys with {@code memcmp}, unsigned-lexicographically, like dmtree. {@code long}
 * keys are stored big-endian with the sign bit flipped so they order as signed numbers, as in
 * dmtree's long path. Readers reuse one read-only transaction per session (reset after each
 * operation, renewed before the next); every write is its own write transaction, committed at
 * once; LMDB serializes writers.
 */
public final class LmdbSystem implements KvSystem {
    public static final String NAME = "lmdb";
    private static final String DATABASE = "ycsb";
    /** Bytes LMDB spends per entry beyond key and value (node header, page slot), generously rounded. */
    private static final long ENTRY_OVERHEAD = 16;

    private final KvShape shape;
    private final Path directory;
    private final long mapBytes;
    private final Env<DirectBuffer> env;
    private final Dbi<DirectBuffer> db;
    private volatile boolean closed;

    public LmdbSystem(KvShape shape) {
        this.shape = shape;
        this.mapBytes = mapBytes(shape);
        try {
            this.directory = Files.createTempDirectory("dmtree-lmdb-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for lmdb: " + e.getMessage(), e);
        }
        Env<DirectBuffer> e = null;
        try {
            e = Env.create(DirectBufferProxy.PROXY_DB)
                    .setMapSize(mapBytes)
                    .setMaxDbs(1)
                    .setMaxReaders(Math.max(126, shape.threads() * 2 + 8))
                    .open(directory.toFile(), EnvFlags.MDB_NOSYNC, EnvFlags.MDB_NOMETASYNC, EnvFlags.MDB_NOTLS, EnvFlags.MDB_WRITEMAP);
            this.env = e;
            this.db = e.openDbi(DATABASE, DbiFlags.MDB_CREATE);
        } catch (RuntimeException | Error failure) {
            if (e != null) {
                e.close();
            }
            deleteDirectory();
            throw failure;
        }
    }

    /**
     * Map size for the data: four times the raw entry bytes (B+-tree pages are often half full
     * after random inserts, and copy-on-write needs room for the pages a commit replaces), plus
     * 64 MiB, rounded to 1 MiB. Pages are allocated only when written.
     */
    static long mapBytes(KvShape shape) {
        long raw = Math.max(1, shape.entries()) * (shape.keyBytes() + shape.valueBytes() + ENTRY_OVERHEAD);
        long bytes = 4 * raw + (64L << 20);
        return (bytes + (1 << 20) - 1) & ~((1L << 20) - 1);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String setup() {
        return NAME + ": lmdbjava, MDB_NOSYNC|MDB_NOMETASYNC|MDB_WRITEMAP, map " + (mapBytes >> 20) + " MiB in a temporary directory, "
                + "one write transaction per write, reused read transactions";
    }

    public Path directory() {
        return directory;
    }

    /** Entries held now. */
    public long size() {
        try (Txn<DirectBuffer> txn = env.txnRead()) {
            return db.stat(txn).entries;
        }
    }

    @Override
    public KvSession openSession(int thread) {
        if (closed) {
            throw new IllegalStateException("lmdb system is closed");
        }
        return new Session();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            db.close();
            env.close();
        } finally {
            deleteDirectory();
        }
    }

    private void deleteDirectory() {
        try (Stream<Path> files = Files.list(directory)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete lmdb directory " + directory + ": " + e.getMessage(), e);
        }
    }

    private final class Session implements KvSession {
        private final UnsafeBuffer key = new UnsafeBuffer(ByteBuffer.allocateDirect(shape.keyBytes()));
        private final UnsafeBuffer value = new UnsafeBuffer(ByteBuffer.allocateDirect(shape.valueBytes()));
        private final Txn<DirectBuffer> reader;
        private Cursor<DirectBuffer> cursor;
        private long digest;

        Session() {
            reader = env.txnRead();
            reader.reset();
        }

        private void putLongKey(long k) {
            key.putLong(0, k ^ Long.MIN_VALUE, ByteOrder.BIG_ENDIAN);
        }

        private Cursor<DirectBuffer> cursor() {
            if (cursor == null) {
                cursor = db.openCursor(reader);
            } else {
                cursor.renew(reader);
            }
            return cursor;
        }

        @Override
        public boolean read(long k) {
            putLongKey(k);
            reader.renew();
            try {
                DirectBuffer v = db.get(reader, key);
                if (v == null) {
                    return false;
                }
                digest += ResultDigest.of(v.getLong(0, ByteOrder.BIG_ENDIAN));
                return true;
            } finally {
                reader.reset();
            }
        }

        @Override
        public void write(long k, long v) {
            putLongKey(k);
            value.putLong(0, v, ByteOrder.BIG_ENDIAN);
            put();
        }

        private void put() {
            try (Txn<DirectBuffer> txn = env.txnWrite()) {
                db.put(txn, key, value);
                txn.commit();
            }
        }

        @Override
        public int scan(long from, int limit) {
            if (limit <= 0) {
                return 0;
            }
            putLongKey(from);
            reader.renew();
            try {
                Cursor<DirectBuffer> c = cursor();
                int n = 0;
                if (c.get(key, GetOp.MDB_SET_RANGE)) {
                    do {
                        long k = c.key().getLong(0, ByteOrder.BIG_ENDIAN) ^ Long.MIN_VALUE;
                        digest += ResultDigest.of(k, c.val().getLong(0, ByteOrder.BIG_ENDIAN));
                        n++;
                    } while (n < limit && c.next());
                }
                return n;
            } finally {
                reader.reset();
            }
        }

        @Override
        public boolean read(byte[] k) {
            key.putBytes(0, k);
            reader.renew();
            try {
                DirectBuffer v = db.get(reader, key);
                if (v == null) {
                    return false;
                }
                digest += ResultDigest.of(v, 0, v.capacity());
                return true;
            } finally {
                reader.reset();
            }
        }

        @Override
        public void write(byte[] k, byte[] v) {
            key.putBytes(0, k);
            value.putBytes(0, v);
            put();
        }

        @Override
        public int scan(byte[] from, int limit) {
            if (limit <= 0) {
                return 0;
            }
            key.putBytes(0, from);
            reader.renew();
            try {
                Cursor<DirectBuffer> c = cursor();
                int n = 0;
                if (c.get(key, GetOp.MDB_SET_RANGE)) {
                    do {
                        DirectBuffer ck = c.key();
                        DirectBuffer cv = c.val();
                        digest += ResultDigest.mix(ResultDigest.of(ck, 0, ck.capacity()) ^ ResultDigest.of(cv, 0, cv.capacity()));
                        n++;
                    } while (n < limit && c.next());
                }
                return n;
            } finally {
                reader.reset();
            }
        }

        @Override
        public long digest() {
            return digest;
        }

        @Override
        public void close() {
            if (cursor != null) {
                cursor.close();
            }
            // LMDB frees a reset read transaction (and its reader slot) only by aborting it, and
            // lmdbjava aborts only a ready one: renew first, then close.
            reader.renew();
            reader.close();
        }
    }
}
