package io.dmtree.cn;

/** Seeds for randomized tests: {@code -Ddmtree.seed=N} replays a run; otherwise a fresh seed, printed. */
final class Seeds {
    private Seeds() {
    }

    static long seed(String test) {
        String fixed = System.getProperty("dmtree.seed");
        long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime() ^ Thread.currentThread().getId() * 0x9E3779B97F4A7C15L;
        System.out.println(test + " seed=" + seed + " (replay with -Ddmtree.seed=" + seed + ")");
        return seed;
    }

    /** Scales time budgets: {@code -Ddmtree.stress.scale=10} runs ten times longer. */
    static double scale() {
        return Double.parseDouble(System.getProperty("dmtree.stress.scale", "1"));
    }
}
