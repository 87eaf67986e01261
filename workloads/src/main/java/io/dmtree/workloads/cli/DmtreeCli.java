package io.dmtree.workloads.cli;

import io.dmtree.workloads.mnload.MemoryNodeLoadCommand;
import io.dmtree.workloads.netbench.NetBenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

/**
 * The {@code dmtree} command line. Each subcommand is one class listed in {@code subcommands}
 * below; adding a subcommand is adding its class there.
 *
 * <p>Exit codes: 0 success; 1 the command ran and failed (one line on stderr, no stack trace
 * unless {@code DMTREE_DEBUG} is set); 2 bad usage (message and usage on stderr).
 */
@Command(name = "dmtree", mixinStandardHelpOptions = true, version = "dmtree 0.1.0",
        description = "A disaggregated-memory B+-tree index: benchmarks, checks and node launchers.",
        subcommands = {
                CommandLine.HelpCommand.class,
                YcsbCommand.class,
                CheckCommand.class,
                OperationCostCommand.class,
                io.dmtree.mn.MemoryNodeCommand.class,
                ComputeNodeCommand.class,
                MembersCommand.class,
                RevokeCommand.class,
                io.dmtree.workloads.lockbench.LockBenchCommand.class,
                NetBenchCommand.class,
                MemoryNodeLoadCommand.class,
                CrashSweepCommand.class,
                HistoryCommand.class,
                io.dmtree.workloads.reproduce.ReproduceCommand.class,
                io.dmtree.workloads.protection.ProtectionCommand.class,
                io.dmtree.workloads.replica.ReplicaBenchCommand.class,
                io.dmtree.workloads.crashrounds.CrashRoundsCommand.class,
                ReclaimBenchCommand.class,
        })
public final class DmtreeCli implements Runnable {
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing subcommand");
    }

    /** The configured command line; {@code execute(args)} returns the exit code. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new DmtreeCli());
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            PrintWriter err = cmd.getErr();
            err.println(cmd.getCommandSpec().qualifiedName() + ": error: " + describe(ex));
            if (System.getenv("DMTREE_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            err.flush();
            return EXIT_FAILED;
        });
        cl.setParameterExceptionHandler((ex, args) -> { // the message, any "did you mean", and always the usage
            CommandLine c = ex.getCommandLine();
            PrintWriter err = c.getErr();
            err.println(ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
            c.usage(err, c.getColorScheme());
            err.flush();
            return c.getCommandSpec().exitCodeOnInvalidInput();
        });
        return cl;
    }

    /** The message of {@code ex}, or of the first cause that has one, or its class name. */
    static String describe(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getMessage();
            }
        }
        return ex.getClass().getSimpleName();
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
