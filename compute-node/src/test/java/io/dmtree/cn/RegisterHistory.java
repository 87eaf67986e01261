package io.dmtree.cn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A concurrent history of get/put/delete on the keys of a map, and two checks against the
 * sequential model of a map:
 * <ul>
 *   <li>{@link #linearizabilityViolations()}: exact, per key (linearizability is local, so a map
 *   history is linearizable iff each key's sub-history is). A depth-first search for a legal
 *   sequential order that respects real time, memoized on (linearized set, value) as Wing-Gong-Lowe
 *   do. For small per-key histories.</li>
 *   <li>{@link #regularityViolations()}: necessary conditions that scale to long histories: every
 *   read returns the initial value or that of a write that began before the read ended and was not
 *   superseded by a write that finished before the read began; the final value is that of a write
 *   that no other write strictly follows.</li>
 * </ul>
 * Written values must be unique per key. Absent is value {@code ABSENT}.
 */
final class RegisterHistory {
    static final long ABSENT = Long.MIN_VALUE;

    enum Kind { GET, PUT, DELETE }

    record Op(long key, Kind kind, long value, long invoke, long response) {
        boolean isWrite() {
            return kind != Kind.GET;
        }

        /** The register value after this op, for writes. */
        long written() {
            return kind == Kind.PUT ? value : ABSENT;
        }
    }

    private final Map<Long, Long> initial;
    private final List<Op> ops = new ArrayList<>();

    RegisterHistory(Map<Long, Long> initial) {
        this.initial = initial;
    }

    synchronized void add(List<Op> threadOps) {
        ops.addAll(threadOps);
    }

    /** One op per distinct key, to enumerate the keys touched. */
    List<Op> opsKeys() {
        List<Op> out = new ArrayList<>();
        for (List<Op> h : byKey().values()) {
            out.add(h.get(0));
        }
        return out;
    }

    int size() {
        return ops.size();
    }

    private Map<Long, List<Op>> byKey() {
        Map<Long, List<Op>> m = new HashMap<>();
        for (Op op : ops) {
            m.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        }
        return m;
    }

    private long initialOf(long key) {
        return initial.getOrDefault(key, ABSENT);
    }

    List<String> linearizabilityViolations() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<Long, List<Op>> e : byKey().entrySet()) {
            List<Op> h = e.getValue();
            if (h.size() > 62) {
                throw new IllegalArgumentException("per-key history too long for the exact check: " + h.size());
            }
            if (!linearizable(h, initialOf(e.getKey()))) {
                out.add("key " + e.getKey() + " is not linearizable: " + h);
            }
        }
        return out;
    }

    private static boolean linearizable(List<Op> h, long initialValue) {
        Op[] a = h.toArray(new Op[0]);
        Arrays.sort(a, (x, y) -> Long.compare(x.invoke(), y.invoke()));
        return search(a, 0L, initialValue, new java.util.HashSet<>());
    }

    private static boolean search(Op[] a, long done, long value, java.util.Set<String> seen) {
        if (Long.bitCount(done) == a.length) {
            return true;
        }
        if (!seen.add(done + ":" + value)) {
            return false;
        }
        // earliest response among pending ops: a candidate must have been invoked before it
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
            Op op = a[i];
            long next;
            if (op.isWrite()) {
                next = op.written();
            } else {
                if (op.value() != value) {
                    continue;
                }
                next = value;
            }
            if (search(a, done | (1L << i), next, seen)) {
                return true;
            }
        }
        return false;
    }

    /** Checks reads and, when {@code finalValues} is given, the state after the history. */
    List<String> regularityViolations(Map<Long, Long> finalValues) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<Long, List<Op>> e : byKey().entrySet()) {
            long key = e.getKey();
            List<Op> writes = new ArrayList<>();
            for (Op op : e.getValue()) {
                if (op.isWrite()) {
                    writes.add(op);
                }
            }
            for (Op read : e.getValue()) {
                if (read.isWrite()) {
                    continue;
                }
                if (!readPossible(key, read.value(), read.invoke(), read.response(), writes)) {
                    out.add("key " + key + ": read returned " + show(read.value()) + " during ["
                            + read.invoke() + ", " + read.response() + "], impossible given writes " + writes);
                }
            }
            if (finalValues != null) {
                long end = Long.MAX_VALUE;
                if (!readPossible(key, finalValues.getOrDefault(key, ABSENT), end - 1, end, writes)) {
                    out.add("key " + key + ": final value " + show(finalValues.getOrDefault(key, ABSENT))
                            + " is not the value of a last write among " + writes);
                }
            }
        }
        return out;
    }

    List<String> regularityViolations() {
        return regularityViolations(null);
    }

    private boolean readPossible(long key, long got, long invoke, long response, List<Op> writes) {
        // candidates: the initial value (if no write finished before the read began) or a write
        boolean someWriteFinishedBefore = false;
        for (Op w : writes) {
            if (w.response() < invoke) {
                someWriteFinishedBefore = true;
                break;
            }
        }
        if (!someWriteFinishedBefore && got == initialOf(key)) {
            return true;
        }
        for (Op w : writes) {
            if (w.written() != got || w.invoke() > response) {
                continue;
            }
            boolean superseded = false;
            for (Op w2 : writes) {
                if (w2 != w && w2.invoke() > w.response() && w2.response() < invoke) {
                    superseded = true;
                    break;
                }
            }
            if (!superseded) {
                return true;
            }
        }
        return false;
    }

    private static String show(long v) {
        return v == ABSENT ? "absent" : Long.toString(v);
    }
}
