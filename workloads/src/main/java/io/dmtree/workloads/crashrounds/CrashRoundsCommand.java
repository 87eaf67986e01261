package io.dmtree.workloads.crashrounds;

import io.dmtree.cn.history.HistoryCheck;
import io.dmtree.cn.history.HistoryFile;
import io.dmtree.lock.LockDesigns;
import io.dmtree.mn.MemoryNodeCommand;
import io.dmtree.workloads.cli.DmtreeCli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code dmtree crashrounds}: crash rounds with real processes, in the style of CXL-SHM's crash
 * tests. Each batch starts one memory-node process (tcp, ZooKeeper membership, 2 s leases) whose
 * region lives through the batch's rounds. Each round, three new compute-node processes join (the
 * slots the last round's processes held, the killed one's once it is recovered), insert, update
 * and delete under a checked round, and one of them, chosen at random, is SIGKILLed at a random
 * moment; the two others finish, wait for every outstanding recovery (the victim's memory
 * reclamation included) and run the tree checker. A round passes when both survivors exit 0, the
 * tree is sound, the region accounting leaks 0 bytes and the round's acknowledged history is
 * linearizable. A failed round is reported with its batch seed and the batch continues on a fresh
 * memory node. Prints rounds run, leaks found and failures; exits 1 when any round failed.
 */
@Command(name = "crashrounds", sortOptions = false, mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {
                "Crash rounds with real processes: per round three compute-node processes insert and delete, one is"
                        + " SIGKILLed at a random moment and recovered by the others, then the tree checker must pass with"
                        + " 0 leaked bytes and the round's history must be linearizable.",
                "The full run is --batches 10 --rounds 1000 (each batch on a fresh memory node); --short runs 2 x 2."})
public final class CrashRoundsCommand implements Callable<Integer> {
    /** A round's outcome text when it never reached its kill (a start-up failure, not a crash round). */
    private static final String ABORTED = "aborted: ";
    /** Start-up failures tolerated in one command before it gives up. */
    private static final int MAX_ABORTS = 20;
    private static final Pattern LEAKED = Pattern.compile("leaked (\\d+)");

    @Spec
    CommandSpec spec;

    @Option(names = "--batches", defaultValue = "10", description = "batches, each on a fresh memory-node process")
    int batches;

    @Option(names = "--rounds", defaultValue = "1000", description = "rounds per batch")
    int rounds;

    @Option(names = "--short", description = "a quick run: 2 batches of 2 rounds (overrides --batches and --rounds)")
    boolean quick;

    @Option(names = "--time-limit", defaultValue = "0", paramLabel = "SECONDS",
            description = "start no round after this many seconds (0: no limit); the figures say how many ran")
    long timeLimitSeconds;

    @Option(names = "--seed", description = "seed of the victims and kill moments (default: random, printed)")
    Long seed;

    @Option(names = "--lock", defaultValue = "modular", paramLabel = "NAME", description = "lock design of the compute nodes")
    String lock;

    @Option(names = "--ops", defaultValue = "400", description = "checked operations per compute node and round")
    int ops;

    @Option(names = "--keys", defaultValue = "300", description = "keys of the checked operations")
    int keys;

    @Option(names = "--lease", defaultValue = "2s", paramLabel = "DURATION",
            description = "the cluster's lease (a loaded host lapses 2 s leases during process start-up)")
    String lease;

    @Option(names = "--max-kill-delay-ms", defaultValue = "400", description = "the kill comes 0..this after the round starts")
    int maxKillDelayMillis;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (quick) {
            batches = 2;
            rounds = 2;
        }
        if (batches < 1 || rounds < 1 || ops < 1 || keys < 1 || maxKillDelayMillis < 0 || timeLimitSeconds < 0) {
            throw new ParameterException(spec.commandLine(), "--batches, --rounds, --ops and --keys must be at least 1,"
                    + " --max-kill-delay-ms and --time-limit at least 0");
        }
        LockDesigns.byName(lock); // a clear error for an unknown design
        long base = seed != null ? seed : new java.security.SecureRandom().nextLong();
        out.printf(Locale.ROOT, "crash rounds: %d batch(es) x %d rounds, lock %s, seed %d (replay the victims and kill"
                + " moments with --seed %d)%n", batches, rounds, lock, base, base);
        out.flush();
        long deadline = timeLimitSeconds == 0 ? Long.MAX_VALUE : System.nanoTime() + timeLimitSeconds * 1_000_000_000L;
        Path dir = Files.createTempDirectory("dmtree-crashrounds");
        Tally tally = new Tally();
        long started = System.nanoTime();
        try {
            for (int b = 0; b < batches && System.nanoTime() < deadline && tally.aborted <= MAX_ABORTS; b++) {
                SplittableRandom random = new SplittableRandom(base + b);
                int next = 0;
                for (int life = 0; next < rounds && System.nanoTime() < deadline && tally.aborted <= MAX_ABORTS; life++) {
                    next = runBatch(out, dir, b, life, next, base + b, random, deadline, tally);
                }
            }
        } finally {
            if (tally.failures.isEmpty()) {
                deleteTree(dir);
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        out.printf(Locale.ROOT, "crash rounds: %,d run of %,d asked (%d batch(es) x %d), %,d killed mid-round, leaks found: %d"
                        + " round(s) (%,d bytes), failures: %d, aborted before the kill: %d, %.0f s (%.1f s per round)%n",
                tally.run, (long) batches * rounds, batches, rounds, tally.killedMidRound, tally.leakyRounds, tally.leakedBytes,
                tally.failures.size(), tally.aborted, seconds,
                tally.run == 0 ? 0.0 : seconds / tally.run);
        for (String f : tally.failures) {
            out.println("  FAILED " + f);
        }
        if (!tally.failures.isEmpty()) {
            out.println("  the processes' output of each failed round is in " + dir);
        }
        if (tally.aborted > MAX_ABORTS) {
            out.println("  gave up: " + tally.aborted + " rounds could not start (lease lapses under load? try --lease 10s)");
        }
        out.flush();
        return tally.failures.isEmpty() && tally.aborted <= MAX_ABORTS ? 0 : 1;
    }

    private static final class Tally {
        long run;
        long killedMidRound;
        long leakyRounds;
        long leakedBytes;
        long aborted;
        final List<String> failures = new ArrayList<>();
    }

    /**
     * Runs rounds {@code from..} of batch {@code batch} on a fresh memory node (its {@code life}-th
     * of the batch) until the batch is done, the time is up, or a round fails or aborts (then the
     * rest goes on a fresh memory node, this region's state being suspect); returns the next round.
     */
    private int runBatch(PrintWriter out, Path dir, int batch, int life, int from, long batchSeed, SplittableRandom random,
                         long deadline, Tally tally) throws Exception {
        Path batchDir = Files.createDirectories(dir.resolve("batch" + batch + "-" + life));
        try (RoundProcess mn = RoundProcess.start("mn0", MemoryNodeCommand.class.getName(), List.of("--id", "0",
                "--listen", "127.0.0.1:0", "--zk-listen", "127.0.0.1:0", "--lease", lease, "--memory", "96M", "--chunk", "256K",
                "--lock-table", "256K", "--transport", "tcp", "--dir", batchDir.toString()))) {
            String ready = mn.awaitLine(" ready", 90);
            if (ready == null) {
                fail(tally, dir, batch, from, batchSeed, "the memory node did not start", mn.output());
                return from + 1;
            }
            String address = field(ready, "address");
            String secret = ready.contains(" secret=") ? field(ready, "secret") : null;
            for (int round = from; round < rounds && System.nanoTime() < deadline; round++) {
                String failure = round(out, batchDir, batch, round, random, address, secret, tally);
                if (failure != null && failure.startsWith(ABORTED)) {
                    // no kill happened: not a round; the slots' leases may have lapsed, so start afresh
                    tally.aborted++;
                    out.printf(Locale.ROOT, "batch %d round %d aborted before the kill: %s%n", batch, round,
                            failure.substring(ABORTED.length()).lines().findFirst().orElse(""));
                    out.flush();
                    return round;
                }
                tally.run++;
                if (failure != null) {
                    fail(tally, dir, batch, round, batchSeed, failure, failure + "\n--- memory node\n" + mn.output());
                    return round + 1;
                }
            }
            return rounds;
        }
    }

    /** One round; null when it passed, else why it failed (with the processes' output). */
    private String round(PrintWriter out, Path dir, int batch, int round, SplittableRandom random, String address, String secret,
                         Tally tally) throws Exception {
        long t0 = System.nanoTime();
        String run = "b" + batch + "r" + round;
        List<RoundProcess> cns = new ArrayList<>();
        List<Path> histories = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Path h = dir.resolve(run + "-history-" + i);
                histories.add(h);
                List<String> args = new ArrayList<>(List.of("cn", "--mn", address, "--cns", "3", "--run", run,
                        "-r", Integer.toString(keys), "-n", Integer.toString(ops), "-t", "2", "--lock", lock,
                        "--checked-ops", Integer.toString(ops), "--checked-keys", Integer.toString(keys),
                        "--history", h.toString(), "--check", "--timeout", "20000", "--wait", "120"));
                if (secret != null) {
                    args.add("--secret");
                    args.add(secret);
                }
                cns.add(RoundProcess.start(run + "-cn-" + i, DmtreeCli.class.getName(), args));
            }
            for (RoundProcess cn : cns) {
                if (cn.awaitLine("checked round started", 120) == null) {
                    return ABORTED + cn.name() + " did not start its checked round" + (cn.output().contains("lease ended")
                            ? " (its lease ended during start-up)" : "") + "\n" + outputs(cns);
                }
            }
            int victim = random.nextInt(3);
            Thread.sleep(random.nextInt(maxKillDelayMillis + 1));
            if (!cns.get(victim).kill()) {
                return cns.get(victim).name() + " survived SIGKILL";
            }
            StringBuilder survivors = new StringBuilder();
            for (int i = 0; i < 3; i++) {
                if (i == victim) {
                    continue;
                }
                int code = cns.get(i).awaitExit(180);
                if (code != 0) {
                    return "survivor " + cns.get(i).name() + (code < 0 ? " did not exit within 180 s" : " exited " + code)
                            + "\n" + outputs(cns);
                }
                survivors.append(cns.get(i).output());
            }
            // the survivor that runs the checker last prints it (with the region accounting)
            List<String> checks = survivors.toString().lines().filter(l -> l.contains("tree checker:")).toList();
            if (checks.isEmpty()) {
                return "no survivor ran the tree checker\n" + outputs(cns);
            }
            long leaked = 0;
            boolean sound = true;
            for (String checker : checks) {
                if (!checker.contains("tree checker: tree ok") || checker.contains("region WRONG")) {
                    sound = false;
                }
                Matcher m = LEAKED.matcher(checker);
                if (!m.find()) {
                    return "a tree checker line without region accounting: " + checker + "\n" + outputs(cns);
                }
                leaked = Math.max(leaked, Long.parseLong(m.group(1)));
            }
            if (leaked > 0) {
                tally.leakyRounds++;
                tally.leakedBytes += leaked;
            }
            if (!sound) {
                return "the tree checker failed\n" + outputs(cns);
            }
            List<HistoryFile> files = new ArrayList<>();
            for (Path h : histories) {
                files.add(HistoryFile.read(h));
            }
            boolean killedMidRound = !files.get(victim).done();
            if (killedMidRound) {
                tally.killedMidRound++;
            }
            HistoryCheck.Result r = new HistoryCheck(files).run();
            if (!r.ok()) {
                return "history not linearizable: " + r.violations().subList(0, Math.min(3, r.violations().size())) + "\n"
                        + outputs(cns);
            }
            if (leaked > 0) {
                return leaked + " bytes leaked\n" + outputs(cns);
            }
            out.printf(Locale.ROOT, "batch %d round %d: victim %d %s, tree ok, leaked 0, %s (%.1f s)%n", batch, round, victim,
                    killedMidRound ? "killed mid-round" : "finished before the kill", r.summary(),
                    (System.nanoTime() - t0) / 1e9);
            out.flush();
            return null;
        } finally {
            for (RoundProcess cn : cns) {
                cn.close();
            }
            for (Path h : histories) {
                Files.deleteIfExists(h);
            }
        }
    }

    private static String outputs(List<RoundProcess> cns) {
        StringBuilder b = new StringBuilder();
        for (RoundProcess cn : cns) {
            b.append("--- ").append(cn.name()).append('\n').append(cn.output());
        }
        return b.toString();
    }

    private static void fail(Tally tally, Path dir, int batch, int round, long batchSeed, String why, String log) throws IOException {
        Path file = dir.resolve("failure-b" + batch + "-r" + round + ".log");
        Files.writeString(file, log);
        String first = why.lines().findFirst().orElse(why);
        tally.failures.add(String.format(Locale.ROOT, "batch %d round %d (batch seed %d): %s [%s]", batch, round, batchSeed,
                first, file.getFileName()));
    }

    /** The value of {@code key=} in a ready line. */
    private static String field(String line, String key) {
        for (String part : line.split(" ")) {
            if (part.startsWith(key + "=")) {
                return part.substring(key.length() + 1);
            }
        }
        throw new IllegalStateException("no " + key + "= in the memory node's ready line: " + line);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
