package io.dmtree.cn.crash;

import io.dmtree.core.tree.RepairReport;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What a crash-point sweep found.
 *
 * @param trials           trials run
 * @param failures         trials in which a check failed
 * @param firstFailures    descriptions of the first failures (each names its crash point and seed)
 * @param trialsByScenario trials per scenario: [all, torn-WRITE crash points among them]
 * @param replayed         redo records replayed over all trials (write-backs cut short)
 * @param discarded        torn redo records found and discarded (write-backs that never began)
 * @param intents          split intents completed (stale ones included)
 * @param visible          trials whose crashed operation ended up wholly visible (the rest: wholly absent)
 * @param elapsedNanos     wall time of the sweep
 */
public record CrashSweepResult(long trials, long failures, List<String> firstFailures,
                               Map<CrashScenario, long[]> trialsByScenario, long replayed, long discarded, long intents,
                               long visible, long elapsedNanos) {

    public boolean passed() {
        return failures == 0;
    }

    static final class Builder {
        private long trials;
        private long failures;
        private final List<String> firstFailures = new ArrayList<>();
        private final Map<CrashScenario, long[]> byScenario = new EnumMap<>(CrashScenario.class);
        private long replayed;
        private long discarded;
        private long intents;
        private long visible;

        Builder() {
            for (CrashScenario s : CrashScenario.values()) {
                byScenario.put(s, new long[2]);
            }
        }

        long trials() {
            return trials;
        }

        long failures() {
            return failures;
        }

        void trial(CrashScenario scenario, boolean torn) {
            trials++;
            long[] counts = byScenario.get(scenario);
            counts[0]++;
            if (torn) {
                counts[1]++;
            }
        }

        void failure(String description, int keep) {
            failures++;
            if (firstFailures.size() < keep) {
                firstFailures.add(description);
            }
        }

        void recovered(RepairReport report, boolean wasVisible) {
            if (report != null) {
                replayed += report.replayed();
                discarded += report.discarded();
                intents += report.pending().size();
            }
            if (wasVisible) {
                visible++;
            }
        }

        CrashSweepResult build(long elapsedNanos) {
            Map<CrashScenario, long[]> copy = new EnumMap<>(CrashScenario.class);
            byScenario.forEach((s, c) -> copy.put(s, c.clone()));
            return new CrashSweepResult(trials, failures, List.copyOf(firstFailures), Collections.unmodifiableMap(copy),
                    replayed, discarded, intents, visible, elapsedNanos);
        }
    }
}
