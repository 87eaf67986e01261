package io.dmtree.cn.crash;

import io.dmtree.core.lock.RecoveryReport;
import io.dmtree.core.tree.RepairReport;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a crash-point sweep found.
 *
 * @param trials           trials run
 * @param failures         trials in which a check failed
 * @param firstFailures    descriptions of the first failures (each names its crash point and seed)
 * @param trialsByScenario trials per scenario: [all, torn-WRITE crash points among them, queued crashes among them]
 * @param trialsByDesign   trials per lock design, in the order swept
 * @param replayed         redo records replayed over all trials (write-backs cut short)
 * @param discarded        torn redo records found and discarded (write-backs that never began)
 * @param intents          split intents completed (stale ones included)
 * @param visible          passed trials whose crashed operation ended up wholly visible (the rest: wholly absent)
 * @param holdsReleased    holds of the stopped compute node its design's recovery released, over all trials
 * @param waitsRemoved     queued requests of the stopped compute node removed or passed on, over all trials
 * @param locksReset       locks returned to their initial state by drain-and-reset recoveries, over all trials
 * @param locksTaken       locks the stopped compute node had touched that a live one then took and released
 * @param lockRecoveryNanos time spent in the designs' lock recoveries, over all trials
 * @param rounds           rounds begun (each a fresh history per design and memory-node count)
 * @param firstRoundTrials trials in the first round's cells: a sweep of at least this many tries every crash point of them
 * @param elapsedNanos     wall time of the sweep
 * @param mergesFinished   merges node repair finished (survivor written, right node not yet marked removed)
 */
public record CrashSweepResult(long trials, long failures, List<String> firstFailures,
                               Map<CrashScenario, long[]> trialsByScenario, Map<String, Long> trialsByDesign,
                               long replayed, long discarded, long intents, long visible, long holdsReleased,
                               long waitsRemoved, long locksReset, long locksTaken, long lockRecoveryNanos,
                               long rounds, long firstRoundTrials, long elapsedNanos, long mergesFinished) {

    public boolean passed() {
        return failures == 0;
    }

    /** Trials that crashed compute node 0 while it was queued behind another compute node's hold. */
    public long queued() {
        long n = 0;
        for (long[] c : trialsByScenario.values()) {
            n += c[2];
        }
        return n;
    }

    static final class Builder {
        private long trials;
        private long failures;
        private final List<String> firstFailures = new ArrayList<>();
        private final Map<CrashScenario, long[]> byScenario = new EnumMap<>(CrashScenario.class);
        private final Map<String, Long> byDesign = new LinkedHashMap<>();
        private long replayed;
        private long discarded;
        private long intents;
        private long mergesFinished;
        private long visible;
        private long holdsReleased;
        private long waitsRemoved;
        private long locksReset;
        private long locksTaken;
        private long lockRecoveryNanos;
        private long stuck;
        private long rounds;
        private long firstRoundTrials;

        Builder(List<String> designs) {
            for (CrashScenario s : CrashScenario.values()) {
                byScenario.put(s, new long[3]);
            }
            for (String d : designs) {
                byDesign.put(d, 0L);
            }
        }

        long trials() {
            return trials;
        }

        long failures() {
            return failures;
        }

        void trial(String design, CrashScenario scenario, CrashSweep.Crash crash) {
            trials++;
            byDesign.merge(design, 1L, Long::sum);
            long[] counts = byScenario.get(scenario);
            counts[0]++;
            if (crash == CrashSweep.Crash.TORN) {
                counts[1]++;
            } else if (crash == CrashSweep.Crash.QUEUED) {
                counts[2]++;
            }
        }

        void round(long trialsInRound) {
            if (rounds++ == 0) {
                firstRoundTrials = trialsInRound;
            }
        }

        long stuck() {
            return stuck;
        }

        /** A trial left a thread stuck (it keeps its memory nodes mapped). */
        void stuckTrial() {
            stuck++;
        }

        void failure(String description, int keep) {
            failures++;
            if (firstFailures.size() < keep) {
                firstFailures.add(description);
            }
        }

        void recovered(RepairReport report, boolean wasVisible, RecoveryReport locks, int taken) {
            if (report != null) {
                replayed += report.replayed();
                discarded += report.discarded();
                intents += report.pending().size();
                mergesFinished += report.mergesFinished();
            }
            if (wasVisible) {
                visible++;
            }
            if (locks != null) {
                holdsReleased += locks.holdsReleased();
                waitsRemoved += locks.waitsRemoved();
                locksReset += locks.locksReset();
                lockRecoveryNanos += locks.nanos();
            }
            locksTaken += taken;
        }

        CrashSweepResult build(long elapsedNanos) {
            Map<CrashScenario, long[]> copy = new EnumMap<>(CrashScenario.class);
            byScenario.forEach((s, c) -> copy.put(s, c.clone()));
            return new CrashSweepResult(trials, failures, List.copyOf(firstFailures), Collections.unmodifiableMap(copy),
                    Collections.unmodifiableMap(new LinkedHashMap<>(byDesign)), replayed, discarded, intents, visible,
                    holdsReleased, waitsRemoved, locksReset, locksTaken, lockRecoveryNanos, rounds, firstRoundTrials,
                    elapsedNanos, mergesFinished);
        }
    }
}
