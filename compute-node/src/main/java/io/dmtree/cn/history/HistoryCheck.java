package io.dmtree.cn.history;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Checks the acknowledged histories of the compute nodes of one round ({@link HistoryFile}) against
 * a map whose keys start absent, and the locked counters against the increments acknowledged.
 *
 * <h2>Linearizability per key</h2>
 * A map history is linearizable exactly when each key's sub-history is (linearizability is
 * local), so each key is checked on its own: a depth-first search for a sequential order of the
 * key's operations that respects real time (an operation that responded before another was
 * invoked comes first) and the register's semantics, memoized on (operations placed, value) as
 * Wing and Gong, and Lowe, do. Every completed operation must be placed; a pending write (no
 * response: its node died or was fenced) may be placed anywhere after its invocation, or nowhere
 * (it may never have taken effect); a pending read is dropped. The final values, when a file has
 * them, are a read after everything. Written values are unique per key, so which write a read saw
 * is known. Keys with more than {@value #EXACT_LIMIT} operations are checked for the necessary
 * conditions instead (every read returns a value whose write began before the read ended and was
 * not overwritten by a write that ended before the read began).
 *
 * <h2>Fences</h2>
 * {@link #noEffectAfter(int, long)} states that compute node {@code n} was fenced before time
 * {@code t}: its writes invoked after {@code t} must never be seen. They are left out of the
 * history (so a read of one fails the search) and each one seen is named.
 *
 * <h2>Counters</h2>
 * Every locked counter must read at least the increments acknowledged by all nodes and at most
 * that plus one per thread of each node that did not finish (its last increment may have landed
 * on some counters and not others); with every node finished, exactly that.
 */
public final class HistoryCheck {
    static final int EXACT_LIMIT = 60;

    private final List<HistoryFile> files;
    private final Map<Integer, Long> fencedAt = new HashMap<>();

    public HistoryCheck(List<HistoryFile> files) {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no history files");
        }
        this.files = List.copyOf(files);
    }

    /** Compute node {@code computeNode} was fenced before {@code nanos}: nothing it invoked after may show. */
    public HistoryCheck noEffectAfter(int computeNode, long nanos) {
        fencedAt.put(computeNode, nanos);
        return this;
    }

    /** The outcome: counts and violations (empty when the histories pass). */
    public record Result(int operations, int pending, int keys, int exactKeys, int suppressed, List<String> violations) {
        public boolean ok() {
            return violations.isEmpty();
        }

        public String summary() {
            return String.format(Locale.ROOT, "%,d operations (%,d pending) on %,d keys (%,d checked exactly), %,d writes after"
                    + " a fence left out: %s", operations, pending, keys, exactKeys, suppressed,
                    ok() ? "linearizable, counters consistent" : violations.size() + " violation(s)");
        }
    }

    public Result run() {
        List<String> violations = new ArrayList<>();
        List<HistoryFile.Op> kept = new ArrayList<>();
        Map<Long, Long> finals = new HashMap<>();
        Map<String, HistoryFile.Op> suppressedByValue = new HashMap<>();
        int suppressed = 0;
        for (HistoryFile f : files) {
            finals.putAll(f.finals());
            Long fence = fencedAt.get(f.computeNode());
            for (HistoryFile.Op op : f.ops()) {
                if (fence != null && op.invoke() > fence) {
                    if (op.isWrite()) {
                        suppressed++;
                        if (op.kind() == HistoryFile.Kind.PUT) {
                            suppressedByValue.put(op.key() + "=" + written(op), op);
                        }
                    } else if (!op.pending()) {
                        violations.add("compute node " + f.computeNode() + " completed a read of key " + op.key()
                                + " invoked after its fence");
                    }
                    continue;
                }
                kept.add(op);
            }
        }
        for (HistoryFile.Op op : kept) {
            HistoryFile.Op w = op.isWrite() || op.pending() || op.resultAbsent() ? null
                    : suppressedByValue.get(op.key() + "=" + read(op));
            if (w != null) {
                violations.add("key " + op.key() + ": compute node " + op.computeNode() + " read " + read(op)
                        + ", written by compute node " + w.computeNode() + " after its fence");
            }
        }
        for (Map.Entry<Long, Long> e : finals.entrySet()) {
            HistoryFile.Op w = e.getValue() == HistoryFile.ABSENT ? null : suppressedByValue.get(e.getKey() + "=" + e.getValue());
            if (w != null) {
                violations.add("key " + e.getKey() + ": final value " + e.getValue() + " was written by compute node "
                        + w.computeNode() + " after its fence");
            }
        }
        Result r = check(kept, Map.of(), finals, false);
        violations.addAll(r.violations());
        checkCounters(violations);
        int operations = 0;
        int pending = 0;
        for (HistoryFile f : files) {
            for (HistoryFile.Op op : f.ops()) {
                operations++;
                pending += op.pending() ? 1 : 0;
            }
        }
        return new Result(operations, pending, r.keys(), r.exactKeys(), suppressed, violations);
    }

    /**
     * Checks {@code ops} (of any number of threads and nodes) per key as the class comment says:
     * keys start at {@code initial} (absent when not in it) and end at {@code finals} where it names
     * them. With {@code exactOnly}, a key with more than {@value #EXACT_LIMIT} operations is an
     * {@link IllegalArgumentException} instead of the weaker check.
     */
    public static Result check(List<HistoryFile.Op> ops, Map<Long, Long> initial, Map<Long, Long> finals, boolean exactOnly) {
        List<String> violations = new ArrayList<>();
        Map<Long, List<HistoryFile.Op>> byKey = new HashMap<>();
        int pending = 0;
        for (HistoryFile.Op op : ops) {
            if (op.pending()) {
                pending++;
                if (!op.isWrite()) {
                    continue;
                }
            }
            byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        }
        long end = Long.MAX_VALUE - 1;
        int exact = 0;
        for (Map.Entry<Long, List<HistoryFile.Op>> e : byKey.entrySet()) {
            long start = initial.getOrDefault(e.getKey(), HistoryFile.ABSENT);
            List<HistoryFile.Op> h = new ArrayList<>(e.getValue());
            Long fin = finals.get(e.getKey());
            if (fin != null) {
                h.add(new HistoryFile.Op(-1, -1, -1, HistoryFile.Kind.GET, e.getKey(), 0, end, end, fin,
                        fin == HistoryFile.ABSENT));
            }
            if (h.size() <= EXACT_LIMIT) {
                exact++;
                if (!linearizable(h, start)) {
                    violations.add("key " + e.getKey() + " is not linearizable: " + describe(h, start));
                }
            } else if (exactOnly) {
                throw new IllegalArgumentException("key " + e.getKey() + " has " + h.size() + " operations, more than the "
                        + EXACT_LIMIT + " the exact check takes");
            } else {
                violations.addAll(regularity(e.getKey(), h, start));
            }
        }
        return new Result(ops.size(), pending, byKey.size(), exact, 0, violations);
    }

    private void checkCounters(List<String> violations) {
        HistoryFile.Counters c = null;
        long acknowledged = 0;
        long inFlight = 0;
        for (HistoryFile f : files) {
            if (f.counters() != null) {
                c = f.counters();
            }
            acknowledged += f.increments();
            if (!f.done()) {
                inFlight += f.counterThreads();
            }
        }
        if (c == null) {
            return;
        }
        long low = acknowledged;
        long high = acknowledged + inFlight;
        if (c.min() < low || c.max() > high) {
            violations.add(String.format(Locale.ROOT, "locked counters read %,d..%,d over %d words, but %,d increments were"
                    + " acknowledged and at most %,d more were in flight: %s", c.min(), c.max(), c.words(), acknowledged,
                    inFlight, c.min() < low ? "an acknowledged increment was lost" : "holders overlapped"));
        }
    }

    private static long written(HistoryFile.Op op) {
        return op.kind() == HistoryFile.Kind.PUT ? op.value() : HistoryFile.ABSENT;
    }

    private static long read(HistoryFile.Op op) {
        return op.resultAbsent() ? HistoryFile.ABSENT : op.result();
    }

    /** The search of the class comment, for one key; keys start absent. */
    static boolean linearizable(List<HistoryFile.Op> h, long initialValue) {
        HistoryFile.Op[] a = h.toArray(new HistoryFile.Op[0]);
        Arrays.sort(a, (x, y) -> Long.compare(x.invoke(), y.invoke()));
        long mandatory = 0;
        for (int i = 0; i < a.length; i++) {
            if (!a[i].pending()) {
                mandatory |= 1L << i;
            }
        }
        return search(a, mandatory, 0L, initialValue, new HashSet<>());
    }

    private static boolean search(HistoryFile.Op[] a, long mandatory, long done, long value, Set<String> seen) {
        if ((done & mandatory) == mandatory) {
            return true;
        }
        if (!seen.add(done + ":" + value)) {
            return false;
        }
        long minResponse = Long.MAX_VALUE;
        for (int i = 0; i < a.length; i++) {
            if ((done & (1L << i)) == 0) {
                minResponse = Math.min(minResponse, a[i].response());
            }
        }
        for (int i = 0; i < a.length; i++) {
            if ((done & (1L << i)) != 0 || a[i].invoke() > minResponse) {
                continue;
            }
            HistoryFile.Op op = a[i];
            long next;
            if (op.isWrite()) {
                next = written(op);
            } else {
                if (read(op) != value) {
                    continue;
                }
                next = value;
            }
            if (search(a, mandatory, done | (1L << i), next, seen)) {
                return true;
            }
        }
        return false;
    }

    private static List<String> regularity(long key, List<HistoryFile.Op> h, long initialValue) {
        List<HistoryFile.Op> writes = new ArrayList<>();
        for (HistoryFile.Op op : h) {
            if (op.isWrite()) {
                writes.add(op);
            }
        }
        List<String> out = new ArrayList<>();
        for (HistoryFile.Op r : h) {
            if (r.isWrite()) {
                continue;
            }
            if (!readPossible(read(r), r.invoke(), r.response(), writes, initialValue)) {
                out.add("key " + key + ": a read returned " + show(read(r)) + " during [" + r.invoke() + ", " + r.response()
                        + "], which no write allows");
            }
        }
        return out;
    }

    private static boolean readPossible(long got, long invoke, long response, List<HistoryFile.Op> writes,
                                        long initialValue) {
        boolean someWriteBefore = false;
        for (HistoryFile.Op w : writes) {
            if (w.response() < invoke) {
                someWriteBefore = true;
                break;
            }
        }
        if (!someWriteBefore && got == initialValue) {
            return true;
        }
        for (HistoryFile.Op w : writes) {
            if (written(w) != got || w.invoke() > response) {
                continue;
            }
            boolean overwritten = false;
            for (HistoryFile.Op w2 : writes) {
                if (w2 != w && w2.invoke() > w.response() && w2.response() < invoke) {
                    overwritten = true;
                    break;
                }
            }
            if (!overwritten) {
                return true;
            }
        }
        return false;
    }

    private static String describe(List<HistoryFile.Op> h, long initialValue) {
        StringBuilder b = new StringBuilder("from ").append(show(initialValue)).append(": ");
        List<HistoryFile.Op> sorted = new ArrayList<>(h);
        sorted.sort((x, y) -> Long.compare(x.invoke(), y.invoke()));
        for (HistoryFile.Op op : sorted) {
            b.append(b.charAt(b.length() - 2) == ':' ? "" : ", ");
            b.append(op.computeNode() < 0 ? "final" : "cn" + op.computeNode() + "/t" + op.thread()).append(' ')
                    .append(op.kind() == HistoryFile.Kind.GET ? "get=" + show(read(op)) : op.kind() == HistoryFile.Kind.PUT
                            ? "put " + op.value() : "delete");
            b.append(op.pending() ? " (pending)" : "");
        }
        return b.toString();
    }

    private static String show(long v) {
        return v == HistoryFile.ABSENT ? "absent" : Long.toString(v);
    }
}
