package io.dmtree.workloads.cli;

import io.dmtree.lock.LockDesigns;
import io.dmtree.workloads.kv.Peer;
import io.dmtree.workloads.report.JsonReport;
import io.dmtree.workloads.report.ResultTable;
import io.dmtree.workloads.ycsb.OperationStream;
import io.dmtree.workloads.ycsb.YcsbReport;
import io.dmtree.core.nic.NicModelConfig;
import io.dmtree.workloads.lockbench.LockBenchCommand;
import io.dmtree.workloads.ycsb.YcsbRunner;
import io.dmtree.workloads.ycsb.YcsbSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code dmtree ycsb}: a YCSB core workload on dmtree and its peers, side by side. */
@Command(name = "ycsb", sortOptions = false, mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {
                "Runs a YCSB core workload on dmtree and its peers, side by side.",
                "Load phase, then run phase, on the embedded dmtree cluster and on each peer,"
                        + " one after another, on one pre-drawn operation stream, and prints throughput, dmtree/peer ratios,"
                        + " latency percentiles per operation type and dmtree's memory node traffic per operation.",
                "Workloads: A 50/50 read/update; B 95/5 read/update; C read only; D 95/5 read/insert, latest;"
                        + " E 95/5 scan/insert, scans of 1..100; F 50/50 read/read-modify-write."})
public final class YcsbCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    WorkloadOptions options = new WorkloadOptions();

    @Option(names = "--cns", defaultValue = "1", description = "dmtree compute nodes; thread t uses node t mod cns")
    int computeNodes;

    @Option(names = "--mns", defaultValue = "1", description = "dmtree memory nodes")
    int memoryNodes;

    @Mixin
    WorkloadOptions.WidthOptions widths = new WorkloadOptions.WidthOptions();

    @Option(names = "--peers", defaultValue = "csl,lmdb", paramLabel = "LIST",
            description = "peers to run side by side: a comma list of csl, lmdb; or none")
    String peers;

    @Option(names = "--lock", paramLabel = "NAME",
            description = "dmtree lock design, or 'all' for one dmtree run per registered design (default: ${DEFAULT-VALUE})")
    String lock = LockDesigns.defaultName();

    @Option(names = "--slices", defaultValue = "10", paramLabel = "N",
            description = "cut the run phase into N slices and let the systems take turns slice by slice, so a change in"
                    + " background load hits all alike; 1 runs each system's whole run phase in one go (1..1000)")
    int slices;

    @Option(names = "--no-dmtree", description = "run the peers only")
    boolean noDmtree;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the results to FILE as JSON")
    Path json;

    @Option(names = "--nic", description = "run dmtree's verbs and messages through the modelled memory-node NIC"
            + " (dmtree's figures are then modelled; see --nic-option)")
    boolean nicModel;

    @Option(names = "--nic-option", paramLabel = "KEY=VALUE",
            description = "a modelled-NIC parameter (implies --nic): dilation, rtt-us, message-us, loopback-us, rw-mops,"
                    + " atomic-mops, same-address-mops, gbytes, units, atomic-hol, local-us, spin-us")
    List<String> nicOptions;

    /** Checks every option; a violation is a usage error. */
    YcsbSettings settings() {
        options.checkHead(spec);
        OptionChecks.inRange(spec, "--cns", computeNodes, 1, 64);
        OptionChecks.inRange(spec, "--mns", memoryNodes, 1, 64);
        OptionChecks.inRange(spec, "--slices", slices, 1, 1000);
        List<Peer> peerList;
        try {
            peerList = Peer.parseList(peers);
        } catch (IllegalArgumentException e) {
            throw OptionChecks.usage(spec, "--peers: " + e.getMessage());
        }
        List<String> locks = lockList();
        if (noDmtree) {
            locks = List.of();
        }
        return options.settings(spec, widths, computeNodes, memoryNodes, locks, peerList, slices);
    }

    private List<String> lockList() {
        String name = lock == null ? "" : lock.trim();
        if (name.equalsIgnoreCase("all")) {
            return LockDesigns.names();
        }
        if (!LockDesigns.names().contains(name)) {
            throw OptionChecks.usage(spec, "unknown lock design '" + lock + "'; known: "
                    + String.join(", ", LockDesigns.names()) + ", or all");
        }
        return List.of(name);
    }

    @Override
    public Integer call() throws Exception {
        YcsbSettings settings = settings();
        NicModelConfig nic;
        try {
            nic = LockBenchCommand.nicConfig(nicModel, nicOptions);
        } catch (IllegalArgumentException e) {
            throw OptionChecks.usage(spec, e.getMessage());
        }
        OperationStream stream = WorkloadOptions.stream(spec, settings);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean terminal = System.console() != null;
        YcsbReport report = new YcsbRunner(settings, line -> {
            if (terminal) {
                err.println(line);
                err.flush();
            }
        }).withNicModel(nic).run(stream);
        if (nic != null) {
            ResultTable.print(report, out, "dmtree's figures are " + nic.describe() + "; compare ratios, not absolute times");
        } else {
            ResultTable.print(report, out);
        }
        if (json != null) {
            JsonReport.write(report, json);
            out.println("results written to " + json);
        }
        out.flush();
        return 0;
    }
}
