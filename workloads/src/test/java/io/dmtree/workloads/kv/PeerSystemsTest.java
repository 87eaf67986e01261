package io.dmtree.workloads.kv;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The peers behave as ordered maps with dmtree's key order: random single-threaded operations on
 * each peer agree with a {@link TreeMap} model in every read, every scan count and the digest of
 * everything read. Signed order for {@code long} keys, unsigned for byte keys.
 */
class PeerSystemsTest {
    private static final long SEED = 424242L;

    @Test
    void longPathAgreesWithTheModel() {
        for (Peer peer : Peer.values()) {
            KvShape shape = new KvShape(8, 8, 5000, 1);
            try (KvSystem system = peer.open(shape); KvSession session = system.openSession(0)) {
                TreeMap<Long, Long> model = new TreeMap<>();
                long modelDigest = 0;
                SplittableRandom random = new SplittableRandom(SEED);
                for (int i = 0; i < 20_000; i++) {
                    // small key range with both signs, so keys repeat and order crosses zero
                    long key = random.nextLong(-2000, 2000) * 0x10000000001L;
                    int op = random.nextInt(10);
                    if (op < 4) {
                        long value = random.nextLong();
                        session.write(key, value);
                        model.put(key, value);
                    } else if (op < 8) {
                        Long v = model.get(key);
                        assertEquals(v != null, session.read(key), peer + " read " + key + " (seed " + SEED + ")");
                        if (v != null) {
                            modelDigest += ResultDigest.of(v);
                        }
                    } else {
                        int limit = 1 + random.nextInt(100);
                        int n = 0;
                        for (Map.Entry<Long, Long> e : model.tailMap(key, true).entrySet()) {
                            if (n == limit) {
                                break;
                            }
                            modelDigest += ResultDigest.of(e.getKey(), e.getValue());
                            n++;
                        }
                        assertEquals(n, session.scan(key, limit), peer + " scan from " + key + " (seed " + SEED + ")");
                    }
                }
                assertEquals(modelDigest, session.digest(), peer + ": digest of what was read");
            }
        }
    }

    @Test
    void bytePathAgreesWithTheModelInUnsignedOrder() {
        for (Peer peer : Peer.values()) {
            for (int keyBytes : new int[]{2, 8, 20}) {
                int valueBytes = 12;
                KvShape shape = new KvShape(keyBytes, valueBytes, 5000, 1);
                try (KvSystem system = peer.open(shape); KvSession session = system.openSession(0)) {
                    TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
                    long modelDigest = 0;
                    SplittableRandom random = new SplittableRandom(SEED + keyBytes);
                    for (int i = 0; i < 10_000; i++) {
                        byte[] key = new byte[keyBytes];
                        // first byte spans 0x00..0xFF so unsigned order matters
                        key[0] = (byte) random.nextInt(256);
                        key[keyBytes - 1] = (byte) random.nextInt(8);
                        int op = random.nextInt(10);
                        if (op < 4) {
                            byte[] value = new byte[valueBytes];
                            random.nextBytes(value);
                            session.write(key, value);
                            model.put(key, value);
                        } else if (op < 8) {
                            byte[] v = model.get(key);
                            assertEquals(v != null, session.read(key), peer + " read");
                            if (v != null) {
                                modelDigest += ResultDigest.of(v);
                            }
                        } else {
                            int limit = 1 + random.nextInt(100);
                            int n = 0;
                            for (Map.Entry<byte[], byte[]> e : model.tailMap(key, true).entrySet()) {
                                if (n == limit) {
                                    break;
                                }
                                modelDigest += ResultDigest.of(e.getKey(), e.getValue());
                                n++;
                            }
                            assertEquals(n, session.scan(key, limit), peer + " " + keyBytes + "-byte scan");
                        }
                    }
                    assertEquals(modelDigest, session.digest(), peer + " " + keyBytes + "-byte keys: digest");
                }
            }
        }
    }

    @Test
    void lmdbDeletesItsDirectoryAndSizesItsMap() {
        KvShape shape = new KvShape(8, 8, 1_000_000, 2);
        Path dir;
        LmdbSystem lmdb = new LmdbSystem(shape);
        try (KvSession s = lmdb.openSession(0)) {
            dir = lmdb.directory();
            assertTrue(Files.isDirectory(dir));
            for (long k = 0; k < 1000; k++) {
                s.write(k, k);
            }
            assertEquals(1000, lmdb.size());
        } finally {
            lmdb.close();
        }
        assertFalse(Files.exists(lmdb.directory()));
        assertTrue(LmdbSystem.mapBytes(shape) >= 1_000_000L * 16);
        assertThrows(IllegalStateException.class, () -> lmdb.openSession(0));
    }

    @Test
    void peerListsParse() {
        assertEquals(List.of(Peer.CSL, Peer.LMDB), Peer.parseList("csl,lmdb"));
        assertEquals(List.of(Peer.LMDB), Peer.parseList(" LMDB "));
        assertEquals(List.of(), Peer.parseList("none"));
        assertThrows(IllegalArgumentException.class, () -> Peer.parseList("csl,rocks"));
        assertThrows(IllegalArgumentException.class, () -> Peer.parseList("csl,csl"));
    }
}
