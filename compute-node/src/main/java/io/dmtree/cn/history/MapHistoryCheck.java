package io.dmtree.cn.history;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks a history of whole-map operations for linearizability: point, conditional and
 * read-modify-write operations on a few keys together with navigation ({@code ceiling},
 * {@code floor}, {@code higher}, {@code lower}, {@code first}, {@code last}), which read the order
 * of several keys at once and so cannot be checked key by key as {@link HistoryCheck} does.
 *
 * <p>The map is a small <em>domain</em> of keys that the history changes, over a fixed background
 * of keys no operation changes (they answer navigation that passes the domain). The search is
 * Wing and Gong's, memoized on (operations placed, domain state) as Lowe's: find a sequential order
 * that respects real time (an operation that responded before another was invoked comes first)
 * in which every operation returns what it returned. Every operation must have completed; at most
 * 63 operations per history. Values and results are {@code long}s, {@link #ABSENT} for none.
 */
public final class MapHistoryCheck {
    public static final long ABSENT = Long.MIN_VALUE;
    private static final int MAX_OPERATIONS = 63;

    /** What an operation does and returns (see {@link Op}). */
    public enum Kind {
        /** result: the value or ABSENT. */
        GET,
        PUT,
        /** flag: whether it removed something. */
        DELETE,
        /** result: the previous value, or ABSENT when it put. */
        PUT_IF_ABSENT,
        /** result: the previous value or ABSENT. */
        GET_AND_PUT,
        /** result: the previous value or ABSENT. */
        GET_AND_DELETE,
        /** result: the previous value, or ABSENT when nothing was put. */
        REPLACE,
        /** value replaces expected; flag: whether it did. */
        COMPARE_AND_SET,
        /** flag: whether the key held expected and was removed. */
        COMPARE_AND_DELETE,
        /** absent becomes value, present v becomes v + 1; result: the new value. */
        COMPUTE_INCREMENT,
        /** resultKey/result: the entry found, or resultKey ABSENT. */
        CEILING, HIGHER, FLOOR, LOWER, FIRST, LAST
    }

    /**
     * One completed operation: {@code key} and {@code value}/{@code expected} are its arguments;
     * {@code resultKey}, {@code result} and {@code flag} what it returned (as the {@link Kind} says).
     */
    public record Op(int process, Kind kind, long key, long value, long expected, long resultKey, long result, boolean flag,
                     long invoke, long response) {
        @Override
        public String toString() {
            return "p" + process + " " + kind + "(" + (kind == Kind.FIRST || kind == Kind.LAST ? "" : key)
                    + (kind == Kind.COMPARE_AND_SET || kind == Kind.COMPARE_AND_DELETE ? ", " + expected : "")
                    + (writesValue(kind) ? ", " + value : "") + ")=" + shown(this) + " [" + invoke + ", " + response + "]";
        }
    }

    private final long[] domain;
    private final NavigableMap<Long, Long> background;

    /**
     * @param domain     the keys the history may change
     * @param background keys (outside the domain) and values that stay as they are throughout
     */
    public MapHistoryCheck(long[] domain, Map<Long, Long> background) {
        this.domain = domain.clone();
        Arrays.sort(this.domain);
        for (int i = 1; i < this.domain.length; i++) {
            if (this.domain[i] == this.domain[i - 1]) {
                throw new IllegalArgumentException("domain key " + this.domain[i] + " given twice");
            }
        }
        this.background = new TreeMap<>(background);
        for (long k : this.domain) {
            if (this.background.containsKey(k)) {
                throw new IllegalArgumentException("key " + k + " is both in the domain and in the background");
            }
        }
    }

    /**
     * Null when {@code history}, from {@code initial} (the domain's values, ABSENT for none, in the
     * order of the domain as given sorted ascending), is linearizable; else a description of it.
     */
    public String violation(List<Op> history, long[] initial) {
        if (history.size() > MAX_OPERATIONS) {
            throw new IllegalArgumentException("at most " + MAX_OPERATIONS + " operations per history: " + history.size());
        }
        if (initial.length != domain.length) {
            throw new IllegalArgumentException("initial state has " + initial.length + " values for " + domain.length + " keys");
        }
        Op[] ops = history.toArray(new Op[0]);
        Arrays.sort(ops, (x, y) -> Long.compare(x.invoke(), y.invoke()));
        for (Op op : ops) {
            if (op.kind() != Kind.FIRST && op.kind() != Kind.LAST && !isNavigation(op.kind()) && index(op.key()) < 0) {
                throw new IllegalArgumentException("operation on key " + op.key() + " outside the domain: " + op);
            }
        }
        long all = ops.length == 64 ? -1L : (1L << ops.length) - 1;
        if (search(ops, all, 0L, initial.clone(), new HashSet<>())) {
            return null;
        }
        StringBuilder b = new StringBuilder("not linearizable from ").append(describe(initial)).append(':');
        for (Op op : ops) {
            b.append("\n  ").append(op);
        }
        return b.toString();
    }

    private boolean search(Op[] ops, long all, long done, long[] state, Set<String> seen) {
        if (done == all) {
            return true;
        }
        if (!seen.add(done + ":" + Arrays.toString(state))) {
            return false;
        }
        long minResponse = Long.MAX_VALUE;
        for (int i = 0; i < ops.length; i++) {
            if ((done & (1L << i)) == 0) {
                minResponse = Math.min(minResponse, ops[i].response());
            }
        }
        for (int i = 0; i < ops.length; i++) {
            if ((done & (1L << i)) != 0 || ops[i].invoke() > minResponse) {
                continue;
            }
            long[] next = apply(ops[i], state);
            if (next != null && search(ops, all, done | (1L << i), next, seen)) {
                return true;
            }
        }
        return false;
    }

    /** The state after {@code op}, or null when {@code op} could not have returned what it did from {@code state}. */
    private long[] apply(Op op, long[] state) {
        if (isNavigation(op.kind())) {
            long[] found = navigate(op, state);
            return found[0] == op.resultKey() && (found[0] == ABSENT || found[1] == op.result()) ? state : null;
        }
        int i = index(op.key());
        long current = state[i];
        boolean present = current != ABSENT;
        long after;
        switch (op.kind()) {
            case GET -> {
                return current == op.result() ? state : null;
            }
            case PUT -> after = op.value();
            case DELETE -> {
                if (op.flag() != present) {
                    return null;
                }
                after = ABSENT;
            }
            case PUT_IF_ABSENT -> {
                if (op.result() != current) {
                    return null;
                }
                after = present ? current : op.value();
            }
            case GET_AND_PUT -> {
                if (op.result() != current) {
                    return null;
                }
                after = op.value();
            }
            case GET_AND_DELETE -> {
                if (op.result() != current) {
                    return null;
                }
                after = ABSENT;
            }
            case REPLACE -> {
                if (op.result() != current) {
                    return null;
                }
                after = present ? op.value() : ABSENT;
            }
            case COMPARE_AND_SET -> {
                boolean holds = present && current == op.expected();
                if (op.flag() != holds) {
                    return null;
                }
                after = holds ? op.value() : current;
            }
            case COMPARE_AND_DELETE -> {
                boolean holds = present && current == op.expected();
                if (op.flag() != holds) {
                    return null;
                }
                after = holds ? ABSENT : current;
            }
            case COMPUTE_INCREMENT -> {
                after = present ? current + 1 : op.value();
                if (op.result() != after) {
                    return null;
                }
            }
            default -> throw new IllegalStateException("unknown kind " + op.kind());
        }
        if (after == current) {
            return state;
        }
        long[] next = state.clone();
        next[i] = after;
        return next;
    }

    /** {key, value} of the entry a navigation finds in {@code state} plus the background; key ABSENT for none. */
    private long[] navigate(Op op, long[] state) {
        long bestKey = ABSENT;
        long bestValue = 0;
        boolean up = op.kind() == Kind.CEILING || op.kind() == Kind.HIGHER || op.kind() == Kind.FIRST;
        for (int i = 0; i < domain.length; i++) {
            if (state[i] == ABSENT || !qualifies(op, domain[i])) {
                continue;
            }
            if (bestKey == ABSENT || (up ? domain[i] < bestKey : domain[i] > bestKey)) {
                bestKey = domain[i];
                bestValue = state[i];
            }
        }
        Map.Entry<Long, Long> e = switch (op.kind()) {
            case CEILING -> background.ceilingEntry(op.key());
            case HIGHER -> background.higherEntry(op.key());
            case FLOOR -> background.floorEntry(op.key());
            case LOWER -> background.lowerEntry(op.key());
            case FIRST -> background.firstEntry();
            case LAST -> background.lastEntry();
            default -> throw new IllegalStateException();
        };
        if (e != null && (bestKey == ABSENT || (up ? e.getKey() < bestKey : e.getKey() > bestKey))) {
            bestKey = e.getKey();
            bestValue = e.getValue();
        }
        return new long[] {bestKey, bestValue};
    }

    private static boolean qualifies(Op op, long k) {
        return switch (op.kind()) {
            case CEILING -> k >= op.key();
            case HIGHER -> k > op.key();
            case FLOOR -> k <= op.key();
            case LOWER -> k < op.key();
            case FIRST, LAST -> true;
            default -> false;
        };
    }

    private static boolean isNavigation(Kind kind) {
        return switch (kind) {
            case CEILING, HIGHER, FLOOR, LOWER, FIRST, LAST -> true;
            default -> false;
        };
    }

    private static boolean writesValue(Kind kind) {
        return switch (kind) {
            case PUT, PUT_IF_ABSENT, GET_AND_PUT, REPLACE, COMPARE_AND_SET, COMPUTE_INCREMENT -> true;
            default -> false;
        };
    }

    private static String shown(Op op) {
        if (isNavigation(op.kind())) {
            return op.resultKey() == ABSENT ? "none" : op.resultKey() + "->" + op.result();
        }
        return switch (op.kind()) {
            case PUT -> "ok";
            case DELETE, COMPARE_AND_SET, COMPARE_AND_DELETE -> Boolean.toString(op.flag());
            default -> op.result() == ABSENT ? "absent" : Long.toString(op.result());
        };
    }

    private int index(long key) {
        int i = Arrays.binarySearch(domain, key);
        return i >= 0 ? i : -1;
    }

    private String describe(long[] state) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < domain.length; i++) {
            parts.add(domain[i] + "=" + (state[i] == ABSENT ? "absent" : Long.toString(state[i])));
        }
        return "{" + String.join(", ", parts) + "}";
    }
}
