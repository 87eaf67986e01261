package io.dmtree.workloads.cli;

import io.dmtree.cn.crash.CrashScenario;
import io.dmtree.cn.crash.CrashSweep;
import io.dmtree.cn.crash.CrashSweepResult;
import io.dmtree.lock.LockDesigns;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.security.SecureRandom;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code dmtree crashsweep}: the in-process crash-point sweep of tree writes, with recovery and checks. */
@Command(name = "crashsweep", sortOptions = false, mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {
                "Crashes a compute node at every request of tree writes, recovers, and checks the tree and its history.",
                "For inserts, updates, deletes, leaf splits, internal splits and root growths, with every lock design,"
                        + " stops a compute node after each of its requests (each verb and each request of a batch, and each"
                        + " WRITE torn across its cache lines) and while it is queued behind another compute node's hold;"
                        + " fences it, reports it departed, repairs nodes for it, runs the lock design's own recovery from a"
                        + " live compute node, takes every lock it touched from a live compute node, completes its splits,"
                        + " runs the tree checker, compares the index with the acknowledged history (the crashed operation"
                        + " wholly visible or wholly absent), and runs further operations from a fresh compute node."
                        + " Prints the trials run and the failures found; exits 1 when any trial failed."})
public final class CrashSweepCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--trials", defaultValue = "100000", description = "trials to run")
    long trials;

    @Option(names = "--lock", split = ",", paramLabel = "NAME", description = "lock designs, or all (default: all)")
    List<String> locks;

    @Option(names = "--mns", split = ",", defaultValue = "1,2", paramLabel = "N", description = "memory-node counts, 1..4")
    List<Integer> memoryNodes;

    @Option(names = "--no-torn", description = "crash only between requests, never inside a torn WRITE")
    boolean noTorn;

    @Option(names = "--no-queued", description = "never crash while queued behind another compute node's hold")
    boolean noQueued;

    @Option(names = "--history", defaultValue = "500", description = "operations per generated history, 20..5000")
    int historyOps;

    @Option(names = "--repair", defaultValue = "full", paramLabel = "full|nodes-only|none|no-locks|no-reclaim",
            description = "recovery steps to run (less than full shows what the checks catch)")
    String repair;

    @Option(names = "--bound-ms", defaultValue = "" + CrashSweep.DEFAULT_BOUND_MILLIS, paramLabel = "MS",
            description = "time bound of each step of a trial that can block (a lock wait, a recovery)")
    long boundMillis;

    @Option(names = "--seed", description = "seed (default: drawn at random and printed)")
    Long seed;

    @Override
    public Integer call() {
        OptionChecks.inRange(spec, "--trials", trials, 1, 1_000_000_000L);
        OptionChecks.inRange(spec, "--history", historyOps, 20, 5000);
        List<String> designs = locks == null || locks.equals(List.of("all")) ? LockDesigns.names() : locks;
        for (String lock : designs) {
            if (!LockDesigns.names().contains(lock)) {
                throw OptionChecks.usage(spec, "unknown lock design '" + lock + "'; known: " + String.join(", ", LockDesigns.names()));
            }
        }
        for (int m : memoryNodes) {
            OptionChecks.inRange(spec, "--mns", m, 1, 4);
        }
        CrashSweep.Repair steps = switch (repair) {
            case "full" -> CrashSweep.Repair.FULL;
            case "nodes-only" -> CrashSweep.Repair.NODES_ONLY;
            case "none" -> CrashSweep.Repair.NONE;
            case "no-locks" -> CrashSweep.Repair.NO_LOCK_RECOVERY;
            case "no-reclaim" -> CrashSweep.Repair.NO_MEMORY_RECLAIM;
            default -> throw OptionChecks.usage(spec, "--repair must be full, nodes-only, none, no-locks or no-reclaim: "
                    + repair);
        };
        OptionChecks.inRange(spec, "--bound-ms", boundMillis, 10, 600_000);
        long s = seed != null ? seed : new SecureRandom().nextLong();
        CrashSweep.Settings settings = new CrashSweep.Settings(s, trials, designs, memoryNodes, !noTorn, !noQueued, steps,
                historyOps, boundMillis);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "dmtree crashsweep: seed %d, %,d trials, locks %s, memory nodes %s, torn WRITEs %s,"
                        + " queued crashes %s, recovery %s, step bound %d ms%n",
                s, trials, String.join(", ", designs), memoryNodes, noTorn ? "off" : "on", noQueued ? "off" : "on", repair,
                boundMillis);
        out.println("  per trial: crash, fence, departure, node repair, the design's lock recovery from a live compute node,"
                + " every touched lock taken by a live compute node, split completion, checker, history");
        out.flush();
        CrashSweepResult r = CrashSweep.run(settings, out);
        out.println();
        out.printf(Locale.ROOT, "%-16s %12s %18s %14s%n", "scenario", "trials", "torn-WRITE trials", "queued trials");
        for (Map.Entry<CrashScenario, long[]> e : r.trialsByScenario().entrySet()) {
            out.printf(Locale.ROOT, "%-16s %,12d %,18d %,14d%n", e.getKey().label(), e.getValue()[0], e.getValue()[1],
                    e.getValue()[2]);
        }
        out.println();
        out.printf(Locale.ROOT, "%-16s %12s%n", "lock design", "trials");
        for (Map.Entry<String, Long> e : r.trialsByDesign().entrySet()) {
            out.printf(Locale.ROOT, "%-16s %,12d%n", e.getKey(), e.getValue());
        }
        out.println();
        out.printf(Locale.ROOT, "trials run:     %,d%n", r.trials());
        out.printf(Locale.ROOT, "rounds:         %,d (a fresh history per design and memory-node count each; the first"
                + " round's cells hold %,d trials)%n", r.rounds(), r.firstRoundTrials());
        out.printf(Locale.ROOT, "failures found: %,d%n", r.failures());
        out.printf(Locale.ROOT, "recovery: %,d write-backs replayed, %,d torn redo records discarded, %,d split and merge"
                        + " intents completed, %,d merges finished by node repair; the crashed operation ended up visible in"
                        + " %,d trials, absent in %,d%n",
                r.replayed(), r.discarded(), r.intents(), r.mergesFinished(), r.visible(), r.trials() - r.failures() - r.visible());
        out.printf(Locale.ROOT, "lock recovery: %,d holds released, %,d queued requests removed, %,d locks reset, %.1f s in"
                        + " all; %,d locks the stopped compute node touched then taken by a live one%n",
                r.holdsReleased(), r.waitsRemoved(), r.locksReset(), r.lockRecoveryNanos() / 1e9, r.locksTaken());
        out.printf(Locale.ROOT, "elapsed: %.1f s (%.2f ms per trial)%n", r.elapsedNanos() / 1e9, r.elapsedNanos() / 1e6 / r.trials());
        for (String f : r.firstFailures()) {
            out.println("  FAILED: " + f);
        }
        out.println(r.passed() ? "OK" : "BROKEN (seed " + s + ")");
        out.flush();
        return r.passed() ? 0 : DmtreeCli.EXIT_FAILED;
    }
}
