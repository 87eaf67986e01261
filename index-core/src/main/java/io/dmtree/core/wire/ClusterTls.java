package io.dmtree.core.wire;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.Set;

/**
 * The TLS key material of a cluster member and the {@link SSLContext} made from it: every control,
 * tcp-verbs and CN-to-CN messaging connection then runs TLS 1.3 (the JDK's {@link SSLEngine}, see
 * {@link TlsSession}) with certificates checked both ways, and the cluster-secret handshake of
 * {@link ClusterSecret} runs inside it (TLS gives confidentiality and integrity of the frames; the
 * secret proves membership).
 *
 * <p><b>Key material.</b> A PKCS12 keystore with one private key and its certificate chain, and
 * the file holding its password (one line, readable by its owner only, as the cluster secret).
 * Trust comes from a truststore ({@code --tls-trust}, PKCS12, its trusted certificates are the
 * anchors, same password), or, without one, from the keystore itself: its own chain's last
 * certificate is the only anchor. So the simplest cluster shares one self-signed key pair that
 * every member holds and trusts (one {@code keytool -genkeypair}, see README); a cluster with a
 * certificate authority gives each member its own key pair signed by that authority, and every
 * member the authority's certificate as truststore.
 *
 * <p><b>What is checked.</b> Only TLS 1.3. Both sides present a certificate and both check the
 * other's chain against their anchors (the server needs client authentication). Host names are not
 * checked: members are reached by address, often by an address that no certificate names, and
 * the anchors are the cluster's own, trusted for nothing else. A peer without TLS, or with a
 * certificate the anchors do not vouch for, is refused with a {@link TlsException} that says so.
 */
public final class ClusterTls {
    public static final String PROTOCOL = "TLSv1.3";

    private final SSLContext context;
    private final String description;

    private ClusterTls(SSLContext context, String description) {
        this.context = context;
        this.description = description;
    }

    /**
     * Loads {@code keystore} (PKCS12) with the password in {@code passwordFile}, trusting the
     * certificates of {@code truststore} (null: the keystore's own chain); an
     * {@link IllegalArgumentException} says what is wrong with which file.
     */
    public static ClusterTls load(Path keystore, Path passwordFile, Path truststore) {
        char[] password = readPassword(passwordFile);
        KeyStore keys = open(keystore, password, "keystore");
        try {
            String keyAlias = null;
            for (String alias : Collections.list(keys.aliases())) {
                if (keys.isKeyEntry(alias)) {
                    if (keyAlias != null) {
                        throw new IllegalArgumentException("the TLS keystore " + keystore + " holds more than one private key ("
                                + keyAlias + ", " + alias + "): give each member a keystore with its own key only");
                    }
                    keyAlias = alias;
                }
            }
            if (keyAlias == null) {
                throw new IllegalArgumentException("the TLS keystore " + keystore + " holds no private key (make one with "
                        + "keytool -genkeypair -storetype PKCS12, see README)");
            }
            KeyStore anchors;
            if (truststore == null) {
                Certificate[] chain = keys.getCertificateChain(keyAlias);
                if (chain == null || chain.length == 0) {
                    throw new IllegalArgumentException("the private key " + keyAlias + " in " + keystore + " has no certificate");
                }
                anchors = KeyStore.getInstance("PKCS12");
                anchors.load(null, null);
                anchors.setCertificateEntry("cluster", chain[chain.length - 1]);
            } else {
                anchors = open(truststore, password, "truststore");
                boolean any = false;
                for (String alias : Collections.list(anchors.aliases())) {
                    any |= anchors.isCertificateEntry(alias);
                }
                if (!any) {
                    throw new IllegalArgumentException("the TLS truststore " + truststore + " holds no trusted certificate "
                            + "(keytool -importcert it)");
                }
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(anchors);
            SSLContext c = SSLContext.getInstance(PROTOCOL);
            c.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            Certificate own = keys.getCertificate(keyAlias);
            String subject = own instanceof X509Certificate x ? x.getSubjectX500Principal().getName() : keyAlias;
            return new ClusterTls(c, "TLS as " + subject + " (" + keystore.getFileName() + ", trusting "
                    + (truststore == null ? "its own certificate" : String.valueOf(truststore.getFileName())) + ")");
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot use the TLS keystore " + keystore + ": " + e.getMessage(), e);
        } finally {
            java.util.Arrays.fill(password, '\0');
        }
    }

    /**
     * The key material the command-line flags name ({@code --tls KEYSTORE --tls-password FILE
     * [--tls-trust TRUSTSTORE]}), or null when {@code keystore} is null; a flag without its
     * companions, or a cluster without a secret, is an {@link IllegalArgumentException} naming it.
     */
    public static ClusterTls fromFlags(String keystore, String passwordFile, String truststore, boolean hasSecret) {
        if (keystore == null || keystore.isBlank()) {
            if (passwordFile != null || truststore != null) {
                throw new IllegalArgumentException("--tls-password and --tls-trust need --tls KEYSTORE");
            }
            return null;
        }
        if (passwordFile == null || passwordFile.isBlank()) {
            throw new IllegalArgumentException("--tls needs --tls-password FILE (the keystore's password, in a file only "
                    + "its owner may read)");
        }
        if (!hasSecret) {
            throw new IllegalArgumentException("--tls needs the cluster secret (--secret FILE, not none): TLS keeps the "
                    + "frames secret, the secret proves membership inside it");
        }
        return load(Path.of(keystore.trim()).toAbsolutePath(), Path.of(passwordFile.trim()).toAbsolutePath(),
                truststore == null || truststore.isBlank() ? null : Path.of(truststore.trim()).toAbsolutePath());
    }

    private static KeyStore open(Path file, char[] password, String what) {
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password);
            return ks;
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("the TLS " + what + " " + file + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the TLS " + what + " " + file + " as PKCS12 with the password "
                    + "given (" + e.getMessage() + ")");
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the TLS " + what + " " + file + ": " + e.getMessage());
        }
    }

    /** The first line of {@code file}, which only its owner may read. */
    private static char[] readPassword(Path file) {
        try {
            PosixFileAttributeView v = Files.getFileAttributeView(file, PosixFileAttributeView.class);
            if (v != null) {
                Set<PosixFilePermission> p = v.readAttributes().permissions();
                if (p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ)) {
                    throw new IllegalArgumentException("the TLS password file " + file + " may be read by others ("
                            + PosixFilePermissions.toString(p) + "): chmod 600 it");
                }
            }
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int nl = text.indexOf('\n');
            String line = (nl < 0 ? text : text.substring(0, nl)).strip();
            if (line.isEmpty()) {
                throw new IllegalArgumentException("the TLS password file " + file + " is empty");
            }
            return line.toCharArray();
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("the TLS password file " + file + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the TLS password file " + file + ": " + e.getMessage());
        }
    }

    /** An engine for the server side of a connection: TLS 1.3 only, the client's certificate required. */
    public SSLEngine serverEngine() {
        SSLEngine e = context.createSSLEngine();
        e.setUseClientMode(false);
        SSLParameters p = e.getSSLParameters();
        p.setProtocols(new String[]{PROTOCOL});
        p.setNeedClientAuth(true);
        e.setSSLParameters(p);
        return e;
    }

    /** An engine for the client side of a connection to {@code host:port}: TLS 1.3 only. */
    public SSLEngine clientEngine(String host, int port) {
        SSLEngine e = context.createSSLEngine(host, port);
        e.setUseClientMode(true);
        SSLParameters p = e.getSSLParameters();
        p.setProtocols(new String[]{PROTOCOL});
        e.setSSLParameters(p);
        return e;
    }

    @Override
    public String toString() {
        return description;
    }
}
