package io.dmtree.workloads.lockbench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dmtree.core.lock.LockDesign;
import io.dmtree.lock.LockDesigns;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code dmtree lockbench recovery}: how long the locks of a compute node that stops stay
 * unavailable, per design. Each trial stops a compute node that holds N locks with a live waiter
 * queued on each, and runs the design's recovery on a live member at once; a sample is the time
 * from the stop (fenced and reported departed) to the grant of one held lock to its waiter. Prints
 * p50 and p99 per design and N, and the mean duration of the recovery call.
 */
@Command(name = "recovery", sortOptions = false, mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Recovery time per lock design: from the stop of a compute node holding N locks (each with"
                + " a live waiter queued) to the next grant of each; the lease that detects the stop is not included."})
public final class LockRecoveryCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--designs", split = ",", description = "lock designs to run (default: all: ${COMPLETION-CANDIDATES})",
            completionCandidates = LockBenchCommand.DesignNames.class)
    List<String> designs;

    @Option(names = "--held", split = ",", defaultValue = "1,10,100", description = "locks the stopped compute node holds")
    List<Integer> held;

    @Option(names = "--samples", defaultValue = "100",
            description = "at least this many samples per design and N (trials = samples / N, rounded up)")
    int samples;

    @Option(names = "--modelled-rtt-us", defaultValue = "0",
            description = "modelled MN round trip in microseconds (0: none); the figures are then modelled")
    double modelledRttMicros;

    @Option(names = "--json", description = "write the results as JSON to this file")
    Path json;

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    @Override
    public Integer call() throws Exception {
        List<LockDesign> chosen = LockBenchCommand.chosenDesigns(spec, designs);
        for (int h : held) {
            if (h < 1 || h > 1000) {
                throw bad("--held values must be in [1, 1000]: " + h);
            }
        }
        if (samples < 1 || samples > 1_000_000) {
            throw bad("--samples must be in [1, 1000000]: " + samples);
        }
        if (!(modelledRttMicros >= 0)) {
            throw bad("--modelled-rtt-us must not be negative: " + modelledRttMicros);
        }
        PrintStream out = System.out;
        String modelled = modelledRttMicros > 0
                ? String.format(Locale.ROOT, " (MODELLED: every MN round trip parks %.1f us)", modelledRttMicros) : "";
        out.printf(Locale.ROOT, "lock recovery: 1 MN, 3 CNs (CN 2 stops, CN 0 recovers), held %s, >= %d samples%s%n",
                held, samples, modelled);
        List<LockRecoveryRun.Summary> results = new ArrayList<>();
        for (LockDesign d : chosen) {
            for (int h : held) {
                LockRecoveryRun.Summary s = LockRecoveryRun.measure(d, h, samples, (long) (modelledRttMicros * 1e3));
                results.add(s);
                out.printf(Locale.ROOT, "  %-17s held %4d: %6d samples (%4d trials)  p50 %10.1f us  p99 %10.1f us"
                                + "  max %10.1f us  recovery call %10.1f us%n", s.design(), s.held(), s.samples(),
                        s.trials(), s.p50Micros(), s.p99Micros(), s.maxMicros(), s.meanRecoveryCallMicros());
            }
        }
        out.println();
        out.println("Recovery time, stop to next grant" + modelled);
        out.printf("%-17s %6s %8s %12s %12s %12s %16s%n", "design", "held", "samples", "p50 us", "p99 us", "max us",
                "recover() us");
        for (LockRecoveryRun.Summary s : results) {
            out.printf(Locale.ROOT, "%-17s %6d %8d %12.1f %12.1f %12.1f %16.1f%n", s.design(), s.held(), s.samples(),
                    s.p50Micros(), s.p99Micros(), s.maxMicros(), s.meanRecoveryCallMicros());
        }
        if (json != null) {
            writeJson(results);
            out.println("json: " + json.toAbsolutePath());
        }
        return 0;
    }

    private void writeJson(List<LockRecoveryRun.Summary> results) throws java.io.IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("held", held);
        config.put("samples", samples);
        config.put("modelled_rtt_us", modelledRttMicros);
        doc.put("config", config);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (LockRecoveryRun.Summary s : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("lock", s.design());
            row.put("held", s.held());
            row.put("samples", s.samples());
            row.put("trials", s.trials());
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("p50", s.p50Micros());
            t.put("p99", s.p99Micros());
            t.put("max", s.maxMicros());
            row.put("recovery_us", t);
            row.put("recover_call_mean_us", s.meanRecoveryCallMicros());
            rows.add(row);
        }
        doc.put("results", rows);
        if (json.getParent() != null) {
            Files.createDirectories(json.getParent());
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
    }
}
