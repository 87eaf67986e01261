package io.dmtree.workloads.cli;

import io.dmtree.cn.control.ClusterAdmin;
import io.dmtree.cn.control.ControlException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code dmtree revoke ID}: revokes compute node ID's current incarnation ({@link ClusterAdmin#revoke}):
 * every memory node fences it before this command reports it done. Exit 0 when every memory node
 * fenced it within {@code --timeout}, 1 otherwise (with the memory nodes that did not).
 */
@Command(name = "revoke", mixinStandardHelpOptions = true,
        description = "Revoke a compute node: every memory node refuses its verbs before this returns.")
public final class RevokeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "ID", description = "the compute node's id")
    int computeNode;

    @Option(names = "--mn", required = true, paramLabel = "HOST:PORT", description = "memory node 0's control address")
    String memoryNode;

    @Option(names = "--secret", paramLabel = "FILE|none", description = "the cluster secret (memory node 0's secret= file)")
    String secret;

    @picocli.CommandLine.Mixin
    TlsFlags tls = new TlsFlags();

    @Option(names = "--timeout", defaultValue = "10000", paramLabel = "MS",
            description = "connections, and the wait for every memory node's fence, give up after this")
    int timeoutMillis;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        OptionChecks.inRange(spec, "--timeout", timeoutMillis, 100, 600_000);
        OptionChecks.inRange(spec, "ID", computeNode, 0, 4095);
        try (ClusterAdmin admin = ClusterAdmin.connect(MembersCommand.address(spec, memoryNode), timeoutMillis,
                tls.apply(spec, MembersCommand.secret(spec, secret)))) {
            ClusterAdmin.Revocation r = admin.revoke(computeNode, Duration.ofMillis(timeoutMillis));
            out.printf("revoked compute node %d epoch %d: fenced on memory nodes %s in %.1f ms%n", computeNode,
                    r.member().epoch(), r.fencedBy(), r.nanos() / 1e6);
            out.flush();
            return 0;
        } catch (ControlException e) {
            spec.commandLine().getErr().println("dmtree revoke: " + e.getMessage());
            return 1;
        }
    }
}
