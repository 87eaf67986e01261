package io.dmtree.workloads.cli;

import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ClusterTls;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The TLS flags of the commands that connect to a cluster as operators ({@code dmtree members},
 * {@code dmtree revoke}): the same as {@code dmtree cn}'s, see {@link ClusterTls}.
 */
public final class TlsFlags {
    @Option(names = "--tls", paramLabel = "KEYSTORE", description = "the cluster's TLS keystore (PKCS12), when it runs TLS")
    String keystore;

    @Option(names = "--tls-password", paramLabel = "FILE", description = "the --tls keystore's password file")
    String password;

    @Option(names = "--tls-trust", paramLabel = "TRUSTSTORE", description = "TLS anchors (default: the keystore's own certificate)")
    String trust;

    /** {@code secret} carrying the key material the flags name (unchanged without {@code --tls}). */
    ClusterSecret apply(CommandSpec spec, ClusterSecret secret) {
        try {
            ClusterTls t = ClusterTls.fromFlags(keystore, password, trust, secret != null);
            return t == null ? secret : secret.withTls(t);
        } catch (IllegalArgumentException e) {
            throw OptionChecks.usage(spec, e.getMessage());
        }
    }
}
