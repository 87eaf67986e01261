package io.dmtree.workloads.cli;

import io.dmtree.cn.control.ClusterAdmin;
import io.dmtree.cn.control.ControlException;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.HostPort;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code dmtree members}: lists a running cluster's members (memory nodes, then compute nodes)
 * with their epochs, lease length, state (live, fenced on which memory nodes, departed awaiting
 * recovery) and, for compute nodes, their rights on memory node 0's region. Exit 0, or 1 with one
 * line when the cluster cannot be reached or has no membership.
 */
@Command(name = "members", mixinStandardHelpOptions = true,
        description = "List a cluster's members with their epochs, leases, states and rights.")
public final class MembersCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--mn", required = true, paramLabel = "HOST:PORT", description = "memory node 0's control address")
    String memoryNode;

    @Option(names = "--secret", paramLabel = "FILE|none", description = "the cluster secret (memory node 0's secret= file)")
    String secret;

    @picocli.CommandLine.Mixin
    TlsFlags tls = new TlsFlags();

    @Option(names = "--timeout", defaultValue = "10000", paramLabel = "MS", description = "connections give up after this")
    int timeoutMillis;

    static ClusterSecret secret(CommandSpec spec, String secret) {
        if (secret == null || secret.trim().equalsIgnoreCase("none")) {
            return null;
        }
        try {
            return ClusterSecret.load(Path.of(secret.trim()));
        } catch (IllegalArgumentException e) {
            throw OptionChecks.usage(spec, "--secret: " + e.getMessage());
        }
    }

    static InetSocketAddress address(CommandSpec spec, String memoryNode) {
        try {
            return HostPort.parse("--mn", memoryNode.trim());
        } catch (IllegalArgumentException e) {
            throw OptionChecks.usage(spec, e.getMessage());
        }
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        OptionChecks.inRange(spec, "--timeout", timeoutMillis, 100, 600_000);
        try (ClusterAdmin admin = ClusterAdmin.connect(address(spec, memoryNode), timeoutMillis, tls.apply(spec, secret(spec, secret)))) {
            out.printf("%-13s %4s %8s %9s  %s%n", "member", "id", "epoch", "lease", "state");
            for (ClusterAdmin.MemberInfo m : admin.members()) {
                out.printf("%-13s %4d %8d %7dms  %s%n", m.member().kind().noun(), m.member().id().id(), m.member().epoch(), m.lease().toMillis(), m.state());
                if (!m.rights().equals("-")) {
                    out.println("    rights: " + m.rights());
                }
            }
            out.flush();
            return 0;
        } catch (ControlException e) {
            spec.commandLine().getErr().println("dmtree members: " + e.getMessage());
            return 1;
        }
    }
}
