package io.dmtree.cn.carrier.tcp;

import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ClusterTls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A cluster's TLS key material for tests, made as README tells an operator to: one self-signed EC
 * key pair in a PKCS12 keystore by the JDK's keytool, and a password file readable by its owner.
 */
public final class TlsMaterial {
    private TlsMaterial() {
    }

    /** Keystore {@code dir/NAME.p12} and password file {@code dir/NAME.pass}; returns the keystore. */
    public static Path make(Path dir, String name) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path pass = dir.resolve(name + ".pass");
        Path store = dir.resolve(name + ".p12");
        String password = "pw-" + name + "-" + Long.toHexString(System.nanoTime());
        Files.writeString(pass, password + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(List.of(keytool.toString(), "-genkeypair", "-alias", "cluster", "-keyalg", "EC",
                "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", password, "-dname", "CN=dmtree " + name))
                .redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("keytool failed: " + new String(out, StandardCharsets.UTF_8));
        }
        return store;
    }

    /** The password file beside a keystore {@link #make} wrote. */
    public static Path password(Path store) {
        String n = store.getFileName().toString();
        return store.resolveSibling(n.substring(0, n.length() - ".p12".length()) + ".pass");
    }

    /** A fresh secret carrying the key material of {@code store}. */
    public static ClusterSecret secretWith(Path store) {
        return ClusterSecret.generate().withTls(ClusterTls.load(store, password(store), null));
    }
}
