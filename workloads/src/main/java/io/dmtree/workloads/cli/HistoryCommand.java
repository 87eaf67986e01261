package io.dmtree.workloads.cli;

import io.dmtree.cn.history.HistoryCheck;
import io.dmtree.cn.history.HistoryFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code dmtree history FILE...}: checks the acknowledged histories the compute nodes of one
 * checked round wrote ({@code dmtree cn --checked-ops N --history FILE}): every key linearizable,
 * the locked counters within the increments acknowledged and in flight, and nothing a fenced
 * compute node invoked after its fence visible. Exit 0 when they pass, 1 when they do not.
 */
@Command(name = "history", mixinStandardHelpOptions = true,
        description = "Check the acknowledged histories of a checked round (dmtree cn --checked-ops ... --history FILE).")
public final class HistoryCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "history files, one per compute node of the round")
    List<Path> files;

    @Option(names = "--no-effect-after", paramLabel = "CN=NANOS",
            description = "compute node CN was fenced before System.nanoTime() NANOS of this host: nothing it invoked after"
                    + " may be visible (repeatable)")
    List<String> fences = new ArrayList<>();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<HistoryFile> read = new ArrayList<>();
        for (Path f : files) {
            try {
                read.add(HistoryFile.read(f));
            } catch (IOException | RuntimeException e) {
                throw OptionChecks.usage(spec, "cannot read " + f + ": " + e.getMessage());
            }
        }
        HistoryCheck check = new HistoryCheck(read);
        for (String f : fences) {
            String[] kv = f.split("=", 2);
            try {
                check.noEffectAfter(Integer.parseInt(kv[0].trim()), Long.parseLong(kv[1].trim()));
            } catch (RuntimeException e) {
                throw OptionChecks.usage(spec, "--no-effect-after takes CN=NANOS: " + f);
            }
        }
        HistoryCheck.Result r = check.run();
        out.println("history: " + r.summary());
        for (String v : r.violations().subList(0, Math.min(20, r.violations().size()))) {
            out.println("  " + v);
        }
        if (r.violations().size() > 20) {
            out.println("  ... and " + (r.violations().size() - 20) + " more");
        }
        out.flush();
        return r.ok() ? 0 : 1;
    }
}
