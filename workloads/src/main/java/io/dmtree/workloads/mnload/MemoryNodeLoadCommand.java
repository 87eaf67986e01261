package io.dmtree.workloads.mnload;

import io.dmtree.mn.ByteSize;
import io.dmtree.mn.TimeSpan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code dmtree mnload}: what connections cost a memory node. Starts a real {@code dmtree mn}
 * (tcp, loopback) and prints its resident memory and threads, as the kernel counts them, in four
 * phases: idle; with many idle connections that said HELLO; with connections that each announce a
 * maximal frame before HELLO; and with connections that say HELLO, announce a maximal verb frame
 * and push as much of its body as the memory node takes. The goal is under 200 MiB above idle in
 * every phase. A benchmark, not a test: it prints figures and judges only that goal.
 */
@Command(name = "mnload", sortOptions = false, mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Measure a memory node's resident memory (VmRSS) and threads while connections load it:",
                "idle, with idle connections, and with connections announcing maximal frames before and after HELLO."})
public final class MemoryNodeLoadCommand implements Callable<Integer> {
    /** The memory above idle the memory node should stay under in every phase. */
    static final long GOAL_KIB = 200 << 10;

    @Spec
    CommandSpec spec;

    @Option(names = "--connections", defaultValue = "1000", description = "idle connections (they say HELLO, then nothing)")
    int connections;

    @Option(names = "--max-frame-connections", defaultValue = "400",
            description = "connections announcing a maximal frame, in each of the two announcing phases")
    int maxFrameConnections;

    @Option(names = "--max-frame", defaultValue = "16M", description = "the memory node's --max-frame: the frame announced")
    String maxFrame;

    @Option(names = "--memory", defaultValue = "64M", description = "the memory node's region")
    String memory;

    @Option(names = "--settle", defaultValue = "2s", description = "wait before each measurement")
    String settle;

    @Option(names = "--push-time", defaultValue = "20s", description = "most time spent pushing frame bodies")
    String pushTime;

    @Option(names = "--short", description = "a quick run: 100 idle and 40 announcing connections, 4M frames, short waits")
    boolean shortMode;

    @Option(names = "--jvm-option", paramLabel = "FLAG", description = "a JVM flag for the memory node, repeatable")
    List<String> jvmOptions = new ArrayList<>();

    @Option(names = "--mn-option", paramLabel = "ARG", description = "a further dmtree mn argument, repeatable "
            + "(e.g. --mn-option=--event-loops --mn-option=2)")
    List<String> mnOptions = new ArrayList<>();

    private record Row(String phase, int connections, int open, long pushedBytes, MemoryNodeProcess.Sample sample) {
    }

    @Override
    public Integer call() throws Exception {
        int idleConnections = shortMode ? 100 : connections;
        int announcing = shortMode ? 40 : maxFrameConnections;
        long frame = ByteSize.parse(shortMode ? "4M" : maxFrame);
        int settleMillis = TimeSpan.parseMillis(shortMode ? "500ms" : settle);
        int pushMillis = TimeSpan.parseMillis(shortMode ? "3s" : pushTime);
        if (idleConnections < 1 || announcing < 1) {
            throw new ParameterException(spec.commandLine(), "--connections and --max-frame-connections must be positive");
        }
        if (frame < 64 << 10 || frame > Integer.MAX_VALUE) {
            throw new ParameterException(spec.commandLine(), "--max-frame must be in [64K, 2G): " + maxFrame);
        }
        PrintWriter out = spec.commandLine().getOut();
        List<String> mnArgs = new ArrayList<>(List.of("--memory", memory, "--max-frame", Long.toString(frame)));
        mnArgs.addAll(mnOptions);
        List<Row> rows = new ArrayList<>();
        try (MemoryNodeProcess mn = MemoryNodeProcess.start(jvmOptions, mnArgs, System.err)) {
            out.println("dmtree mnload: memory node pid " + mn.pid() + ": " + mn.readyLine());
            out.println("  " + idleConnections + " idle connections, " + announcing + " connections announcing "
                    + ByteSize.format(frame) + " frames per announcing phase, settle " + TimeSpan.format(settleMillis)
                    + (shortMode ? " (short mode)" : ""));
            out.flush();
            pause(settleMillis);
            rows.add(new Row("idle", 0, 0, 0, mn.sample()));
            try (LoadConnections idle = new LoadConnections()) {
                idle.openIdle(mn.address(), idleConnections, 10_000);
                pause(settleMillis);
                rows.add(new Row("idle-connections", idle.size(), idle.stillOpen(), 0, mn.sample()));
            }
            pause(settleMillis);
            try (LoadConnections before = new LoadConnections()) {
                before.openAnnouncingBeforeHello(mn.address(), announcing, (int) frame);
                pause(settleMillis);
                rows.add(new Row("max-frame-before-hello", before.size(), before.stillOpen(), 0, mn.sample()));
            }
            pause(settleMillis);
            try (LoadConnections after = new LoadConnections()) {
                after.openAnnouncingAfterHello(mn.address(), announcing, (int) frame, 10_000);
                long pushed = after.pushBodies((int) frame, 1000, pushMillis);
                pause(settleMillis);
                rows.add(new Row("max-frame-after-hello", after.size(), after.stillOpen(), pushed, mn.sample()));
            }
        }
        print(out, rows);
        return 0;
    }

    private static void print(PrintWriter out, List<Row> rows) {
        long idle = rows.get(0).sample().rssKib();
        out.println();
        out.printf(Locale.ROOT, "%-24s %12s %8s %12s %10s %15s %8s%n", "phase", "connections", "open", "pushed MiB", "RSS MiB",
                "above idle MiB", "threads");
        Row worst = rows.get(0);
        for (Row r : rows) {
            long above = r.sample().rssKib() - idle;
            if (above > worst.sample().rssKib() - idle) {
                worst = r;
            }
            out.printf(Locale.ROOT, "%-24s %12d %8d %12.1f %10.1f %15.1f %8d%n", r.phase(), r.connections(), r.open(),
                    r.pushedBytes() / 1048576.0, r.sample().rssKib() / 1024.0, above / 1024.0, r.sample().threads());
        }
        long worstAbove = worst.sample().rssKib() - idle;
        out.printf(Locale.ROOT, "goal: under %d MiB above idle in every phase: %s (most: %s, %+.1f MiB)%n", GOAL_KIB >> 10,
                worstAbove < GOAL_KIB ? "met" : "NOT met", worst.phase(), worstAbove / 1024.0);
        out.println("(RSS: VmRSS of /proc/PID/status, measured; one run on this host)");
        out.flush();
    }

    private static void pause(int millis) throws InterruptedException {
        Thread.sleep(millis);
    }
}
