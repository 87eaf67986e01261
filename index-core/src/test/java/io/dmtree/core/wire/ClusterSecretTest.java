package io.dmtree.core.wire;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cluster secret's file (owner-only, refused otherwise) and its proofs (bound to every input, direction apart). */
class ClusterSecretTest {
    @TempDir
    Path dir;

    @Test
    void aStoredSecretIsOwnerOnlyAndLoadsBackTheSame() throws Exception {
        ClusterSecret s = ClusterSecret.generate();
        Path f = dir.resolve("sub/cluster.secret");
        s.store(f);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        ClusterSecret back = ClusterSecret.load(f);
        assertEquals(s.fingerprint(), back.fingerprint());
        byte[] a = ClusterSecret.nonce();
        byte[] b = ClusterSecret.nonce();
        assertArrayEquals(s.serverProof(1, a, b, 0), back.serverProof(1, a, b, 0));
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> s.store(f));
        ClusterSecret.Loaded again = ClusterSecret.loadOrGenerate(f);
        assertFalse(again.created());
        assertEquals(s.fingerprint(), again.secret().fingerprint());
        ClusterSecret.Loaded fresh = ClusterSecret.loadOrGenerate(dir.resolve("fresh.secret"));
        assertTrue(fresh.created());
        assertFalse(Arrays.equals(s.serverProof(1, a, b, 0), fresh.secret().serverProof(1, a, b, 0)));
    }

    @Test
    void aFileOthersCanReadOrThatHoldsNoSecretIsRefused() throws Exception {
        Path f = dir.resolve("open.secret");
        ClusterSecret.generate().store(f);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClusterSecret.load(f));
        assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
        Path shortOne = dir.resolve("short.secret");
        Files.writeString(shortOne, "abcd\n");
        Files.setPosixFilePermissions(shortOne, PosixFilePermissions.fromString("rw-------"));
        e = assertThrows(IllegalArgumentException.class, () -> ClusterSecret.load(shortOne));
        assertTrue(e.getMessage().contains("not a cluster secret"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ClusterSecret.load(dir.resolve("none")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void proofsDependOnEveryInputAndDirection() {
        ClusterSecret s = ClusterSecret.of(new byte[ClusterSecret.KEY_BYTES]);
        byte[] a = ClusterSecret.nonce();
        byte[] b = ClusterSecret.nonce();
        byte[] base = s.clientProof(2, a, b, 3, 7);
        assertEquals(ClusterSecret.PROOF_BYTES, base.length);
        assertTrue(ClusterSecret.matches(base, s.clientProof(2, a, b, 3, 7)));
        for (byte[] other : new byte[][]{s.clientProof(1, a, b, 3, 7), s.clientProof(2, b, a, 3, 7),
                s.clientProof(2, a, ClusterSecret.nonce(), 3, 7), s.clientProof(2, a, b, 4, 7), s.clientProof(2, a, b, 3, 8),
                s.serverProof(2, a, b, 3), ClusterSecret.generate().clientProof(2, a, b, 3, 7)}) {
            assertFalse(ClusterSecret.matches(base, other));
        }
        // the server's proof over (Nc, Ns) is not the client's proof over the same nonces: no reflection
        assertFalse(ClusterSecret.matches(s.serverProof(2, a, b, -1), s.clientProof(2, a, b, -1, 0)));
        assertThrows(IllegalArgumentException.class, () -> ClusterSecret.of(new byte[16]));
        assertThrows(IllegalArgumentException.class, () -> s.clientProof(2, new byte[8], b, 0, 0));
    }
}
