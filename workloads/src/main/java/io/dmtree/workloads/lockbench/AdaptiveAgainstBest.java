package io.dmtree.workloads.lockbench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * The adaptive lock against the best fixed design at each contention level of one run: its
 * throughput over the highest throughput of every other design at that level (the goal is at
 * least 0.95 everywhere), with the design that was best. Ratios come from one run, side by side.
 */
public final class AdaptiveAgainstBest {
    public static final String ADAPTIVE = "adaptive";
    public static final double GOAL = 0.95;

    /** One contention level: {@code level} (threads per CN, or clients), the adaptive result, the best fixed one. */
    public record Row(int level, LockBenchResult adaptive, LockBenchResult best) {
        public double ratio() {
            return best.throughputOpsPerSecond() == 0 ? Double.NaN
                    : adaptive.throughputOpsPerSecond() / best.throughputOpsPerSecond();
        }

        public Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("level", level);
            m.put("adaptive_ops_s", adaptive.throughputOpsPerSecond());
            m.put("best_fixed", best.lock());
            m.put("best_fixed_ops_s", best.throughputOpsPerSecond());
            m.put("adaptive_vs_best", ratio());
            m.put("adaptive_mn_verbs_per_op", adaptive.mnVerbsPerOp());
            m.put("best_fixed_mn_verbs_per_op", best.mnVerbsPerOp());
            return m;
        }
    }

    private AdaptiveAgainstBest() {
    }

    /**
     * One row per level (in the order of {@code levels}) at which both {@code adaptive} and at least
     * one other design ran; none when {@code adaptive} did not run.
     */
    public static List<Row> compare(List<LockBenchResult> results, List<Integer> levels,
                                    ToIntFunction<LockBenchResult> levelOf) {
        List<Row> rows = new ArrayList<>();
        for (int level : levels) {
            LockBenchResult a = null;
            LockBenchResult best = null;
            for (LockBenchResult r : results) {
                if (levelOf.applyAsInt(r) != level) {
                    continue;
                }
                if (r.lock().equals(ADAPTIVE)) {
                    a = r;
                } else if (best == null || r.throughputOpsPerSecond() > best.throughputOpsPerSecond()) {
                    best = r;
                }
            }
            if (a != null && best != null) {
                rows.add(new Row(level, a, best));
            }
        }
        return rows;
    }

    /** Prints the rows under {@code title}, with the lowest ratio and whether the goal held. */
    public static void print(PrintStream out, String title, String levelName, List<Row> rows) {
        if (rows.isEmpty()) {
            return;
        }
        out.println();
        out.println("adaptive against the best fixed design at each level, " + title + "  (goal: >= " + GOAL + "x everywhere)");
        out.printf("%-10s %14s %-17s %14s %12s %14s%n", levelName, "adaptive ops/s", "best fixed", "best ops/s",
                "adaptive/best", "verbs/op a|b");
        double worst = Double.POSITIVE_INFINITY;
        for (Row r : rows) {
            worst = Math.min(worst, r.ratio());
            out.printf(Locale.ROOT, "%-10d %,14.0f %-17s %,14.0f %11.2fx %6.2f|%-6.2f%n", r.level(),
                    r.adaptive().throughputOpsPerSecond(), r.best().lock(), r.best().throughputOpsPerSecond(), r.ratio(),
                    r.adaptive().mnVerbsPerOp(), r.best().mnVerbsPerOp());
        }
        out.printf(Locale.ROOT, "lowest adaptive/best: %.2fx (%s)%n", worst, worst >= GOAL ? "goal met" : "goal missed");
    }
}
