package io.dmtree.workloads.protection;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code dmtree protection NAME}: benchmarks of the protection's reaction times, each printing a
 * distribution over many trials (measured, on this host): {@code illegal-access} (from a refused
 * verb to the member's next successful verb) and {@code revocation} (from {@code revoke} to every
 * memory node refusing the member).
 */
@Command(name = "protection", mixinStandardHelpOptions = true,
        description = {"Benchmarks of the protection: illegal-access (refused verb -> next successful verb),"
                + " revocation (revoke -> refused on every memory node)."},
        subcommands = {IllegalAccessCommand.class, RevocationTimeCommand.class})
public final class ProtectionCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a benchmark: illegal-access or revocation");
    }
}
