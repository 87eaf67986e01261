package io.dmtree.workloads.reproduce;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code dmtree reproduce NAME}: one command per claim of the papers the design comes from, each
 * printing our figure beside the paper's, writing JSON and a PNG chart. Figures come from the
 * modelled memory-node NIC ({@link io.dmtree.core.nic.NicModel}) and say so, except patronus's,
 * which are measured over tcp on loopback and say so.
 */
@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = {"Reproduce a claim of the papers (lock-modularization, alock: modelled NIC; patronus: measured over tcp)."},
        subcommands = {LockModularizationCommand.class, ALockCommand.class, PatronusCommand.class})
public final class ReproduceCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "name a claim: lock-modularization, alock or patronus");
    }
}
