package io.dmtree.core.wire;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * The secret every member of a cluster holds: {@link #KEY_BYTES} random bytes. Nobody ever sends
 * it; a peer proves it holds it by a challenge-response on the first frames of every connection
 * (control, tcp verbs, CN-to-CN messaging, see {@link HelloFrame} and {@link AuthFrame}):
 *
 * <pre>
 *   client                                                 server
 *   HELLO  client nonce Nc (fresh, 32 bytes)        ----&gt;
 *                                                  &lt;----  HELLO reply: server nonce Ns (fresh),
 *                                                         server proof = HMAC(K, "dmtree-server-v1" | service | Nc | Ns | node id | 0)
 *   checks the server proof (the server is real)
 *   AUTH   client proof = HMAC(K, "dmtree-client-v1" | service | Ns | Nc | compute node | epoch)  ----&gt;
 *                                                         checks it; AUTH reply, or an error
 *                                                         {@link ErrorCode#AUTHENTICATION} and a close
 * </pre>
 *
 * HMAC is HMAC-SHA256. The two labels differ, so a proof of one direction is never one of the
 * other (a server cannot be made to answer its own challenge); the server nonce is fresh per
 * connection, so a client proof recorded on one connection proves nothing on another (replay);
 * the proof covers the service and the incarnation the HELLO named, so neither can be changed
 * after the fact. Proofs are compared in constant time. What this does not give: secrecy or
 * integrity of the frames after the handshake (an on-path attacker who can rewrite a connection
 * can still do so); that needs TLS.
 *
 * <p>On disk a secret is one line of {@link #KEY_BYTES} bytes in hex in a file only its owner may
 * read ({@code rw-------}); {@link #load} refuses a file others can read, as ssh refuses a
 * private key.
 */
public final class ClusterSecret {
    public static final int KEY_BYTES = 32;
    public static final int NONCE_BYTES = 32;
    public static final int PROOF_BYTES = 32;
    private static final String ALGORITHM = "HmacSHA256";
    private static final byte[] SERVER_LABEL = "dmtree-server-v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLIENT_LABEL = "dmtree-client-v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;
    private final String fingerprint;
    /** The TLS key material connections run under, or null: plaintext frames (see {@link ClusterTls}). */
    private final ClusterTls tls;

    private ClusterSecret(byte[] key) {
        this(key, null);
    }

    private ClusterSecret(byte[] key, ClusterTls tls) {
        this.tls = tls;
        if (key.length != KEY_BYTES) {
            throw new IllegalArgumentException("a cluster secret has " + KEY_BYTES + " bytes, not " + key.length);
        }
        this.key = new SecretKeySpec(key.clone(), ALGORITHM);
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(key);
            this.fingerprint = HexFormat.of().formatHex(d, 0, 4);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    /** A fresh random secret. */
    public static ClusterSecret generate() {
        byte[] k = new byte[KEY_BYTES];
        RANDOM.nextBytes(k);
        return new ClusterSecret(k);
    }

    /** The secret with these key bytes (tests, and secrets handed over in memory). */
    public static ClusterSecret of(byte[] key) {
        return new ClusterSecret(key);
    }

    /** A fresh nonce. */
    public static byte[] nonce() {
        byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    /**
     * Reads the secret in {@code file}; an {@link IllegalArgumentException} says what is wrong
     * (missing, unreadable, readable by others, not a secret).
     */
    public static ClusterSecret load(Path file) {
        String text;
        try {
            checkOwnerOnly(file);
            text = Files.readString(file, StandardCharsets.US_ASCII).trim();
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("the cluster secret file " + file + " does not exist (memory node 0 writes "
                    + "it when it starts; give its path)");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the cluster secret file " + file + ": " + e.getMessage());
        }
        byte[] k;
        try {
            k = HexFormat.of().parseHex(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the file " + file + " is not a cluster secret (" + 2 * KEY_BYTES
                    + " hex digits)");
        }
        if (k.length != KEY_BYTES) {
            throw new IllegalArgumentException("the file " + file + " is not a cluster secret (" + 2 * KEY_BYTES
                    + " hex digits, it has " + text.length() + " characters)");
        }
        return new ClusterSecret(k);
    }

    /**
     * Writes this secret into a new file {@code file}, readable and writable by its owner only
     * (created so: there is no moment at which others may read it). Refuses an existing file.
     */
    public void store(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        byte[] text = (HexFormat.of().formatHex(key.getEncoded()) + "\n").getBytes(StandardCharsets.US_ASCII);
        boolean posix = Files.getFileAttributeView(dir == null ? Path.of(".") : dir, PosixFileAttributeView.class) != null;
        if (posix) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(file);
        }
        Files.write(file, text, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    /**
     * The secret in {@code file}, or, when there is no such file, a fresh one written there; used by
     * memory node 0, which thereby keeps its secret across restarts.
     *
     * @return the secret and whether this call created the file
     */
    public static Loaded loadOrGenerate(Path file) {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            ClusterSecret s = generate();
            try {
                s.store(file);
                return new Loaded(s, true);
            } catch (FileAlreadyExistsException raced) {
                // another process wrote it first: read theirs
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot write the cluster secret file " + file + ": " + e.getMessage());
            }
        }
        return new Loaded(load(file), false);
    }

    /** A secret read or made by {@link #loadOrGenerate}. */
    public record Loaded(ClusterSecret secret, boolean created) {
    }

    private static void checkOwnerOnly(Path file) throws IOException {
        PosixFileAttributeView v = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        if (v == null) {
            return;
        }
        Set<PosixFilePermission> p = v.readAttributes().permissions();
        for (PosixFilePermission bad : new PosixFilePermission[]{PosixFilePermission.GROUP_READ,
                PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE}) {
            if (p.contains(bad)) {
                throw new IllegalArgumentException("the cluster secret file " + file + " may be read or written by others ("
                        + PosixFilePermissions.toString(p) + "): chmod 600 it");
            }
        }
    }

    /** The server's proof for a connection: see the class comment. */
    public byte[] serverProof(int service, byte[] clientNonce, byte[] serverNonce, int nodeId) {
        return proof(SERVER_LABEL, service, clientNonce, serverNonce, nodeId, 0);
    }

    /** The client's proof for a connection: see the class comment. */
    public byte[] clientProof(int service, byte[] serverNonce, byte[] clientNonce, int computeNode, long epoch) {
        return proof(CLIENT_LABEL, service, serverNonce, clientNonce, computeNode, epoch);
    }

    /** Whether {@code proof} equals {@code expected}, in time independent of where they differ. */
    public static boolean matches(byte[] expected, byte[] proof) {
        return MessageDigest.isEqual(expected, proof);
    }

    private byte[] proof(byte[] label, int service, byte[] first, byte[] second, int id, long epoch) {
        if (first.length != NONCE_BYTES || second.length != NONCE_BYTES) {
            throw new IllegalArgumentException("nonces have " + NONCE_BYTES + " bytes");
        }
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            mac.update(label);
            mac.update((byte) service);
            mac.update(first);
            mac.update(second);
            byte[] tail = new byte[12];
            java.nio.ByteBuffer.wrap(tail).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(id).putLong(epoch);
            mac.update(tail);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no " + ALGORITHM, e);
        }
    }

    /**
     * A password for {@code purpose} derived from the secret (HMAC over a label and the purpose, in
     * hex), for services that want one sent to them, such as ZooKeeper's digest scheme: whoever
     * learns it learns nothing of the secret or of another purpose's password.
     */
    public String derivedPassword(String purpose) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            mac.update("dmtree-derived-v1:".getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(mac.doFinal(purpose.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no " + ALGORITHM, e);
        }
    }

    /**
     * This secret, proved inside TLS with {@code tls} (null: without TLS) on every connection made
     * or served with it: the secret proves membership, TLS keeps the frames secret and whole.
     */
    public ClusterSecret withTls(ClusterTls tls) {
        return new ClusterSecret(key.getEncoded(), tls);
    }

    /** The TLS key material connections made or served with this secret run under, or null: none. */
    public ClusterTls tls() {
        return tls;
    }

    /** The first 4 bytes of the key's SHA-256, in hex: tells secrets apart in messages without revealing them. */
    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public String toString() {
        return "cluster secret " + fingerprint + (tls == null ? "" : " with " + tls);
    }
}
