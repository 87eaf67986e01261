package io.dmtree.workloads.cli;


import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dmtree.cn.ClusterConfig;
import io.dmtree.cn.control.BarrierRelease;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.cn.control.IndexShape;
import io.dmtree.cn.control.RemoteComputeNode;
import io.dmtree.cn.recovery.MemberFence;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.membership.BarrierTimeoutException;
import io.dmtree.core.lock.LapsedMemberException;
import io.dmtree.core.membership.LeaseLapsedException;
import io.dmtree.core.memory.FencedException;
import io.dmtree.core.tree.IndexSuperblock;
import io.dmtree.core.tree.TreeConfig;
import io.dmtree.core.tree.TreeReport;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.HostPort;
import io.dmtree.lock.LockDesigns;
import io.dmtree.cn.history.HistoryLog;
import io.dmtree.workloads.cn.CheckedRound;
import io.dmtree.workloads.cn.IndexShell;
import io.dmtree.workloads.cn.LockedCounterRound;
import io.dmtree.workloads.cn.ReconnectingIndex;
import io.dmtree.workloads.cn.RemoteDmtreeSystem;
import io.dmtree.workloads.cn.RunBarrierCalls;
import io.dmtree.workloads.cn.RunBarriers;
import io.dmtree.workloads.cn.RunAggregate;
import io.dmtree.workloads.cn.ShareReport;
import io.dmtree.workloads.kv.KvShape;
import io.dmtree.workloads.report.JsonReport;
import io.dmtree.workloads.report.ResultTable;
import io.dmtree.workloads.run.PhaseProgress;
import io.dmtree.workloads.ycsb.Contestant;
import io.dmtree.workloads.ycsb.KeySpace;
import io.dmtree.workloads.ycsb.OperationStream;
import io.dmtree.workloads.ycsb.StreamShare;
import io.dmtree.workloads.ycsb.SystemResult;
import io.dmtree.workloads.ycsb.ValueSource;
import io.dmtree.workloads.ycsb.YcsbReport;
import io.dmtree.workloads.ycsb.YcsbSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code dmtree cn}: a compute-node process. It joins the memory nodes named by {@code --mn} and
 * either runs its share of a YCSB workload together with the other compute-node processes of the
 * run, or serves as a long-lived client ({@code --serve}).
 *
 * <p>A run of {@code --cns N} processes meets at control-plane barriers on memory node 0, named
 * after {@code --run}: {@code start} (a counting barrier of N: fixes the members and checks that
 * all run the same settings), {@code loaded} and {@code results} (member barriers: a member that
 * dies is excused and named, so it never holds up the others). Process of rank {@code r} (by
 * compute-node id among the members) loads and runs {@link StreamShare} {@code r of N}, so with the
 * same total threads operation {@code j} goes to compute node {@code j mod N} exactly as in
 * {@code dmtree ycsb --cns N}. At {@code results} each process hands over its result (counters and
 * compressed latency histograms, {@link ShareReport}); the member with the lowest id prints the
 * aggregate with the columns of {@code dmtree ycsb}, the others one line each.
 *
 * <p>In a cluster with membership the barriers are membership barriers, and a compute node whose
 * lease lapsed is fenced: whatever it was doing, it exits with {@value #EXIT_FENCED} and one line,
 * {@code dmtree cn: compute node N (epoch E) is fenced: ...} (no stack trace); it may be started
 * again, as a new incarnation.
 *
 * <p>No wait is silent or unbounded ({@link RunBarriers}): barrier waits are short calls that end
 * within half a second of SIGTERM and say every 30 s what they wait for; a compute node that fails
 * before the results (its options do not fit the index, a worker's error, ...) tells the others at
 * its next barrier why, so they stop at once naming it instead of waiting for it; SIGTERM or SIGINT
 * closes the compute node, leaving the cluster, within a second or two.
 */
@Command(name = "cn", sortOptions = false, mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {
                "Runs a compute-node process: joins the memory nodes (--mn) and runs its share of a YCSB workload with the"
                        + " other compute-node processes of the run (--cns), or serves as a long-lived client (--serve).",
                "The load phase is split across the compute nodes (--load). At the end every compute node reports"
                        + " through the control plane's barrier and the lowest-numbered one prints the aggregate"
                        + " (throughput, latency percentiles per operation type, memory node traffic per operation).",
                "--serve reads commands from stdin (put KEY VALUE, get KEY, delete KEY, scan KEY COUNT, check, stats,"
                        + " quit) and stays joined until SIGTERM or quit; when a memory node is lost it rejoins the cluster"
                        + " (--rejoin-attempts)."})
public final class ComputeNodeCommand implements Callable<Integer> {
    /** Exit code of a compute node that was fenced (its lease lapsed; the cluster recovers what it held). */
    public static final int EXIT_FENCED = 3;

    @Spec
    CommandSpec spec;

    @Option(names = "--mn", required = true, paramLabel = "HOST:PORT,...",
            description = "control addresses of memory nodes 0..M-1, memory node 0 first")
    String memoryNodes;

    @Option(names = "--secret", paramLabel = "FILE|none",
            description = "the cluster secret this compute node proves to memory nodes and peers (memory node 0 writes it and "
                    + "prints its path as secret=PATH in its ready line; readable by its owner only); none or absent: it "
                    + "holds none and joins only a cluster started with --secret none")
    String secret;

    @Mixin
    TlsFlags tls = new TlsFlags();

    @Option(names = "--cns", defaultValue = "1", description = "compute-node processes taking part in the run, this one included")
    int computeNodes;

    @Mixin
    WorkloadOptions options = new WorkloadOptions();

    @Mixin
    WorkloadOptions.WidthOptions widths = new WorkloadOptions.WidthOptions();

    @Option(names = "--lock", paramLabel = "NAME",
            description = "lock design (default: the one of the index the cluster holds, else the project default)")
    String lock;

    @Option(names = "--load", defaultValue = "split", paramLabel = "HOW",
            description = "load phase: split (each compute node loads its share), one (the first compute node loads all),"
                    + " none (the records are loaded already)")
    String load;

    @Option(names = "--run", defaultValue = "ycsb", paramLabel = "NAME",
            description = "name of the run: compute nodes with the same name meet at its barriers")
    String runName;

    @Option(names = "--check", description = "after the run, the reporting compute node runs the tree checker")
    boolean check;

    @Option(names = "--serve", description = "serve as a long-lived client instead of running a workload")
    boolean serve;

    @Option(names = "--id", paramLabel = "N", description = "compute-node id wanted (default: memory node 0 assigns one)")
    Integer id;

    @Option(names = "--listen", defaultValue = "0.0.0.0:0", paramLabel = "HOST:PORT",
            description = "where this compute node's messaging endpoint (lock grants from other compute nodes) binds")
    String listen;

    @Option(names = "--advertise", paramLabel = "HOST",
            description = "the host other compute nodes reach this one by (default: the --listen host, or for 0.0.0.0 the"
                    + " local address by which this host reaches memory node 0)")
    String advertise;

    @Option(names = "--carrier-option", paramLabel = "KEY=VALUE",
            description = "a carrier setting, repeatable (e.g. tcp.connections=2)")
    List<String> carrierOptions = new ArrayList<>();

    @Option(names = "--modelled-rtt-us", defaultValue = "0", paramLabel = "US",
            description = "model a network: every verb round trip takes US microseconds longer and every message to another"
                    + " compute node US/2 longer (figures are labelled modelled; 0: measured as is)")
    long modelledRttMicros;

    @Option(names = "--locked-counter", defaultValue = "0", paramLabel = "N",
            description = "after the run, every thread of every compute node increments one shared counter N times under"
                    + " the run's lock design, and the reporting compute node checks it is exact (0: no check)")
    int lockedCounter;

    @Option(names = "--timeout", defaultValue = "30000", paramLabel = "MS",
            description = "control calls, connections and verbs give up after this")
    int timeoutMillis;

    @Option(names = "--wait", defaultValue = "1800", paramLabel = "SECONDS",
            description = "longest wait at a barrier for the other compute nodes")
    int waitSeconds;

    @Option(names = "--checked-ops", defaultValue = "0", paramLabel = "N",
            description = "after the run, a checked round: each thread makes N tree operations recorded in --history,"
                    + " each followed by an increment of --counter-locks locked counters (0: no round; default ${DEFAULT-VALUE})")
    int checkedOps;

    @Option(names = "--checked-keys", defaultValue = "64", paramLabel = "K",
            description = "keys of the checked round (default ${DEFAULT-VALUE})")
    int checkedKeys;

    @Option(names = "--counter-locks", defaultValue = "1", paramLabel = "N",
            description = "locks one increment of the checked round holds at once, one per counter (default ${DEFAULT-VALUE})")
    int counterLocks;

    @Option(names = "--counter-hold-us", defaultValue = "0", paramLabel = "US",
            description = "every increment of the checked round holds its locks this much longer, and says so in the"
                    + " history (for killing a compute node that holds them; default ${DEFAULT-VALUE})")
    long counterHoldMicros;

    @Option(names = "--history", paramLabel = "FILE",
            description = "where this compute node writes the checked round's acknowledged history (check it with dmtree history)")
    Path history;

    @Option(names = "--rejoin-attempts", defaultValue = "10", paramLabel = "N",
            description = "--serve: when a memory node is lost (it stopped or restarted), rejoin the cluster in up to N"
                    + " attempts, then give up and exit 1 (0: exit at once)")
    int rejoinAttempts;

    @Option(names = "--rejoin-backoff", defaultValue = "250", paramLabel = "MS",
            description = "--serve: wait before the first rejoin attempt; each later wait is twice the one before")
    long rejoinBackoffMillis;

    @Option(names = "--rejoin-backoff-max", defaultValue = "5000", paramLabel = "MS",
            description = "--serve: longest wait between rejoin attempts")
    long rejoinBackoffMaxMillis;

    @Option(names = "--json", paramLabel = "FILE", description = "the reporting compute node also writes the results to FILE")
    Path json;

    private final AtomicBoolean closed = new AtomicBoolean();
    /** The joined compute node, once joined (to tell a fence from other failures). */
    private volatile RemoteComputeNode joined;
    /** Set by SIGTERM or SIGINT (the shutdown hook): waits end, the compute node leaves. */
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** What the shutdown hook closes: the compute node once open, before that the cluster membership. */
    private volatile RemoteComputeNode openNode;
    private volatile ClusterClient joinedCluster;
    /** A long-lived client's index ({@code --serve}), which rejoins after a memory node is lost. */
    private volatile ReconnectingIndex servingIndex;
    private final AtomicBoolean hooked = new AtomicBoolean();

    private List<InetSocketAddress> addresses() {
        List<InetSocketAddress> list = new ArrayList<>();
        for (String s : memoryNodes.split(",")) {
            if (s.isBlank()) {
                continue;
            }
            try {
                list.add(HostPort.parse("--mn", s.trim()));
            } catch (IllegalArgumentException e) {
                throw OptionChecks.usage(spec, e.getMessage());
            }
        }
        if (list.isEmpty()) {
            throw OptionChecks.usage(spec, "--mn names no memory node");
        }
        OptionChecks.inRange(spec, "memory nodes in --mn", list.size(), 1, 64);
        return list;
    }

    private ClusterClient.Options clusterOptions(List<InetSocketAddress> mns) {
        OptionChecks.inRange(spec, "--timeout", timeoutMillis, 100, ControlFrame.MAX_WAIT_MILLIS);
        OptionChecks.inRange(spec, "--modelled-rtt-us", modelledRttMicros, 0, 10_000_000);
        ClusterClient.Options o = ClusterClient.Options.of(mns).withTimeoutMillis(timeoutMillis)
                .withModelledRttMicros(modelledRttMicros);
        try {
            o = o.withMessaging(HostPort.parse("--listen", listen), advertise)
                    .withCarrierOptions(CarrierOptions.parse(carrierOptions));
        } catch (IllegalArgumentException e) {
            throw OptionChecks.usage(spec, e.getMessage());
        }
        if (id != null) {
            OptionChecks.inRange(spec, "--id", id, 0, RemoteComputeNode.DEFAULT_MAX_COMPUTE_NODES - 1);
            o = o.withComputeNodeId(id);
        }
        ClusterSecret proof = tls.apply(spec, MembersCommand.secret(spec, secret));
        if (proof != null) {
            o = o.withSecret(proof);
        }
        return o;
    }

    /**
     * What this compute node asks of the index: the widths and lock design given on the command
     * line; those not given are taken from the index the cluster holds, or are the defaults.
     */
    private IndexShape wantedShape() {
        if (lock != null && !LockDesigns.names().contains(lock.trim())) {
            throw OptionChecks.usage(spec, "unknown lock design '" + lock + "'; known: " + String.join(", ", LockDesigns.names()));
        }
        CommandLine.ParseResult given = spec.commandLine().getParseResult();
        Integer k = given.hasMatchedOption("--key-size") ? widths.keySize : null;
        Integer v = given.hasMatchedOption("--value-size") ? widths.valueSize : null;
        if (k != null) {
            OptionChecks.inRange(spec, "--key-size", k, 1, TreeConfig.MAX_KEY_BYTES);
        }
        if (v != null) {
            OptionChecks.inRange(spec, "--value-size", v, 1, TreeConfig.MAX_VALUE_BYTES);
        }
        return new IndexShape(k, v, null, lock == null ? null : lock.trim());
    }

    @Override
    public Integer call() throws Exception {
        List<InetSocketAddress> mns = addresses();
        ClusterClient.Options cluster = clusterOptions(mns);
        IndexShape wanted = wantedShape();
        try {
            return serve ? serve(cluster, wanted) : runWorkload(cluster, mns.size(), wanted);
        } catch (Exception e) {
            RemoteComputeNode node = joined;
            ClusterClient joinedTo = node != null ? node.cluster() : joinedCluster;
            String line = fencedLine(e, joinedTo == null ? null : joinedTo.fence());
            if (line == null) {
                throw e;
            }
            PrintWriter err = spec.commandLine().getErr();
            err.println(line);
            err.flush();
            return EXIT_FENCED;
        }
    }

    /**
     * The fence behind {@code e}: a {@link FencedException} in its causes, or, while this node's own
     * fence is up, a lock wait that ended because it departed ({@link LapsedMemberException}) or a
     * membership call on its ended lease ({@link LeaseLapsedException}); else null (a lost memory
     * node, say, is reported as what it is).
     */
    static FencedException fencedBy(Throwable e, MemberFence fence) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof FencedException f) {
                return f;
            }
        }
        if (fence != null && fence.fenced()) {
            // a lock wait that found this node departed, or a membership call on its ended lease
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof LapsedMemberException || t instanceof LeaseLapsedException) {
                    return new FencedException(fence.computeNode(), fence.epoch(), fence.reason());
                }
            }
        }
        return null;
    }

    /**
     * Whether {@code e} comes from a lock wait that found compute node {@code me} itself departed:
     * the cluster counts it fenced by every memory node (the liveness contract), as after a
     * revocation that its own lease has not heard of yet, so the others recover it and must not be
     * told it failed.
     */
    static boolean departedItself(Throwable e, int me) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof LapsedMemberException l && l.computeNode() == me) {
                return true;
            }
        }
        return false;
    }

    /** The one line a fenced compute node exits with, or null if {@code e} is no fence (see {@link #fencedBy}). */
    static String fencedLine(Throwable e, MemberFence fence) {
        FencedException f = fencedBy(e, fence);
        return f == null ? null : "dmtree cn: " + f.getMessage();
    }

    /**
     * Joins the cluster, and from then on closes what it joined (leaving the cluster) on SIGTERM or
     * SIGINT too.
     */
    private ClusterClient joinCluster(ClusterClient.Options options) {
        ClusterClient cluster = ClusterClient.join(options);
        joinedCluster = cluster;
        installShutdownHook();
        return cluster;
    }

    private void installShutdownHook() {
        if (hooked.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stopping.set(true);
                close();
                stopped.countDown();
            }, "dmtree-cn-shutdown"));
        }
    }

    /**
     * Opens the index on the joined cluster. The widths the index has (given, the cluster's or the
     * defaults) are written back to the width options, so the workload uses them. On failure the
     * cluster stays joined (the caller tells the others, then closes it).
     */
    private RemoteComputeNode open(ClusterClient cluster, IndexShape wanted, int threads) {
        RemoteComputeNode node = RemoteComputeNode.open(cluster, wanted, TreeConfig.defaults(),
                RemoteComputeNode.DEFAULT_MAX_COMPUTE_NODES, Math.max(ClusterConfig.defaults().threadsPerComputeNode(), threads + 1));
        joined = node;
        TreeConfig tree = node.computeNode().treeConfig();
        widths.keySize = tree.keyBytes();
        widths.valueSize = tree.valueBytes();
        openNode = node;
        return node;
    }

    /** Closes the compute node, or the bare membership before it was opened; once. */
    private void close() {
        if (closed.compareAndSet(false, true)) {
            RemoteComputeNode node = openNode;
            if (servingIndex != null) {
                servingIndex.close();
            } else if (node != null) {
                node.close();
            } else if (joinedCluster != null) {
                joinedCluster.close();
            }
        }
    }

    /** A failure every member of the run learnt from one barrier release: nobody needs telling. */
    private static final class RunAbandoned extends IllegalStateException {
        RunAbandoned(String message) {
            super(message);
        }
    }

    private int serve(ClusterClient.Options options, IndexShape wanted) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ReconnectingIndex.Policy policy;
        try {
            policy = new ReconnectingIndex.Policy(rejoinAttempts, rejoinBackoffMillis, rejoinBackoffMaxMillis);
        } catch (IllegalArgumentException e) {
            throw OptionChecks.usage(spec, e.getMessage());
        }
        installShutdownHook();
        AtomicReference<IndexShape> shape = new AtomicReference<>(wanted);
        AtomicBoolean reopened = new AtomicBoolean();
        AtomicBoolean first = new AtomicBoolean(true);
        ReconnectingIndex index = ReconnectingIndex.open(() -> {
            ClusterClient cluster = ClusterClient.join(options);
            try {
                reopened.set(IndexSuperblock.stored(cluster.verbs()).isPresent());
                return RemoteComputeNode.open(cluster, shape.get(), TreeConfig.defaults(),
                        RemoteComputeNode.DEFAULT_MAX_COMPUTE_NODES, ClusterConfig.defaults().threadsPerComputeNode());
            } catch (RuntimeException e) {
                cluster.close();
                throw e;
            }
        }, policy, line -> note(err, line), node -> {
            TreeConfig tree = node.computeNode().treeConfig();
            String lockName = node.computeNode().lockDesign().name();
            // a rejoin opens (or, on memory nodes that restarted empty, creates) the index this one had
            shape.set(new IndexShape(tree.keyBytes(), tree.valueBytes(), tree.nodeBytes(), lockName));
            String what = node.cluster().transport() + " carrier, " + node.cluster().regions().size() + " memory node(s), "
                    + tree.keyBytes() + "-byte keys, " + tree.valueBytes() + "-byte values, lock " + lockName;
            if (first.getAndSet(false)) {
                out.println("cn " + node.id() + " serving: " + what + "; commands on stdin (help)");
                out.flush();
            } else {
                note(err, "cn " + node.id() + " serving again: " + what + "; " + (reopened.get()
                        ? "reopened the index the memory nodes hold"
                        : "the memory nodes hold no index any more (restarted with empty regions): created an empty one"));
            }
        });
        servingIndex = index;
        if (stopping.get()) {
            index.close(); // SIGTERM while joining: the hook found nothing to close yet
        }
        try {
            return serveLines(new IndexShell(index, out), index, err);
        } finally {
            close();
        }
    }

    /**
     * Answers stdin's commands until {@code quit}, SIGTERM, or rejoining gave up (exit code 1);
     * after the end of input it stays joined until one of the latter. Input is read on a thread of
     * its own, so a blocked read never keeps the process from ending.
     */
    private int serveLines(IndexShell shell, ReconnectingIndex index, PrintWriter err) throws InterruptedException {
        BlockingQueue<Optional<String>> lines = new LinkedBlockingQueue<>(1024);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String l;
                while ((l = in.readLine()) != null) {
                    lines.put(Optional.of(l));
                }
            } catch (IOException | InterruptedException e) {
                // input ends
            }
            lines.offer(Optional.empty());
        }, "dmtree-cn-stdin");
        reader.setDaemon(true);
        reader.start();
        AtomicReference<String> gaveUp = new AtomicReference<>();
        Thread giveUpWatch = new Thread(() -> {
            try {
                String why = index.awaitGaveUp();
                if (why != null) {
                    gaveUp.set(why);
                    stopped.countDown();
                }
            } catch (InterruptedException e) {
                // closing
            }
        }, "dmtree-cn-rejoin-watch");
        giveUpWatch.setDaemon(true);
        giveUpWatch.start();
        boolean inputOpen = true;
        while (true) {
            if (stopped.getCount() == 0) {
                break;
            }
            Optional<String> line = inputOpen ? lines.poll(200, TimeUnit.MILLISECONDS) : null;
            if (line == null) {
                if (!inputOpen) {
                    stopped.await(200, TimeUnit.MILLISECONDS);
                }
                continue;
            }
            if (line.isEmpty()) {
                inputOpen = false; // end of input: stay joined until SIGTERM or SIGINT
            } else if (!shell.answer(line.get())) {
                return 0;
            }
        }
        if (gaveUp.get() != null) {
            throw new IllegalStateException(gaveUp.get());
        }
        return 0;
    }

    private int runWorkload(ClusterClient.Options clusterOptions, int memoryNodeCount, IndexShape wanted) throws Exception {
        OptionChecks.inRange(spec, "--cns", computeNodes, 1, RemoteComputeNode.DEFAULT_MAX_COMPUTE_NODES);
        OptionChecks.inRange(spec, "--wait", waitSeconds, 1, 7 * 24 * 3600);
        OptionChecks.inRange(spec, "--locked-counter", lockedCounter, 0, 100_000_000);
        OptionChecks.inRange(spec, "--checked-ops", checkedOps, 0, 100_000_000);
        OptionChecks.inRange(spec, "--checked-keys", checkedKeys, 1, 1_000_000);
        OptionChecks.inRange(spec, "--counter-locks", counterLocks, 1, 1000);
        OptionChecks.inRange(spec, "--counter-hold-us", counterHoldMicros, 0, 10_000_000);
        if (checkedOps > 0 && history == null) {
            throw OptionChecks.usage(spec, "--checked-ops needs --history FILE for the acknowledged history");
        }
        if (!List.of("split", "one", "none").contains(load)) {
            throw OptionChecks.usage(spec, "--load must be split, one or none: " + load);
        }
        List<String> steps = new ArrayList<>(List.of("loaded"));
        if (lockedCounter > 0) {
            steps.add("counter");
        }
        if (checkedOps > 0) {
            steps.addAll(List.of("checked-setup", "checked"));
        }
        steps.add("results");
        int maxRunBytes = RunBarriers.maxRunNameBytes(steps);
        if (runName.isBlank() || runName.getBytes(StandardCharsets.UTF_8).length > maxRunBytes) {
            throw OptionChecks.usage(spec, "--run must be 1.." + maxRunBytes + " bytes: " + runName);
        }
        options.settings(spec, widths, computeNodes, memoryNodeCount, List.of(LockDesigns.defaultName()), List.of(), 1);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();

        ClusterClient cluster = joinCluster(clusterOptions);
        int me = cluster.computeNodeId();
        RunBarriers barriers = new RunBarriers(runName, me, computeNodes, steps, RunBarrierCalls.of(cluster, stopping::get), waitSeconds * 1000L,
                stopping::get, line -> note(err, line));
        Contestant contestant = null;
        try {
            RemoteComputeNode node = open(cluster, wanted, options.threads);
            String lockName = node.computeNode().lockDesign().name();
            YcsbSettings settings = options.settings(spec, widths, computeNodes, memoryNodeCount, List.of(lockName), List.of(), 1);
            OperationStream stream = WorkloadOptions.stream(spec, settings);
            KeySpace keys = new KeySpace(settings.keyBytes(), settings.seed());
            ValueSource values = new ValueSource(settings.valueBytes(), settings.seed());
            KvShape shape = new KvShape(settings.keyBytes(), settings.valueBytes(), settings.records() + stream.inserts(),
                    settings.threads());
            String fingerprint = fingerprint(settings);
            note(err, "cn " + me + ": waiting for " + computeNodes + " compute node(s) at '" + runName + "/start'");
            Map<Integer, byte[]> start = barriers.start(fingerprint.getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<Integer, byte[]> e : start.entrySet()) {
                String theirs = new String(e.getValue(), StandardCharsets.UTF_8);
                if (!theirs.equals(fingerprint)) {
                    throw new RunAbandoned("compute node " + e.getKey() + " runs '" + theirs + "' but compute node " + me
                            + " runs '" + fingerprint + "': start every compute node of run '" + runName + "' with the same options");
                }
            }
            Set<Integer> members = barriers.members();
            int rank = new ArrayList<>(members).indexOf(me);
            StreamShare share = new StreamShare(rank, computeNodes);
            contestant = new Contestant(new RemoteDmtreeSystem(node, shape, lockName, computeNodes), lockName,
                    settings.threads(), share);

            StreamShare loadPart = switch (load) {
                case "split" -> share;
                case "one" -> rank == 0 ? StreamShare.WHOLE : null;
                default -> null;
            };
            if (loadPart != null) {
                note(err, "cn " + me + ": loading records " + loadPart.firstRecord(settings.records()) + ".."
                        + (loadPart.endRecord(settings.records()) - 1));
                contestant.load(loadPart, settings.records(), shape, keys, values);
            }
            BarrierRelease loaded = barriers.meet("loaded", new byte[0]);
            if (!loaded.departed().isEmpty()) {
                throw new RunAbandoned("compute node(s) " + loaded.departed() + " left during the load phase, so the"
                        + " loaded records are incomplete; start the run again");
            }
            System.gc();
            note(err, "cn " + me + ": running " + share.operations(stream.size()) + " of " + stream.size()
                    + " operations on " + settings.threads() + " threads");
            long messagesBefore = node.cluster().messaging().messagesSent();
            contestant.beforeRun();
            try (PhaseProgress progress = PhaseProgress.start("run " + settings.workload() + " cn " + me,
                    share.operations(stream.size()))) {
                contestant.runSlice(stream, 0, stream.size(), shape, keys, values, progress::stepTo);
            }
            SystemResult mine = contestant.result(stream);
            long runMessages = node.cluster().messaging().messagesSent() - messagesBefore;
            LockedCounterRound counter = null;
            if (lockedCounter > 0) {
                counter = new LockedCounterRound(node, settings.threads(), lockedCounter);
                counter.share(members, payload -> barriers.meet("counter", payload));
                long made = counter.run(waitSeconds);
                out.printf(Locale.ROOT, "cn %d: locked counter +%,d (%d threads x %,d under %s); %,d CN messages sent in all%n",
                        me, made, settings.threads(), lockedCounter, lockName, node.cluster().messaging().messagesSent());
            }
            CheckedRound checked = null;
            HistoryLog historyLog = null;
            if (checkedOps > 0) {
                historyLog = new HistoryLog(history, me, node.cluster().epoch());
                checked = new CheckedRound(node, historyLog, settings.threads(), checkedOps, checkedKeys, counterLocks, runName)
                        .holdingFor(counterHoldMicros);
                checked.share(members, payload -> barriers.meet("checked-setup", payload));
                note(err, "cn " + me + ": checked round started: " + checkedOps + " operations per thread on " + checkedKeys
                        + " keys, " + counterLocks + " counter lock(s) per increment");
                long made = checked.run(waitSeconds, settings.seed());
                note(err, "cn " + me + ": checked round done: " + made + " increments");
                BarrierRelease after = barriers.meet("checked", new byte[0]);
                int first = after.arrivals().keySet().stream().min(Integer::compare).orElse(me);
                if (first == me) {
                    node.awaitRecoveries(waitSeconds, after.departed());
                    checked.writeFinalState(made);
                    out.println("cn " + me + ": checked round final state written to " + history
                            + (after.departed().isEmpty() ? "" : "; compute node(s) " + after.departed() + " left during it"));
                }
                historyLog.close();
            }
                        BarrierRelease results = barriers.meet("results", ShareReport.encode(mine));
            out.printf(Locale.ROOT, "cn %d: %,d operations in %.3f s, %,.0f ops/s (share %d of %d), %,d CN messages in the run"
                    + " phase%s%n", me, mine.operations(), mine.runNanos() / 1e9, mine.throughputOpsPerSec(), rank, computeNodes,
                    runMessages, modelledLabel());
            int reporter = results.arrivals().keySet().stream().min(Integer::compare).orElse(me);
            int code = 0;
            if (reporter == me) {
                code = report(node, settings, stream, members, results, out);
                if (counter != null) {
                    LockedCounterRound.Verdict v = counter.verify(results.arrivals().size(), results.departed());
                    out.println(v.line());
                    if (!v.exact()) {
                        code = 1;
                    }
                }
            }
            out.flush();
            return code;
        } catch (RunBarriers.PartnerRefusedException | RunBarriers.StoppedException | RunAbandoned e) {
            throw e; // the others know already, or this process is stopping
        } catch (Exception | Error e) {
            if (stopping.get()) {
                throw new RunBarriers.StoppedException("compute node " + me + " stopped by a signal and left the cluster");
            }
            if (fencedBy(e, cluster.fence()) != null || departedItself(e, me)) {
                throw e; // its lease ended or it was revoked: the others find it lapsed, the cluster recovers it
            }
            {
                barriers.refuse(DmtreeCli.describe(e)).ifPresent(at -> note(err, "cn " + me + ": failed; told the other"
                        + " compute nodes of run '" + runName + "' at '" + at + "'"));
            }
            throw e;
        } finally {
            if (contestant != null) {
                contestant.close();
            }
            close();
        }
    }

    /**
     * Waits until the fence book holds no outstanding record (every lapsed member recovered, its
     * memory reclaimed included), so the check sees the region as recovery leaves it; null when
     * there is nothing to wait for or the wait ended so, else why it stopped waiting.
     */
    private static String awaitRecoveries(RemoteComputeNode node, long timeoutMillis) {
        var coordination = node.cluster().coordination();
        if (coordination == null) {
            return null;
        }
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (true) {
            var outstanding = coordination.book().outstanding();
            if (outstanding.isEmpty()) {
                return null;
            }
            if (System.nanoTime() > deadline) {
                return "recoveries still outstanding after " + timeoutMillis + " ms: " + outstanding;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted while waiting for recoveries";
            }
        }
    }

    private int report(RemoteComputeNode node, YcsbSettings settings, OperationStream stream, Set<Integer> members,
                       BarrierRelease results, PrintWriter out) throws Exception {
        RunAggregate aggregate = RunAggregate.of(results.arrivals(), results.departed());
        int n = aggregate.byComputeNode().size();
        SystemResult first = aggregate.byComputeNode().values().iterator().next();
        String setup = first.setup() + " x " + settings.threads() + " threads each; aggregate of " + n + " compute node"
                + (n == 1 ? "" : "s") + " " + aggregate.byComputeNode().keySet() + modelledLabel();
        SystemResult merged = aggregate.merged(setup);
        YcsbSettings total = new YcsbSettings(settings.workload(), settings.distribution(), settings.records(),
                settings.operations(), settings.threads() * computeNodes, computeNodes, settings.memoryNodes(),
                settings.keyBytes(), settings.valueBytes(), settings.seed(), settings.locks(), List.of(), 1);
        YcsbReport report = new YcsbReport(total, stream, List.of(merged));
        out.println();
        out.printf(Locale.ROOT, "%d compute-node processes x %d threads (%d in all), run '%s'%n", computeNodes,
                settings.threads(), settings.threads() * computeNodes, runName);
        if (modelledRttMicros > 0) {
            out.printf(Locale.ROOT, "MODELLED network: +%d us per MN round trip, +%d us per CN message, on top of the carrier"
                    + " (all figures below are modelled)%n", modelledRttMicros, modelledRttMicros / 2);
        }
        ResultTable.print(report, out, modelledRttMicros > 0 ? String.format(Locale.ROOT, "MODELLED: the figures above include"
                + " a modelled network (+%d us per MN round trip, +%d us per CN message, added by the modelled-latency"
                + " decorators); compare ratios, not absolute times.", modelledRttMicros, modelledRttMicros / 2)
                : ResultTable.MEASURED);
        out.println();
        out.printf(Locale.ROOT, "%-6s  %12s  %12s  %10s  %10s%n", "cn", "operations", "run ops/s", "run s", "verbs/op");
        for (Map.Entry<Integer, SystemResult> e : aggregate.byComputeNode().entrySet()) {
            SystemResult r = e.getValue();
            out.printf(Locale.ROOT, "%-6d  %,12d  %,12.0f  %10.3f  %10.3f%n", e.getKey(), r.operations(),
                    r.throughputOpsPerSec(), r.runNanos() / 1e9, r.memoryNodes().verbsPerOp());
        }
        out.println("(aggregate run ops/s: all operations over the slowest compute node's run time; all started at one barrier)");
        int code = 0;
        if (!aggregate.departed().isEmpty()) {
            out.println("compute node(s) " + aggregate.departed() + " left before reporting: their operations are not"
                    + " in the aggregate");
        }
        if (check) {
            String waited = awaitRecoveries(node, 60_000);
            if (waited != null) {
                out.println("tree checker: " + waited);
            }
            TreeReport tree = node.computeNode().check();
            // another compute node may still be giving its memory back on its way out (its leave
            // runs after the run's last barrier): a leak must outlast that to count
            for (int again = 0; again < 25 && tree.ok() && (tree.region() == null || tree.region().leaked() != 0); again++) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                awaitRecoveries(node, 10_000);
                tree = node.computeNode().check();
            }
            out.println("tree checker: " + tree);
            if (!tree.ok()) {
                code = 1;
            }
            if (tree.region() == null || tree.region().leaked() != 0) {
                out.println("tree checker: region WRONG: " + (tree.region() == null ? "not accounted for"
                        : tree.region().leaked() + " bytes leaked"));
                code = 1;
            }
        }
        if (json != null) {
            Map<String, Object> root = new LinkedHashMap<>(JsonReport.toTree(report));
            root.put("run", runName);
            root.put("transport", node.cluster().transport());
            root.put("figures", modelledRttMicros > 0 ? "modelled" : "measured");
            root.put("modelled_rtt_us", modelledRttMicros);
            root.put("threads_per_compute_node", settings.threads());
            List<Object> perCn = new ArrayList<>();
            for (Map.Entry<Integer, SystemResult> e : aggregate.byComputeNode().entrySet()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("compute_node", e.getKey());
                m.put("operations", e.getValue().operations());
                m.put("throughput_ops_s", e.getValue().throughputOpsPerSec());
                m.put("run_seconds", e.getValue().runNanos() / 1e9);
                m.put("verbs_per_op", e.getValue().memoryNodes().verbsPerOp());
                perCn.add(m);
            }
            root.put("compute_node_processes", perCn);
            root.put("departed", new ArrayList<>(aggregate.departed()));
            Path parent = json.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), root);
            out.println("results written to " + json);
        }
        return code;
    }

    /** What every compute node of a run must agree on. */
    private String fingerprint(YcsbSettings s) {
        return String.format(Locale.ROOT, "workload %s %s, %d records, %d operations, %d threads, %d-byte keys, %d-byte values,"
                        + " seed %d, lock %s, load %s, %d compute nodes, modelled rtt %d us, locked counter %d, checked %d ops on %d keys under"
                        + " %d locks",
                s.workload(), s.distribution().label(), s.records(), s.operations(), s.threads(), s.keyBytes(), s.valueBytes(),
                s.seed(), s.locks().get(0), load, computeNodes, modelledRttMicros, lockedCounter, checkedOps, checkedKeys,
                counterLocks);
    }

    /** Marks figures taken over a modelled network. */
    private String modelledLabel() {
        return modelledRttMicros > 0 ? " [MODELLED: +" + modelledRttMicros + " us RTT]" : "";
    }

    /** A progress line on stderr (stdout carries the results). */
    private static void note(PrintWriter err, String line) {
        err.println(line);
        err.flush();
    }
}
