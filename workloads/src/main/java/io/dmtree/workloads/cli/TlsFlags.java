package io.dmtree.workloads.cli;

import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ClusterTls;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The TLS flags of every command that connects to a cluster ({@code dmtree cn}, {@code dmtree
 * members}, {@code dmtree revoke}), see {@link ClusterTls}.
 */
public final class TlsFlags {
    @Option(names = "--tls", paramLabel = "KEYSTORE",
            description = "Run every connection to memory nodes and peers, tcp-verbs and messaging connection in TLS 1.3 with "
                    + "this PKCS12 keystore (one private key and its certificate; peers must present a certificate it trusts: "
                    + "by default its own, so members sharing one self-signed cluster key pair trust each other). Needs "
                    + "--tls-password and the cluster secret. shm and local need none; rdma has no TLS.")
    String keystore;

    @Option(names = "--tls-password", paramLabel = "FILE",
            description = "The file holding the --tls keystore's password (first line; readable by its owner only).")
    String password;

    @Option(names = "--tls-trust", paramLabel = "TRUSTSTORE",
            description = "A PKCS12 truststore (same password) whose certificates are the only TLS anchors, e.g. the "
                    + "cluster's certificate authority; default: the --tls keystore's own certificate.")
    String trust;

    /**
     * {@code secret} carrying the key material the flags name (unchanged without {@code --tls});
     * TLS without a secret is refused as a usage error.
     */
    ClusterSecret apply(CommandSpec spec, ClusterSecret secret) {
        try {
            ClusterTls t = ClusterTls.fromFlags(keystore, password, trust, secret != null);
            return t == null ? secret : secret.withTls(t);
        } catch (IllegalArgumentException e) {
            throw OptionChecks.usage(spec, e.getMessage());
        }
    }
}
